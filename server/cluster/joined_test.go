package cluster_test

import (
	"context"
	"slices"
	"testing"

	"github.com/parleychat/parley/shared/client"
	"github.com/parleychat/parley/shared/protocol"
)

// TestJoinedAcrossNodes: over two nodes with Redis and PostgreSQL, a
// user's own join of a public room (a subscribe on node 0) reaches the
// user's inbox subscription on node 1 at once as a joined event with the
// room's kind and topic; a repeat join (another subscribe, from either
// node, or a read) writes nothing; a join by a read while the second
// connection is away is recovered by offset after it reconnects, with
// no gap and no duplicate; and nobody else's inbox moves.
func TestJoinedAcrossNodes(t *testing.T) {
	c := startCluster(t, options{nodes: 2})
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	ss := signupAll(t, c.baseURLs(), []string{"alice", "bob"})
	alice, bob := ss[0], ss[1]
	api := client.NewAPI(c.nodes[0].URL, nil)
	for _, room := range []string{"open", "second"} {
		if _, err := api.CreateRoomOf(ctx, alice.AccessToken, room, protocol.KindPublic); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := api.SetTopic(ctx, alice.AccessToken, "open", "all welcome"); err != nil {
		t.Fatal(err)
	}
	dial := func(node int, s protocol.Session) *rawClient {
		rc, err := dialRaw(ctx, c.nodes[node].WSURL(), s.AccessToken, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(rc.close)
		return rc
	}
	subscribe := func(rc *rawClient, room string, since int64) protocol.Frame {
		t.Helper()
		f := answer(t, ctx, rc, protocol.Frame{Type: protocol.TypeSubscribe, Room: room, Since: since})
		if f.Type != protocol.TypeSubscribed {
			t.Fatalf("%s subscribes to %s: %+v", rc.user, room, f)
		}
		return f
	}
	inbox := protocol.InboxRoom("bob")
	nextEvent := func(rc *rawClient, what string) (protocol.UserEvent, int64) {
		t.Helper()
		f := waitFrame(t, ctx, rc, what, func(f protocol.Frame) bool { return f.Type == protocol.TypeMsg && f.Msg.Room == inbox })
		return inboxEvent(t, f), f.Msg.Offset
	}
	joinedOpen := protocol.UserEvent{Type: protocol.UserJoined, Room: "open", Kind: protocol.KindPublic, Topic: "all welcome"}

	other, watcher := dial(1, bob), dial(0, bob)
	subscribe(other, inbox, 0)
	subscribe(watcher, inbox, 0)
	tab := dial(0, bob)
	subscribe(tab, "open", 0)
	if ev, off := nextEvent(other, "the join on the other node"); ev != joinedOpen || off != 1 {
		t.Fatalf("the other node's connection got %+v at %d, want %+v at 1", ev, off, joinedOpen)
	}

	// Repeat joins write nothing: the next event is the next new join.
	subscribe(tab, "open", 0)
	subscribe(dial(1, bob), "open", 0)
	if err := tab.write(ctx, protocol.Frame{Type: protocol.TypeRead, Room: "open", Offset: 1}); err != nil {
		t.Fatal(err)
	}
	subscribe(tab, "second", 0)
	want := protocol.UserEvent{Type: protocol.UserJoined, Room: "second", Kind: protocol.KindPublic}
	if ev, off := nextEvent(other, "the join of second"); ev != want || off != 2 {
		t.Fatalf("after repeat joins the next event is %+v at %d, want %+v at 2", ev, off, want)
	}

	// Away: bob leaves open and joins it again by marking it read.
	other.close()
	if _, err := api.Remove(ctx, bob.AccessToken, "open", "bob"); err != nil {
		t.Fatal(err)
	}
	if err := tab.write(ctx, protocol.Frame{Type: protocol.TypeRead, Room: "open", Offset: 1}); err != nil {
		t.Fatal(err)
	}
	f := waitFrame(t, ctx, watcher, "the join by a read", func(f protocol.Frame) bool {
		return f.Type == protocol.TypeMsg && f.Msg.Room == inbox && f.Msg.Offset == 4
	})
	if ev := inboxEvent(t, f); ev != joinedOpen {
		t.Fatalf("inbox event 4 = %+v, want %+v", ev, joinedOpen)
	}
	back := dial(1, bob)
	if f := subscribe(back, inbox, 2); f.Head != 4 {
		t.Fatalf("bob resubscribes to his inbox from 2: head %d, want 4", f.Head)
	}
	var got []protocol.UserEvent
	var offsets []int64
	for _, g := range pingPong(t, ctx, back, "after-backlog") {
		if g.Type == protocol.TypeMsg && g.Msg.Room == inbox {
			got = append(got, inboxEvent(t, g))
			offsets = append(offsets, g.Msg.Offset)
		}
	}
	wantBack := []protocol.UserEvent{{Type: protocol.UserRemoved, Room: "open", Reason: protocol.RemovedLeft}, joinedOpen}
	if !slices.Equal(got, wantBack) || !slices.Equal(offsets, []int64{3, 4}) {
		t.Fatalf("recovered %+v at %v, want %+v at [3 4]", got, offsets, wantBack)
	}

	// alice owns both rooms and subscribes to them: her inbox is empty.
	ra := dial(1, alice)
	subscribe(ra, "open", 0)
	if f := subscribe(ra, protocol.InboxRoom("alice"), 0); f.Head != 0 {
		t.Fatalf("alice's inbox head = %d, want 0", f.Head)
	}
}
