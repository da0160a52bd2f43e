package cluster_test

import (
	"context"
	"testing"

	"github.com/parleychat/parley/shared/client"
	"github.com/parleychat/parley/shared/protocol"
)

// TestReadMarkersAcrossNodes: over two nodes with Redis and PostgreSQL,
// a read on node 0 reaches the user's socket on node 1 as an inbox event
// (and one that was closed meanwhile after it resubscribes), the room
// list counts unread messages and mentions, markers only move forward
// and stop at the head, and a stranger can neither set a marker in a
// private room nor tell it from a missing one.
func TestReadMarkersAcrossNodes(t *testing.T) {
	c := startCluster(t, options{nodes: 2})
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	ss := signupAll(t, c.baseURLs(), []string{"alice", "bob", "mallory"})
	alice, bob, mallory := ss[0], ss[1], ss[2]
	api0, api1 := client.NewAPI(c.nodes[0].URL, nil), client.NewAPI(c.nodes[1].URL, nil)
	if _, err := api0.CreateRoomOf(ctx, alice.AccessToken, "team", protocol.KindPrivate); err != nil {
		t.Fatal(err)
	}
	if err := api0.Invite(ctx, alice.AccessToken, "team", "bob", ""); err != nil {
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
	inbox := protocol.InboxRoom("bob")
	subscribe := func(rc *rawClient, room string, since int64) {
		t.Helper()
		if f := answer(t, ctx, rc, protocol.Frame{Type: protocol.TypeSubscribe, Room: room, Since: since}); f.Type != protocol.TypeSubscribed {
			t.Fatalf("%s subscribes to %s: %+v", rc.user, room, f)
		}
	}
	// readEvent waits for the inbox event of a read of team up to offset
	// and returns its inbox offset.
	readEvent := func(rc *rawClient, offset int64) int64 {
		t.Helper()
		f := waitFrame(t, ctx, rc, "a read event", func(f protocol.Frame) bool {
			if f.Type != protocol.TypeMsg || f.Msg.Room != inbox {
				return false
			}
			ev, err := protocol.ParseUserEvent(f.Msg.Body)
			return err == nil && ev.Type == protocol.UserRead && ev.Room == "team" && ev.Offset == offset
		})
		return f.Msg.Offset
	}
	tabA, tabB := dial(0, bob), dial(1, bob)
	subscribe(tabA, inbox, 0)
	subscribe(tabB, inbox, 0)

	ra := dial(0, alice)
	// offs are the messages' offsets (the room's stream also holds the
	// room event of bob's invitation).
	var offs []int64
	for i, body := range []string{"hello", "@bob look", "bob@example.com is not a mention"} {
		cid := string(rune('a' + i))
		f := answer(t, ctx, ra, protocol.Frame{Type: protocol.TypeSend, Room: "team", CID: cid, Body: body})
		if f.Type != protocol.TypeAck {
			t.Fatalf("alice sends: %+v", f)
		}
		offs = append(offs, f.Offset)
	}
	counts := func(api *client.API, s protocol.Session) protocol.Room {
		t.Helper()
		rooms, err := api.Rooms(ctx, s.AccessToken)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rooms {
			if r.Name == "team" {
				return r
			}
		}
		return protocol.Room{}
	}
	if r := counts(api1, bob); r.LastRead != 0 || r.Unread != 3 || r.Mentions != 1 {
		t.Fatalf("bob's list before reading: marker %d, unread %d, mentions %d; want 0, 3, 1", r.LastRead, r.Unread, r.Mentions)
	}
	if r := counts(api0, alice); r.Unread != 0 || r.Mentions != 0 {
		t.Fatalf("alice's own messages count for her: %+v", r)
	}

	// A read on node 0 reaches both tabs, the one on node 1 through Redis.
	if err := tabA.write(ctx, protocol.Frame{Type: protocol.TypeRead, Room: "team", Offset: offs[1]}); err != nil {
		t.Fatal(err)
	}
	readEvent(tabA, offs[1])
	last := readEvent(tabB, offs[1])
	if r := counts(api1, bob); r.LastRead != offs[1] || r.Unread != 1 || r.Mentions != 0 {
		t.Fatalf("bob's list after reading to %d: marker %d, unread %d, mentions %d; want %d, 1, 0", offs[1], r.LastRead, r.Unread, r.Mentions, offs[1])
	}

	// Tab B goes away; a read past the head (clamped to it) and one going
	// back (ignored) happen meanwhile; B comes back and recovers the one
	// event from its inbox, with nothing for the ignored one.
	tabB.close()
	for _, off := range []int64{99, 1} {
		if err := tabA.write(ctx, protocol.Frame{Type: protocol.TypeRead, Room: "team", Offset: off}); err != nil {
			t.Fatal(err)
		}
	}
	readEvent(tabA, offs[2])
	for _, f := range pingPong(t, ctx, tabA, "after-reads") {
		if f.Type == protocol.TypeError || f.Type == protocol.TypeMsg {
			t.Fatalf("a read that moved nothing answered %+v", f)
		}
	}
	tabB = dial(1, bob)
	subscribe(tabB, inbox, last)
	readEvent(tabB, offs[2])
	if r := counts(api0, bob); r.LastRead != offs[2] || r.Unread != 0 {
		t.Fatalf("bob's list after reading past the head: %+v; want marker %d, nothing unread", r, offs[2])
	}

	// A stranger: a private room answers like a missing one, and nothing moves.
	rm := dial(1, mallory)
	hidden := answer(t, ctx, rm, protocol.Frame{Type: protocol.TypeRead, Room: "team", Offset: 1})
	missing := answer(t, ctx, rm, protocol.Frame{Type: protocol.TypeRead, Room: "no-such-room", Offset: 1})
	if hidden.Type != protocol.TypeError || hidden.Code != protocol.ErrNotFound ||
		hidden.Code != missing.Code || hidden.Message != missing.Message {
		t.Fatalf("a stranger's read: private room %+v, missing room %+v", hidden, missing)
	}
	if r := counts(api1, mallory); r.Name != "" {
		t.Fatalf("the stranger's list shows the private room: %+v", r)
	}
	if f := answer(t, ctx, tabA, protocol.Frame{Type: protocol.TypeRead, Room: inbox, Offset: 1}); f.Code != protocol.ErrBadRequest {
		t.Fatalf("a read of the inbox: %+v, want bad_request", f)
	}
	if f := answer(t, ctx, tabA, protocol.Frame{Type: protocol.TypeRead, Room: "team"}); f.Code != protocol.ErrBadRequest {
		t.Fatalf("a read without offset: %+v, want bad_request", f)
	}
}
