package cluster_test

import (
	"context"
	"slices"
	"testing"

	"github.com/parleychat/parley/shared/client"
	"github.com/parleychat/parley/shared/protocol"
)

// roomEvent waits for rc's next room event in room and decodes it.
func roomEvent(t *testing.T, ctx context.Context, rc *rawClient, room, what string) (protocol.Message, protocol.RoomEvent) {
	t.Helper()
	f := waitFrame(t, ctx, rc, what, func(f protocol.Frame) bool {
		return f.Type == protocol.TypeMsg && f.Msg.Room == room && f.Msg.IsRoomEvent()
	})
	ev, err := protocol.ParseRoomEvent(f.Msg.Body)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	return *f.Msg, ev
}

// TestRoomEventsAcrossNodes: over two nodes with Redis and PostgreSQL,
// a role change, an invite, a kick and a topic change made through node
// 0 reach a member subscribed on node 1 live, as room events in the
// room's own stream; a client without protocol.FeatureRoomEvents never
// sees one; and a member who was away recovers the ones they missed by
// subscribing from their last offset.
func TestRoomEventsAcrossNodes(t *testing.T) {
	c := startCluster(t, options{nodes: 2})
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	ss := signupAll(t, c.baseURLs(), []string{"alice", "bob", "carol", "dave"})
	alice, bob, carol := ss[0], ss[1], ss[2]
	api := client.NewAPI(c.nodes[0].URL, nil)
	if _, err := api.CreateRoomOf(ctx, alice.AccessToken, "team", protocol.KindPrivate); err != nil {
		t.Fatal(err)
	}
	for _, u := range []string{"bob", "carol"} {
		if err := api.Invite(ctx, alice.AccessToken, "team", u, ""); err != nil {
			t.Fatal(err)
		}
	}
	features := []string{protocol.FeatureEdits, protocol.FeatureRoomEvents}
	rb, err := dialRawWith(ctx, c.nodes[1].WSURL(), bob.AccessToken, nil, features)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(rb.close)
	rold, err := dialRawWith(ctx, c.nodes[1].WSURL(), carol.AccessToken, nil, []string{protocol.FeatureEdits})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(rold.close)
	for _, rc := range []*rawClient{rb, rold} {
		if f := answer(t, ctx, rc, protocol.Frame{Type: protocol.TypeSubscribe, Room: "team"}); f.Type != protocol.TypeSubscribed {
			t.Fatalf("%s subscribes: %+v", rc.user, f)
		}
	}

	if err := api.Invite(ctx, alice.AccessToken, "team", "carol", protocol.RoleModerator); err != nil {
		t.Fatal(err)
	}
	if err := api.Invite(ctx, alice.AccessToken, "team", "dave", ""); err != nil {
		t.Fatal(err)
	}
	if _, err := api.Remove(ctx, alice.AccessToken, "team", "dave"); err != nil {
		t.Fatal(err)
	}
	if _, err := api.SetTopic(ctx, alice.AccessToken, "team", "launch plans"); err != nil {
		t.Fatal(err)
	}
	want := []protocol.RoomEvent{
		{What: protocol.RoomRole, User: "carol", By: "alice", Role: protocol.RoleModerator},
		{What: protocol.RoomJoined, User: "dave", By: "alice"},
		{What: protocol.RoomRemoved, User: "dave", By: "alice", Reason: protocol.RemovedKicked},
		{What: protocol.RoomTopic, By: "alice", Topic: "launch plans"},
	}
	var last int64
	for i, w := range want {
		m, ev := roomEvent(t, ctx, rb, "team", w.What)
		if ev != w || m.Author != "alice" || m.Offset <= last {
			t.Fatalf("room event %d on node 1 = %+v at %d by %s (after %d); want %+v by alice", i, ev, m.Offset, m.Author, last, w)
		}
		last = m.Offset
	}
	// Carol's older client shares bob's node and room actor: by her pong
	// she would have been sent every room event.
	for _, f := range pingPong(t, ctx, rold, "old-client") {
		if f.Type == protocol.TypeMsg && f.Msg.IsEvent() {
			t.Fatalf("a client without room_events got %+v", f.Msg)
		}
	}
	h := answer(t, ctx, rold, protocol.Frame{Type: protocol.TypeHistory, Room: "team", ID: "old-history"})
	if len(h.Messages) != 0 {
		t.Fatalf("history for a client without room_events = %+v, want no events", h.Messages)
	}

	// Bob goes away; what changes meanwhile comes back when he returns,
	// through the other node, with no gap and no duplicate.
	rb.close()
	if _, err := api.SetTopic(ctx, alice.AccessToken, "team", "shipped"); err != nil {
		t.Fatal(err)
	}
	if err := api.Invite(ctx, alice.AccessToken, "team", "bob", protocol.RoleModerator); err != nil {
		t.Fatal(err)
	}
	rb2, err := dialRawWith(ctx, c.nodes[0].WSURL(), bob.AccessToken, nil, features)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(rb2.close)
	if f := answer(t, ctx, rb2, protocol.Frame{Type: protocol.TypeSubscribe, Room: "team", Since: last}); f.Type != protocol.TypeSubscribed {
		t.Fatalf("bob resubscribes: %+v", f)
	}
	for i, w := range []protocol.RoomEvent{
		{What: protocol.RoomTopic, By: "alice", Topic: "shipped"},
		{What: protocol.RoomRole, User: "bob", By: "alice", Role: protocol.RoleModerator},
	} {
		m, ev := roomEvent(t, ctx, rb2, "team", w.What)
		if ev != w || m.Offset != last+1 {
			t.Fatalf("recovered event %d = %+v at %d; want %+v at %d", i, ev, m.Offset, w, last+1)
		}
		last = m.Offset
	}
}

// TestWatchAcrossNodes: a member watching a room from node 1 gets a
// message sent through node 0 live, without appearing in the room's
// presence; a connection that also subscribes gets each message once;
// a stranger cannot watch a private room, and a client that did not
// ask for the feature cannot watch at all.
func TestWatchAcrossNodes(t *testing.T) {
	c := startCluster(t, options{nodes: 2})
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	ss := signupAll(t, c.baseURLs(), []string{"alice", "bob", "mallory"})
	alice, bob, mallory := ss[0], ss[1], ss[2]
	api := client.NewAPI(c.nodes[0].URL, nil)
	if _, err := api.CreateRoomOf(ctx, alice.AccessToken, "quiet", protocol.KindPrivate); err != nil {
		t.Fatal(err)
	}
	if err := api.Invite(ctx, alice.AccessToken, "quiet", "bob", ""); err != nil {
		t.Fatal(err)
	}
	ra, err := dialRaw(ctx, c.nodes[0].WSURL(), alice.AccessToken, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ra.close)
	if f := answer(t, ctx, ra, protocol.Frame{Type: protocol.TypeSubscribe, Room: "quiet"}); f.Type != protocol.TypeSubscribed {
		t.Fatalf("alice subscribes: %+v", f)
	}
	rb, err := dialRawWith(ctx, c.nodes[1].WSURL(), bob.AccessToken, nil, []string{protocol.FeatureWatch})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(rb.close)
	if err := rb.write(ctx, protocol.Frame{Type: protocol.TypeWatch, Room: "quiet"}); err != nil {
		t.Fatal(err)
	}
	w := waitFrame(t, ctx, rb, "watching", func(f protocol.Frame) bool {
		return f.Type == protocol.TypeWatching || f.Type == protocol.TypeError
	})
	if w.Type != protocol.TypeWatching || w.Room != "quiet" {
		t.Fatalf("watch answered %+v", w)
	}

	if f := answer(t, ctx, ra, protocol.Frame{Type: protocol.TypeSend, Room: "quiet", CID: "a1", Body: "anyone?"}); f.Type != protocol.TypeAck {
		t.Fatalf("alice sends: %+v", f)
	}
	got := waitFrame(t, ctx, rb, "the watched message", func(f protocol.Frame) bool { return f.Type == protocol.TypeMsg })
	if got.Msg.Room != "quiet" || got.Msg.Body != "anyone?" || got.Msg.Offset <= w.Head {
		t.Fatalf("watcher got %+v after head %d", got.Msg, w.Head)
	}
	// Bob is not in the room: alice's full list, read now, is herself.
	if err := ra.write(ctx, protocol.Frame{Type: protocol.TypePresence, Room: "quiet"}); err != nil {
		t.Fatal(err)
	}
	p := waitFrame(t, ctx, ra, "presence", func(f protocol.Frame) bool { return f.Type == protocol.TypePresence })
	if !slices.Equal(p.Users, []string{"alice"}) {
		t.Fatalf("presence with bob watching = %v, want only alice", p.Users)
	}

	// Subscribed and watching: each message once.
	if f := answer(t, ctx, rb, protocol.Frame{Type: protocol.TypeSubscribe, Room: "quiet", Since: got.Msg.Offset}); f.Type != protocol.TypeSubscribed {
		t.Fatalf("bob subscribes: %+v", f)
	}
	if f := answer(t, ctx, ra, protocol.Frame{Type: protocol.TypeSend, Room: "quiet", CID: "a2", Body: "once"}); f.Type != protocol.TypeAck {
		t.Fatalf("alice sends again: %+v", f)
	}
	waitFrame(t, ctx, rb, "the second message", func(f protocol.Frame) bool { return f.Type == protocol.TypeMsg && f.Msg.Body == "once" })
	for _, f := range pingPong(t, ctx, rb, "once") {
		if f.Type == protocol.TypeMsg && f.Msg.Body == "once" {
			t.Fatal("a watching subscriber got the message twice")
		}
	}

	// A stranger is answered as for a missing room; no feature, no watch.
	rm, err := dialRawWith(ctx, c.nodes[1].WSURL(), mallory.AccessToken, nil, []string{protocol.FeatureWatch})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(rm.close)
	if f := answer(t, ctx, rm, protocol.Frame{Type: protocol.TypeWatch, Room: "quiet"}); f.Type != protocol.TypeError || f.Code != protocol.ErrNotFound {
		t.Fatalf("a stranger's watch answered %+v", f)
	}
	rold, err := dialRaw(ctx, c.nodes[1].WSURL(), bob.AccessToken, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(rold.close)
	if f := answer(t, ctx, rold, protocol.Frame{Type: protocol.TypeWatch, Room: "quiet"}); f.Type != protocol.TypeError || f.Code != protocol.ErrBadRequest {
		t.Fatalf("a watch without the feature answered %+v", f)
	}
}
