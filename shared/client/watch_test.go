//go:build !js

package client

import (
	"slices"
	"sync"
	"testing"

	"github.com/parleychat/parley/shared/client/internal/peer"
	"github.com/parleychat/parley/shared/protocol"
	"github.com/parleychat/parley/shared/testenv"
)

// watchPeer is a peer that confirms protocol.FeatureWatch and answers
// every watch frame with watching, recording which connection (by
// accept number) asked for which room.
func watchPeer(t *testing.T) (*peer.Peer, func() map[int][]string) {
	p := peer.New(t)
	var mu sync.Mutex
	asked := map[int][]string{}
	p.Configure(func(h *peer.Hooks) {
		h.Features = []string{protocol.FeatureWatch}
		h.OnFrame = func(c *peer.Conn, f protocol.Frame) bool {
			if f.Type != protocol.TypeWatch {
				return false
			}
			mu.Lock()
			asked[c.N()] = append(asked[c.N()], f.Room)
			mu.Unlock()
			c.Send(protocol.Frame{Type: protocol.TypeWatching, Room: f.Room, Head: 7})
			return true
		}
	})
	return p, func() map[int][]string {
		mu.Lock()
		defer mu.Unlock()
		out := map[int][]string{}
		for n, rooms := range asked {
			out[n] = slices.Sorted(slices.Values(rooms))
		}
		return out
	}
}

// TestWatchesRenewedAfterReconnect: the rooms a client watches are
// watched again on the next connection, once each (a room unwatched
// meanwhile not), and each new watch is reported live (EventWatching).
func TestWatchesRenewedAfterReconnect(t *testing.T) {
	p, asked := watchPeer(t)
	rec := &recorder{}
	c := New(testConfig(p, rec))
	for _, room := range []string{"side", "quiet", "gone"} {
		if err := c.Watch(room); err != nil {
			t.Fatal(err)
		}
	}
	start(t, c)
	testenv.Eventually(t, waitTimeout, "three watches live", testenv.Cond(func() bool { return len(rec.kind(EventWatching)) == 3 }))
	if !c.Watching() {
		t.Fatal("Watching() is false on a node that confirmed watch")
	}
	c.Unwatch("gone")
	roundTrip(t, c)

	p.CloseAll(protocol.CloseSlowConsumer, "slow")
	testenv.Eventually(t, waitTimeout, "reconnect", testenv.Cond(func() bool { return len(rec.kind(EventConnected)) == 2 }))
	testenv.Eventually(t, waitTimeout, "two watches live again", testenv.Cond(func() bool { return len(rec.kind(EventWatching)) == 5 }))
	roundTrip(t, c)
	got := asked()
	if want := []string{"gone", "quiet", "side"}; !slices.Equal(got[1], want) {
		t.Fatalf("first connection watched %v, want %v", got[1], want)
	}
	if want := []string{"quiet", "side"}; !slices.Equal(got[2], want) {
		t.Fatalf("second connection watched %v, want %v (again, once each; not the unwatched one)", got[2], want)
	}
	if n := len(p.Frames(protocol.TypeUnwatch)); n != 1 {
		t.Fatalf("%d unwatch frames, want 1", n)
	}
}

// TestNoWatchWithoutTheFeature: a node that does not confirm watch is
// never sent a watch frame, and Watching says so.
func TestNoWatchWithoutTheFeature(t *testing.T) {
	p := peer.New(t)
	rec := &recorder{}
	c := New(testConfig(p, rec))
	if err := c.Watch("side"); err != nil {
		t.Fatal(err)
	}
	start(t, c)
	testenv.Eventually(t, waitTimeout, "connected", testenv.Cond(func() bool { return len(rec.kind(EventConnected)) == 1 }))
	roundTrip(t, c)
	if c.Watching() || len(p.Frames(protocol.TypeWatch)) != 0 {
		t.Fatalf("Watching() = %v, watch frames %v; want none on a node without the feature", c.Watching(), p.Frames(protocol.TypeWatch))
	}
}
