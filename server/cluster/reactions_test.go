package cluster_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/parleychat/parley/shared/client"
	"github.com/parleychat/parley/shared/protocol"
)

// TestReactionsAcrossNodes: over two nodes with Redis and PostgreSQL, a
// reaction sent on one node reaches a subscriber on the other as an event
// with its own offset; reacting twice and removing what is not there
// store nothing; an unknown emoji, a missing target, an event as target,
// a deleted message and a stranger to a private room are refused and
// change nothing; history shows per-emoji counts and users; a client
// without the reactions feature sees no reaction event, live or in
// history; and a deletion takes the message's reactions with it.
func TestReactionsAcrossNodes(t *testing.T) {
	c := startCluster(t, options{nodes: 2})
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	ss := signupAll(t, c.baseURLs(), []string{"alice", "bob", "carol"})
	createRooms(t, c.nodes[0].URL, ss[0].AccessToken, "r") // alice owns r
	if _, err := client.NewAPI(c.nodes[0].URL, nil).CreateRoomOf(ctx, ss[0].AccessToken, "p", protocol.KindPrivate); err != nil {
		t.Fatal(err)
	}
	dial := func(node int, s protocol.Session, features []string) *rawClient {
		rc, err := dialRawWith(ctx, c.nodes[node].WSURL(), s.AccessToken, nil, features)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(rc.close)
		return rc
	}
	both := []string{protocol.FeatureEdits, protocol.FeatureReactions}
	ra, rb, rold := dial(0, ss[0], both), dial(1, ss[1], both), dial(1, ss[2], []string{protocol.FeatureEdits})
	for _, rc := range []*rawClient{ra, rb, rold} {
		if f := answer(t, ctx, rc, protocol.Frame{Type: protocol.TypeSubscribe, Room: "r"}); f.Type != protocol.TypeSubscribed {
			t.Fatalf("%s subscribes: %+v", rc.user, f)
		}
	}
	if f := answer(t, ctx, ra, protocol.Frame{Type: protocol.TypeSubscribe, Room: "p"}); f.Type != protocol.TypeSubscribed {
		t.Fatalf("alice subscribes to p: %+v", f)
	}
	wantAck := func(rc *rawClient, f protocol.Frame, offset int64) {
		t.Helper()
		if g := answer(t, ctx, rc, f); g.Type != protocol.TypeAck || g.Offset != offset {
			t.Fatalf("%s %s: %+v, want ack at %d", rc.user, f.Type, g, offset)
		}
	}
	wantError := func(rc *rawClient, f protocol.Frame, code string) {
		t.Helper()
		if g := answer(t, ctx, rc, f); g.Type != protocol.TypeError || g.Code != code {
			t.Fatalf("%s %s: %+v, want error %s", rc.user, f.Type, g, code)
		}
	}
	react := func(cid string, target int64, emoji string) protocol.Frame {
		return protocol.Frame{Type: protocol.TypeReact, Room: "r", CID: cid, Target: target, Body: emoji}
	}
	unreact := func(cid string, target int64, emoji string) protocol.Frame {
		return protocol.Frame{Type: protocol.TypeUnreact, Room: "r", CID: cid, Target: target, Body: emoji}
	}

	wantAck(ra, protocol.Frame{Type: protocol.TypeSend, Room: "r", CID: "a1", Body: "hi"}, 1)
	wantAck(rb, react("b1", 1, "👍"), 2)
	ev := waitFrame(t, ctx, ra, "bob's reaction on node 1", func(f protocol.Frame) bool {
		return f.Type == protocol.TypeMsg && f.Msg.Offset == 2
	}).Msg
	if ev.Kind != protocol.MsgReact || ev.Target != 1 || ev.Body != "👍" || ev.Author != "bob" {
		t.Fatalf("reaction event on node 1 = %+v", ev)
	}
	wantAck(rb, react("b2", 1, "👍"), 1)    // already there: nothing stored
	wantAck(rb, unreact("b3", 1, "❤️"), 1) // not there: nothing stored
	wantAck(rb, react("b1", 1, "👍"), 2)    // a resend: the first ack again
	wantAck(ra, react("a2", 1, "👍"), 3)    // alice too
	wantAck(ra, react("a3", 1, "🎉"), 4)    // and another emoji
	wantAck(rb, unreact("b4", 1, "👍"), 5)  // bob takes his back
	ev = waitFrame(t, ctx, ra, "bob's removal on node 1", func(f protocol.Frame) bool {
		return f.Type == protocol.TypeMsg && f.Msg.Offset == 5
	}).Msg
	if ev.Kind != protocol.MsgUnreact || ev.Target != 1 || ev.Body != "👍" || ev.Author != "bob" {
		t.Fatalf("removal event on node 1 = %+v", ev)
	}
	wantError(rb, react("b5", 1, "🦄"), protocol.ErrBadRequest)
	wantError(rb, react("b6", 99, "👍"), protocol.ErrNotFound)
	wantError(rb, react("b7", 2, "👍"), protocol.ErrNotFound) // an event, not a message

	// Bob is no member of the private room p: refused as a send would be.
	wantAck(ra, protocol.Frame{Type: protocol.TypeSend, Room: "p", CID: "a4", Body: "secret"}, 1)
	wantError(rb, protocol.Frame{Type: protocol.TypeReact, Room: "p", CID: "b8", Target: 1, Body: "👍"}, protocol.ErrNotFound)

	wantReactions := func(rc *rawClient, want string, events bool) {
		t.Helper()
		h := answer(t, ctx, rc, protocol.Frame{Type: protocol.TypeHistory, ID: "h" + rc.user, Room: "r"})
		var offsets []int64
		var m protocol.Message
		for _, g := range h.Messages {
			offsets = append(offsets, g.Offset)
			if g.Offset == 1 {
				m = g
			}
		}
		if got := fmt.Sprint(m.Reactions); got != want {
			t.Fatalf("%s: history reactions of message 1 = %s, want %s", rc.user, got, want)
		}
		if wantOffsets := "[1]"; events {
			if fmt.Sprint(offsets) != "[1 2 3 4 5]" || m.Reacted != 5 {
				t.Fatalf("%s: history offsets %v, reacted %d", rc.user, offsets, m.Reacted)
			}
		} else if fmt.Sprint(offsets) != wantOffsets {
			t.Fatalf("%s without reactions: history offsets %v, want %s", rc.user, offsets, wantOffsets)
		}
	}
	wantReactions(rb, "[{👍 1 [alice]} {🎉 1 [alice]}]", true)
	var live []int64
	for _, f := range pingPong(t, ctx, rold, "p") {
		if f.Type == protocol.TypeMsg {
			live = append(live, f.Msg.Offset)
		}
	}
	if fmt.Sprint(live) != "[1]" {
		t.Fatalf("a client without reactions got messages %v live, want [1]", live)
	}
	wantReactions(rold, "[{👍 1 [alice]} {🎉 1 [alice]}]", false)

	// Alice deletes her message: its reactions go, and none come back.
	wantAck(ra, protocol.Frame{Type: protocol.TypeDelete, Room: "r", CID: "a5", Target: 1}, 6)
	wantError(rb, react("b9", 1, "😂"), protocol.ErrConflict)
	wantError(rb, unreact("b10", 1, "🎉"), protocol.ErrConflict)
	h := answer(t, ctx, rb, protocol.Frame{Type: protocol.TypeHistory, ID: "h2", Room: "r"})
	if len(h.Messages) != 6 || !h.Messages[0].Deleted || h.Messages[0].Reactions != nil {
		t.Fatalf("history after the delete = %+v", h.Messages)
	}
}
