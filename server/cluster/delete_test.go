package cluster_test

import (
	"context"
	"slices"
	"testing"

	"github.com/parleychat/parley/shared/client"
	"github.com/parleychat/parley/shared/protocol"
)

// TestRoomDeletedAcrossNodes: over two nodes with Redis and PostgreSQL,
// an owner's deletion through node 0 ends at once (the reconcile is an
// hour away) the subscriptions of members on both nodes, with removed
// {code: deleted}, and a member's watch on node 1; each member's inbox
// says so; the room is gone from their lists and history is refused. A
// room made later under the name starts again at offset 1 with a new
// epoch, and the old watch gets none of it.
func TestRoomDeletedAcrossNodes(t *testing.T) {
	c := startCluster(t, options{nodes: 2, args: []string{"--reconcile", "1h", "--reconcile-idle", "1h"}})
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	ss := signupAll(t, c.baseURLs(), []string{"alice", "bob", "carol"})
	alice, bob, carol := ss[0], ss[1], ss[2]
	api0, api1 := client.NewAPI(c.nodes[0].URL, nil), client.NewAPI(c.nodes[1].URL, nil)
	if _, err := api0.CreateRoomOf(ctx, alice.AccessToken, "team", protocol.KindPrivate); err != nil {
		t.Fatal(err)
	}
	for _, u := range []string{"bob", "carol"} {
		if err := api0.Invite(ctx, alice.AccessToken, "team", u, ""); err != nil {
			t.Fatal(err)
		}
	}
	dial := func(node int, s protocol.Session, features ...string) *rawClient {
		rc, err := dialRawWith(ctx, c.nodes[node].WSURL(), s.AccessToken, nil, features)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(rc.close)
		return rc
	}
	rb, rcarol := dial(1, bob), dial(0, carol)
	rwatch := dial(1, bob, protocol.FeatureWatch)
	inbox := protocol.InboxRoom("bob")
	for _, sub := range []struct {
		rc   *rawClient
		room string
	}{{rb, inbox}, {rb, "team"}, {rcarol, "team"}} {
		if f := answer(t, ctx, sub.rc, protocol.Frame{Type: protocol.TypeSubscribe, Room: sub.room}); f.Type != protocol.TypeSubscribed {
			t.Fatalf("%s subscribes to %s: %+v", sub.rc.user, sub.room, f)
		}
	}
	if err := rwatch.write(ctx, protocol.Frame{Type: protocol.TypeWatch, Room: "team"}); err != nil {
		t.Fatal(err)
	}
	waitFrame(t, ctx, rwatch, "watching", func(f protocol.Frame) bool { return f.Type == protocol.TypeWatching && f.Room == "team" })
	f := answer(t, ctx, rcarol, protocol.Frame{Type: protocol.TypeSend, Room: "team", CID: "c1", Body: "before"})
	if f.Type != protocol.TypeAck {
		t.Fatalf("carol sends: %+v", f)
	}
	old := answer(t, ctx, rb, protocol.Frame{Type: protocol.TypeSubscribe, Room: "team"})
	waitFrame(t, ctx, rwatch, "the message before", func(f protocol.Frame) bool { return f.Type == protocol.TypeMsg && f.Msg.Room == "team" })

	if err := api0.DeleteRoom(ctx, alice.AccessToken, "team"); err != nil {
		t.Fatalf("alice deletes the room: %v", err)
	}
	var removed protocol.Frame
	var deleted protocol.UserEvent
	for removed.Type == "" || deleted.Type == "" {
		g := waitFrame(t, ctx, rb, "the removed frame and the inbox event", func(g protocol.Frame) bool {
			return g.Type == protocol.TypeRemoved || (g.Type == protocol.TypeMsg && g.Msg.Room == inbox)
		})
		if g.Type == protocol.TypeRemoved {
			removed = g
		} else if ev := inboxEvent(t, g); ev.Type == protocol.UserDeleted {
			deleted = ev
		}
	}
	if removed.Room != "team" || removed.Code != protocol.RemovedDeleted {
		t.Fatalf("bob's removed frame on node 1 = %+v", removed)
	}
	if want := (protocol.UserEvent{Type: protocol.UserDeleted, Room: "team", By: "alice", Kind: protocol.KindPrivate}); deleted != want {
		t.Fatalf("bob's inbox event = %+v, want %+v", deleted, want)
	}
	if g := waitFrame(t, ctx, rcarol, "the removed frame", func(g protocol.Frame) bool { return g.Type == protocol.TypeRemoved }); g.Room != "team" || g.Code != protocol.RemovedDeleted {
		t.Fatalf("carol's removed frame on node 0 = %+v", g)
	}
	for _, rc := range []*rawClient{rb, rcarol} {
		for _, req := range []protocol.Frame{
			{Type: protocol.TypeHistory, Room: "team", ID: "history-after"},
			{Type: protocol.TypeSend, Room: "team", CID: rc.user + "-after", Body: "anyone?"},
		} {
			if g := answer(t, ctx, rc, req); g.Type != protocol.TypeError || g.Code != protocol.ErrNotFound {
				t.Fatalf("%s's %s after the deletion: %+v", rc.user, req.Type, g)
			}
		}
	}
	for i, s := range []protocol.Session{alice, bob, carol} {
		api := []*client.API{api0, api1}[i%2]
		rooms, err := api.Rooms(ctx, s.AccessToken)
		if err != nil || slices.ContainsFunc(rooms, func(r protocol.Room) bool { return r.Name == "team" }) {
			t.Fatalf("%s's room list after the deletion: %v, %v", s.User, rooms, err)
		}
	}

	// Carol makes "team" again, public: bob's old offset and epoch do
	// not carry over, and bob's old watch sees nothing of it.
	if _, err := api1.CreateRoomOf(ctx, carol.AccessToken, "team", protocol.KindPublic); err != nil {
		t.Fatal(err)
	}
	again := answer(t, ctx, rb, protocol.Frame{Type: protocol.TypeSubscribe, Room: "team", Since: old.Head})
	if again.Type != protocol.TypeSubscribed || again.Epoch == old.Epoch || again.Head != 0 {
		t.Fatalf("bob subscribes to the new room from the old head %d: %+v (old epoch %d)", old.Head, again, old.Epoch)
	}
	if g := answer(t, ctx, rcarol, protocol.Frame{Type: protocol.TypeSend, Room: "team", CID: "c-new", Body: "fresh start"}); g.Type != protocol.TypeAck || g.Offset != 1 {
		t.Fatalf("carol's first message in the new room: %+v", g)
	}
	if g := waitFrame(t, ctx, rb, "the new room's message", func(g protocol.Frame) bool { return g.Type == protocol.TypeMsg && g.Msg.Room == "team" }); g.Msg.Offset != 1 || g.Msg.Body != "fresh start" {
		t.Fatalf("bob got %+v from the new room", g.Msg)
	}
	for _, g := range pingPong(t, ctx, rwatch, "after-new-room") {
		if g.Type == protocol.TypeMsg && g.Msg.Room == "team" && g.Msg.Body == "fresh start" {
			t.Fatalf("the deleted room's watch got the new room's message %+v", g.Msg)
		}
	}
}
