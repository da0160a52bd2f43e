package hub_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parleychat/parley/server/broker"
	"github.com/parleychat/parley/server/hub"
	"github.com/parleychat/parley/server/presence"
	"github.com/parleychat/parley/server/store"
	"github.com/parleychat/parley/shared/protocol"
	"github.com/parleychat/parley/shared/testenv"
)

// pgEnv runs a hub on a PostgreSQL server of the test's own, which the test
// stops and starts.
func pgEnv(t *testing.T, reconcile time.Duration) (*env, *testenv.PGServer) {
	t.Helper()
	ctx := context.Background()
	srv := testenv.NewPostgres(t)
	_, url, err := srv.CreateDatabase(ctx)
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.OpenPostgres(ctx, url, 4)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return newEnvOn(t, st, reconcile), srv
}

// failures is a check for Eventually: the hub has counted at least n
// failed backfills.
func (e *env) failures(n int64) func() error {
	return func() error {
		if got := e.hub.Stats().BackfillFailures; got < n {
			return fmt.Errorf("%d backfill failures, want %d", got, n)
		}
		return nil
	}
}

// TestGapDuringStoreOutageWaitsForTheStore: a gap opens while PostgreSQL
// is down. The room sends no resync (a resubscribe would fail the same
// way), delivers nothing past the gap, keeps serving typing, retries the
// backfill with backoff and, once the store is back, delivers every
// offset once and in order.
func TestGapDuringStoreOutageWaitsForTheStore(t *testing.T) {
	e, pg := pgEnv(t, time.Hour) // no reconcile: the stall retry alone must recover
	ctx := context.Background()
	r := &recorder{user: "bob"}
	if err := e.hub.Subscribe(ctx, r, "general", 0); err != nil {
		t.Fatal(err)
	}
	msgs := e.append(t, 4)
	if err := e.hub.PublishMessage(ctx, msgs[0]); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, waitTimeout, "offset 1 delivered", r.hasOffsets(1))

	if err := pg.Stop(); err != nil {
		t.Fatal(err)
	}
	e.hub.Deliver("general", payload(t, msgs[3])) // 4 before 2 and 3: a gap
	testenv.Eventually(t, waitTimeout, "the backfill failed twice", e.failures(2))
	e.hub.Deliver("general", payload(t, msgs[2])) // still past the gap
	e.hub.PublishTyping(ctx, "general", "ann")
	testenv.Eventually(t, waitTimeout, "typing still delivered", func() error {
		if len(r.frames(protocol.TypeTyping)) == 0 {
			return errors.New("no typing frame")
		}
		return nil
	})
	if got := r.offsets(); !equal(got, []int64{1}) {
		t.Fatalf("offsets %v delivered past an unfilled gap", got)
	}
	if n := len(r.frames(protocol.TypeResync)); n != 0 {
		t.Fatalf("%d resync frames sent into a store outage", n)
	}

	if err := pg.Start(); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, waitTimeout, "every offset once, in order, after the store returned", r.hasOffsets(1, 2, 3, 4))
	more := e.append(t, 1)
	if err := e.hub.PublishMessage(ctx, more[0]); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, waitTimeout, "live again", r.hasOffsets(1, 2, 3, 4, 5))
	if n := len(r.frames(protocol.TypeResync)); n != 0 {
		t.Fatalf("%d resync frames", n)
	}
}

// TestResubscribeDuringStoreOutageKeepsTheSubscription: a resubscribe the
// store cannot serve fails without sending anything, and the subscriber
// keeps receiving live messages as before.
func TestResubscribeDuringStoreOutageKeepsTheSubscription(t *testing.T) {
	e, pg := pgEnv(t, time.Hour)
	ctx := context.Background()
	r := &recorder{user: "bob"}
	if err := e.hub.Subscribe(ctx, r, "general", 0); err != nil {
		t.Fatal(err)
	}
	msgs := e.append(t, 2)
	if err := pg.Stop(); err != nil {
		t.Fatal(err)
	}
	subscribed := len(r.frames(protocol.TypeSubscribed))
	if err := e.hub.Resubscribe(ctx, r, "general", 0); err == nil {
		t.Fatal("resubscribe succeeded with the store down")
	}
	if n := len(r.frames(protocol.TypeSubscribed)); n != subscribed {
		t.Fatal("a failed resubscribe sent a subscribed frame")
	}
	// In order, so no store read is needed: both reach the subscriber.
	e.hub.Deliver("general", payload(t, msgs[0]))
	e.hub.Deliver("general", payload(t, msgs[1]))
	testenv.Eventually(t, waitTimeout, "live messages after the failed resubscribe", r.hasOffsets(1, 2))
	if err := pg.Start(); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, waitTimeout, "resubscribe after the store returned", func() error {
		return e.hub.Resubscribe(ctx, r, "general", 2)
	})
}

// TestHoldKeepsUserPresent: a hold counts like a subscription, so moving
// from one to the other leaves the user present throughout.
func TestHoldKeepsUserPresent(t *testing.T) {
	e := newEnv(t, time.Hour)
	ctx := context.Background()
	users := func() []string {
		u, err := e.presence.Users(ctx, "general")
		if err != nil {
			t.Fatal(err)
		}
		return u
	}
	e.hub.Hold(ctx, "general", "bob")
	if got := users(); !slices.Equal(got, []string{"bob"}) {
		t.Fatalf("present while held: %v", got)
	}
	r := &recorder{user: "bob"}
	if err := e.hub.Subscribe(ctx, r, "general", 0); err != nil {
		t.Fatal(err)
	}
	e.hub.Release("general", "bob")
	if got := users(); !slices.Equal(got, []string{"bob"}) {
		t.Fatalf("present after the hold became a subscription: %v", got)
	}
	e.hub.Unsubscribe(r, "general")
	if got := users(); len(got) != 0 {
		t.Fatalf("present after leaving: %v", got)
	}
	e.hub.Hold(ctx, "general", "bob")
	e.hub.Release("general", "bob")
	if got := users(); len(got) != 0 {
		t.Fatalf("present after a released hold: %v", got)
	}
}

// setPresence is a Presence with Redis's semantics (Join sets, Leave
// deletes, no counting) that records Join and Leave calls for one user
// overlapping: the hub must never let them race.
type setPresence struct {
	*presence.Memory // for Run and Close
	mu               sync.Mutex
	present          map[string]bool
	inflight         map[string]int
	overlaps         int
}

func (p *setPresence) enter(key string) {
	p.mu.Lock()
	p.inflight[key]++
	if p.inflight[key] > 1 {
		p.overlaps++
	}
	p.mu.Unlock()
	for range 20 {
		runtime.Gosched() // widen the window a racing call would use
	}
}

func (p *setPresence) exit(key string, present bool) {
	p.mu.Lock()
	p.inflight[key]--
	p.present[key] = present
	p.mu.Unlock()
}

func (p *setPresence) Join(_ context.Context, room, user string) error {
	p.enter(room + "/" + user)
	p.exit(room+"/"+user, true)
	return nil
}

func (p *setPresence) Leave(_ context.Context, room, user string) error {
	p.enter(room + "/" + user)
	p.exit(room+"/"+user, false)
	return nil
}

func (p *setPresence) Users(_ context.Context, room string) ([]string, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []string
	for k, ok := range p.present {
		if r, u, _ := strings.Cut(k, "/"); ok && r == room {
			out = append(out, u)
		}
	}
	slices.Sort(out)
	return out, nil
}

// TestPresenceJoinAndLeaveNeverRace: one user subscribing and leaving on
// several connections at once (tabs, a reconnect racing the old socket's
// teardown) gets its presence Join and Leave in the order its count
// changed, so a user who stays subscribed stays present.
func TestPresenceJoinAndLeaveNeverRace(t *testing.T) {
	ctx := context.Background()
	st, err := store.OpenSQLite(ctx, filepath.Join(t.TempDir(), "hub.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if _, err := st.EnsureRoom(ctx, "general"); err != nil {
		t.Fatal(err)
	}
	pr := &setPresence{Memory: presence.NewMemory(), present: map[string]bool{}, inflight: map[string]int{}}
	h := hub.New(hub.Config{Store: st, Broker: broker.NewMemory(), Presence: pr})
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- h.Run(runCtx) }()
	t.Cleanup(func() { cancel(); <-done })
	stay := &recorder{user: "ann"}
	testenv.Eventually(t, waitTimeout, "hub running", func() error { return h.Subscribe(ctx, stay, "general", 0) })
	h.Unsubscribe(stay, "general")

	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 300 {
				tab := &recorder{user: "ann"}
				if err := h.Subscribe(ctx, tab, "general", 0); err != nil {
					t.Errorf("goroutine %d, round %d: %v", g, i, err)
					return
				}
				h.Unsubscribe(tab, "general")
			}
		}()
	}
	wg.Wait()
	if err := h.Subscribe(ctx, stay, "general", 0); err != nil {
		t.Fatal(err)
	}
	pr.mu.Lock()
	overlaps := pr.overlaps
	pr.mu.Unlock()
	if overlaps != 0 {
		t.Errorf("%d presence calls for ann overlapped", overlaps)
	}
	if users, _ := pr.Users(ctx, "general"); !slices.Equal(users, []string{"ann"}) {
		t.Fatalf("ann is subscribed but presence lists %v", users)
	}
}
