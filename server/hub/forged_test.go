package hub_test

import (
	"context"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/parleychat/parley/server/store"
	"github.com/parleychat/parley/shared/protocol"
	"github.com/parleychat/parley/shared/testenv"
)

// TestOffsetBeyondHeadDropped: one raw PUBLISH claiming offset 999999999
// must not silence the room. The hubs read the store, find it ends before
// that offset, drop the payload and count it; the next real message (at
// offset 1) reaches subscribers on both nodes live.
func TestOffsetBeyondHeadDropped(t *testing.T) {
	ctx := context.Background()
	a, b, st, rs := redisPair(t, time.Hour, "general") // no reconcile: live delivery only
	ra, rb := &recorder{user: "ra"}, &recorder{user: "rb"}
	if err := a.Subscribe(ctx, ra, "general", 0); err != nil {
		t.Fatal(err)
	}
	if err := b.Subscribe(ctx, rb, "general", 0); err != nil {
		t.Fatal(err)
	}
	forged, err := protocol.Encode(protocol.Frame{Type: protocol.TypeMsg, Msg: &protocol.Message{
		Room: "general", Offset: 999999999, Author: "admin", Body: "forged", TS: 1,
	}})
	if err != nil {
		t.Fatal(err)
	}
	rc := redis.NewClient(&redis.Options{Addr: rs.Addr()})
	defer rc.Close()
	if n, err := rc.Publish(ctx, t.Name()+":room:general", forged).Result(); err != nil || n != 2 {
		t.Fatalf("raw publish reached %d subscribers, err %v; want 2", n, err)
	}
	testenv.Eventually(t, waitTimeout, "both hubs dropped the forged offset", testenv.Cond(func() bool {
		return a.Stats().BeyondHead == 1 && b.Stats().BeyondHead == 1
	}))
	m, _, err := st.Append(ctx, store.Message{Room: "general", Author: "ann", Body: "real", CID: "c1"})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.PublishMessage(ctx, m); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, waitTimeout, "ra gets offset 1", ra.hasOffsets(1))
	testenv.Eventually(t, waitTimeout, "rb gets offset 1", rb.hasOffsets(1))
}
