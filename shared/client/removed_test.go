//go:build !js

package client

import (
	"testing"

	"github.com/parleychat/parley/shared/client/internal/peer"
	"github.com/parleychat/parley/shared/protocol"
	"github.com/parleychat/parley/shared/testenv"
)

// TestRemovedForgetsTheRoom: a removed frame ends the room for the
// client: one EventRemoved with the reason, the room leaves
// Subscriptions, and its later messages are not delivered.
func TestRemovedForgetsTheRoom(t *testing.T) {
	p := peer.New(t)
	rec := &recorder{}
	c := New(testConfig(p, rec))
	_ = c.Subscribe("general", 0)
	start(t, c)
	testenv.Eventually(t, waitTimeout, "subscribed", testenv.Cond(func() bool { return len(rec.kind(EventSubscribed)) == 1 }))
	p.Inject(protocol.Frame{Type: protocol.TypeRemoved, Room: "general", Code: protocol.RemovedKicked})
	testenv.Eventually(t, waitTimeout, "removed", testenv.Cond(func() bool { return len(rec.kind(EventRemoved)) == 1 }))
	if ev := rec.kind(EventRemoved)[0]; ev.Room != "general" || ev.Reason != protocol.RemovedKicked {
		t.Fatalf("removed event %+v", ev)
	}
	if _, ok := c.Subscriptions()["general"]; ok {
		t.Fatal("the client still lists the room it was removed from")
	}
	p.Post("general", "bob", "not for you")
	roundTrip(t, c)
	if got := rec.offsets("general"); len(got) != 0 {
		t.Fatalf("messages after the removal were delivered: %v", got)
	}
	// A second removed frame for a room it no longer has is ignored.
	p.Inject(protocol.Frame{Type: protocol.TypeRemoved, Room: "general", Code: protocol.RemovedKicked})
	roundTrip(t, c)
	if n := len(rec.kind(EventRemoved)); n != 1 {
		t.Fatalf("%d removed events, want 1", n)
	}
}
