package cluster_test

import (
	"context"
	"slices"
	"testing"

	"github.com/parleychat/parley/shared/client"
	"github.com/parleychat/parley/shared/protocol"
)

// feedEvent decodes a room feed msg frame, failing t on a bad body.
func feedEvent(t *testing.T, f protocol.Frame) protocol.FeedEvent {
	t.Helper()
	ev, err := protocol.ParseFeedEvent(f.Msg.Body)
	if err != nil {
		t.Fatalf("feed message %q: %v", f.Msg.Body, err)
	}
	return ev
}

// TestRoomFeedAcrossNodes: over two nodes with Redis and PostgreSQL, a
// public room created and its topic set through node 1 reach followers
// of the room feed on both nodes at once, in order; nothing about a
// private or direct room ever does; what was announced while a follower
// was offline is recovered from its last offset; following costs no
// presence, and nobody may send, type, read-mark or ask presence there.
func TestRoomFeedAcrossNodes(t *testing.T) {
	c := startCluster(t, options{nodes: 2})
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	ss := signupAll(t, c.baseURLs(), []string{"alice", "bob", "carol"})
	alice, bob, carol := ss[0], ss[1], ss[2]
	api := client.NewAPI(c.nodes[0].URL, nil)

	rb, err := dialRaw(ctx, c.nodes[1].WSURL(), bob.AccessToken, nil)
	if err != nil {
		t.Fatal(err)
	}
	rc, err := dialRaw(ctx, c.nodes[0].WSURL(), carol.AccessToken, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.close()
	sub := answer(t, ctx, rb, protocol.Frame{Type: protocol.TypeSubscribe, Room: protocol.RoomFeed})
	if sub.Type != protocol.TypeSubscribed {
		t.Fatalf("bob follows the feed: %+v", sub)
	}
	if f := answer(t, ctx, rc, protocol.Frame{Type: protocol.TypeSubscribe, Room: protocol.RoomFeed}); f.Type != protocol.TypeSubscribed {
		t.Fatalf("carol follows the feed: %+v", f)
	}
	head := sub.Head

	if _, err := api.CreateRoomOf(ctx, alice.AccessToken, "secret", protocol.KindPrivate); err != nil {
		t.Fatal(err)
	}
	if _, err := api.DirectRoom(ctx, alice.AccessToken, "carol"); err != nil {
		t.Fatal(err)
	}
	if _, err := api.CreateRoomOf(ctx, alice.AccessToken, "lobby", protocol.KindPublic); err != nil {
		t.Fatal(err)
	}
	if _, err := api.SetTopic(ctx, alice.AccessToken, "secret", "the plan"); err != nil {
		t.Fatal(err)
	}
	if _, err := api.SetTopic(ctx, alice.AccessToken, "lobby", "all welcome"); err != nil {
		t.Fatal(err)
	}
	want := []protocol.FeedEvent{
		{Type: protocol.FeedCreated, Room: "lobby", Kind: protocol.KindPublic, By: "alice"},
		{Type: protocol.FeedTopic, Room: "lobby", By: "alice", Topic: "all welcome"},
	}
	for _, rx := range []*rawClient{rb, rc} {
		var got []protocol.FeedEvent
		var offsets []int64
		for len(got) < len(want) {
			f := waitFrame(t, ctx, rx, "feed events", func(f protocol.Frame) bool {
				return f.Type == protocol.TypePresence || f.Type == protocol.TypePresenceDelta || f.Type == protocol.TypeMsg
			})
			if f.Type != protocol.TypeMsg || f.Msg.Room != protocol.RoomFeed {
				t.Fatalf("%s got %+v while following the feed", rx.user, f)
			}
			got = append(got, feedEvent(t, f))
			offsets = append(offsets, f.Msg.Offset)
		}
		if !slices.Equal(got, want) || !slices.Equal(offsets, []int64{head + 1, head + 2}) {
			t.Fatalf("%s got %+v at %v, want %+v at %d, %d", rx.user, got, offsets, want, head+1, head+2)
		}
	}

	for _, req := range []protocol.Frame{
		{Type: protocol.TypeSend, Room: protocol.RoomFeed, CID: "spoof", Body: `{"type":"created","room":"evil"}`},
		{Type: protocol.TypeTyping, Room: protocol.RoomFeed},
		{Type: protocol.TypePresence, Room: protocol.RoomFeed},
		{Type: protocol.TypeRead, Room: protocol.RoomFeed, Offset: head + 1},
	} {
		g := answer(t, ctx, rb, req)
		wantCode := protocol.ErrBadRequest
		if req.Type == protocol.TypeSend {
			wantCode = protocol.ErrForbidden
		}
		if g.Type != protocol.TypeError || g.Code != wantCode {
			t.Fatalf("bob's %s to the feed: %+v, want %s", req.Type, g, wantCode)
		}
	}
	rb.close()

	// Offline: one more public room, through the other node.
	if _, err := client.NewAPI(c.nodes[1].URL, nil).CreateRoomOf(ctx, carol.AccessToken, "plaza", protocol.KindPublic); err != nil {
		t.Fatal(err)
	}
	rb, err = dialRaw(ctx, c.nodes[1].WSURL(), bob.AccessToken, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer rb.close()
	if g := answer(t, ctx, rb, protocol.Frame{Type: protocol.TypeSubscribe, Room: protocol.RoomFeed, Since: head + 2}); g.Type != protocol.TypeSubscribed || g.Head != head+3 {
		t.Fatalf("bob follows again from %d: %+v", head+2, g)
	}
	var got []protocol.FeedEvent
	for _, g := range pingPong(t, ctx, rb, "after-backlog") {
		switch {
		case g.Type == protocol.TypeMsg && g.Msg.Room == protocol.RoomFeed && g.Msg.Offset == head+3:
			got = append(got, feedEvent(t, g))
		default:
			t.Fatalf("bob got %+v after following again", g)
		}
	}
	if w := (protocol.FeedEvent{Type: protocol.FeedCreated, Room: "plaza", Kind: protocol.KindPublic, By: "carol"}); len(got) != 1 || got[0] != w {
		t.Fatalf("recovered %+v, want %+v", got, w)
	}
}
