package hub_test

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"github.com/parleychat/parley/server/broker"
	"github.com/parleychat/parley/server/hub"
	"github.com/parleychat/parley/server/presence"
	"github.com/parleychat/parley/server/store"
)

// TestReconcileBacksOffWhenIdle: a room without traffic checks the
// store's head less and less often, down to once per ReconcileIdle; a
// message lost by the broker is still delivered within ReconcileIdle,
// and after it the room checks every Reconcile again. Under synctest, so
// the times are exact.
func TestReconcileBacksOffWhenIdle(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		st := openSQLite(t)
		if _, err := st.EnsureRoom(ctx, "general"); err != nil {
			t.Fatal(err)
		}
		const base, idle = time.Second, 8 * time.Second
		h := hub.New(hub.Config{Store: st, Broker: broker.NewMemory(), Presence: presence.NewMemory(), Reconcile: base, ReconcileIdle: idle})
		runHub(t, h)
		synctest.Wait()
		r := &recorder{user: "bob"}
		if err := h.Subscribe(ctx, r, "general", 0); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		before := h.Stats().Reconciles
		// Checks at 1 s (the subscribe was traffic), then 2, 4, 8, 16,
		// 24, … : 10 in 60 s instead of 60.
		time.Sleep(60*time.Second + base/2)
		synctest.Wait()
		if got := h.Stats().Reconciles - before; got != 10 {
			t.Fatalf("an idle room checked the store %d times in 60 s, want 10 (backing off to every %v)", got, idle)
		}
		// A message the broker lost: stored, never published.
		append1 := func(cid string) {
			if _, _, err := st.Append(ctx, store.Message{Room: "general", Author: "ann", Body: "lost", CID: cid}); err != nil {
				t.Fatal(err)
			}
		}
		append1("c1")
		lost := time.Now()
		for len(r.offsets()) == 0 && time.Since(lost) <= idle {
			time.Sleep(100 * time.Millisecond)
			synctest.Wait()
		}
		if got := r.offsets(); !equal(got, []int64{1}) || time.Since(lost) > idle {
			t.Fatalf("%v after the lost publish the idle room delivered %v, want offset 1 within %v", time.Since(lost), got, idle)
		}
		// That was traffic: the next check comes base later.
		append1("c2")
		time.Sleep(base)
		synctest.Wait()
		if got := r.offsets(); !equal(got, []int64{1, 2}) {
			t.Fatalf("after traffic, %v later the room delivered %v, want offsets 1 and 2", base, got)
		}
	})
}
