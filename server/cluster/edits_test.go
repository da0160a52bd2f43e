package cluster_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/parleychat/parley/shared/protocol"
	"github.com/parleychat/parley/shared/testenv"
)

// TestEditsAcrossNodes: over two nodes with Redis and PostgreSQL, an edit
// sent on one node reaches a subscriber on the other as an event with its
// own offset; a non-author's edit or delete is refused and changes
// nothing; an owner deletes someone else's message; an edit after the
// delete is refused; history shows the latest state; and a client without
// the edits feature never sees an event, live or in history.
func TestEditsAcrossNodes(t *testing.T) {
	c := startCluster(t, options{nodes: 2})
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	ss := signupAll(t, c.baseURLs(), []string{"alice", "bob", "carol"})
	createRooms(t, c.nodes[0].URL, ss[0].AccessToken, "r") // alice owns r
	dial := func(node int, s protocol.Session, features []string) *rawClient {
		rc, err := dialRawWith(ctx, c.nodes[node].WSURL(), s.AccessToken, nil, features)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(rc.close)
		return rc
	}
	edits := []string{protocol.FeatureEdits}
	ra, rb, rold := dial(0, ss[0], edits), dial(1, ss[1], edits), dial(1, ss[2], nil)
	for _, rc := range []*rawClient{ra, rb, rold} {
		if f := answer(t, ctx, rc, protocol.Frame{Type: protocol.TypeSubscribe, Room: "r"}); f.Type != protocol.TypeSubscribed {
			t.Fatalf("%s subscribes: %+v", rc.user, f)
		}
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
	wantAck(ra, protocol.Frame{Type: protocol.TypeSend, Room: "r", CID: "a1", Body: "helo"}, 1)
	wantAck(ra, protocol.Frame{Type: protocol.TypeEdit, Room: "r", CID: "a2", Target: 1, Body: "hello"}, 2)
	ev := waitFrame(t, ctx, rb, "the edit on node 2", func(f protocol.Frame) bool {
		return f.Type == protocol.TypeMsg && f.Msg.Offset == 2
	}).Msg
	if ev.Kind != protocol.MsgEdit || ev.Target != 1 || ev.Body != "hello" || ev.Author != "alice" {
		t.Fatalf("edit event on node 2 = %+v", ev)
	}

	// Bob may neither edit nor delete alice's message.
	wantError(rb, protocol.Frame{Type: protocol.TypeEdit, Room: "r", CID: "b1", Target: 1, Body: "mine now"}, protocol.ErrForbidden)
	wantError(rb, protocol.Frame{Type: protocol.TypeDelete, Room: "r", CID: "b2", Target: 1}, protocol.ErrForbidden)
	wantError(rb, protocol.Frame{Type: protocol.TypeEdit, Room: "r", CID: "b3", Target: 99, Body: "x"}, protocol.ErrNotFound)
	// The owner deletes bob's message; then nobody edits it.
	wantAck(rb, protocol.Frame{Type: protocol.TypeSend, Room: "r", CID: "b4", Body: "spam"}, 3)
	wantAck(ra, protocol.Frame{Type: protocol.TypeDelete, Room: "r", CID: "a3", Target: 3}, 4)
	waitFrame(t, ctx, rb, "the delete on node 2", func(f protocol.Frame) bool {
		return f.Type == protocol.TypeMsg && f.Msg.Offset == 4 && f.Msg.Kind == protocol.MsgDelete && f.Msg.Target == 3
	})
	wantError(rb, protocol.Frame{Type: protocol.TypeEdit, Room: "r", CID: "b5", Target: 3, Body: "back"}, protocol.ErrConflict)
	wantAck(rb, protocol.Frame{Type: protocol.TypeSend, Room: "r", CID: "b6", Body: "ok"}, 5)

	// History shows the latest state, with the events to those who take them.
	h := answer(t, ctx, rb, protocol.Frame{Type: protocol.TypeHistory, ID: "h", Room: "r"})
	got := map[int64]protocol.Message{}
	for _, m := range h.Messages {
		got[m.Offset] = m
	}
	if len(got) != 5 || got[1].Body != "hello" || got[1].Edited != 2 || !got[3].Deleted || got[3].Body != "" || got[4].Kind != protocol.MsgDelete {
		t.Fatalf("history with edits = %+v", h.Messages)
	}

	// Carol's client does not know edits: she got messages 1, 3 and 5
	// live, no event, and her history has no event either.
	seen := pingPong(t, ctx, rold, "p")
	var offsets []int64
	for _, f := range seen {
		if f.Type == protocol.TypeMsg {
			offsets = append(offsets, f.Msg.Offset)
		}
	}
	if fmt.Sprint(offsets) != "[1 3 5]" {
		t.Fatalf("a client without edits got messages %v, want [1 3 5]", offsets)
	}
	h = answer(t, ctx, rold, protocol.Frame{Type: protocol.TypeHistory, ID: "h", Room: "r"})
	offsets = offsets[:0]
	for _, m := range h.Messages {
		offsets = append(offsets, m.Offset)
		if m.Kind != "" {
			t.Fatalf("a client without edits got an event in history: %+v", m)
		}
	}
	if fmt.Sprint(offsets) != "[1 3 5]" || h.Messages[0].Body != "hello" {
		t.Fatalf("history without edits = %+v", h.Messages)
	}
}

// TestEditsRecoveredAfterReconnect: a Go client whose connection is down
// while a message is edited and another deleted (through another node)
// recovers both events after it reconnects, in order, with no gap and no
// duplicate; the edit and delete are sent with Client.Edit and Delete.
func TestEditsRecoveredAfterReconnect(t *testing.T) {
	c := startCluster(t, options{nodes: 2})
	ss := signupAll(t, c.baseURLs(), []string{"alice", "bob"})
	createRooms(t, c.nodes[0].URL, ss[0].AccessToken, "r")
	lb := startBalancer(t, c.nodes[1:])
	alice := connect(t, c.nodes[0].WSURL(), "alice", ss[0].AccessToken, chatOptions{})
	bob := connect(t, lb.wsURL(), "bob", ss[1].AccessToken, chatOptions{})
	alice.subscribe("r")
	bob.subscribe("r")
	alice.send("r", "first")
	alice.send("r", "second")
	testenv.Eventually(t, waitTimeout, "bob has both messages", func() error {
		if n := bob.count("r"); n != 2 {
			return fmt.Errorf("bob has %d messages", n)
		}
		return nil
	})

	lb.refuse(true)
	lb.cut()
	testenv.Eventually(t, waitTimeout, "bob disconnected", func() error {
		if bob.c.Connected() {
			return fmt.Errorf("still connected")
		}
		return nil
	})
	edit, err := alice.c.Edit("r", 1, "first, edited")
	if err != nil {
		t.Fatal(err)
	}
	del, err := alice.c.Delete("r", 2)
	if err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, waitTimeout, "alice's edit and delete acknowledged", func() error {
		alice.mu.Lock()
		defer alice.mu.Unlock()
		if alice.acks[edit] != 3 || alice.acks[del] != 4 {
			return fmt.Errorf("acks %v", alice.acks)
		}
		return nil
	})
	lb.refuse(false)
	testenv.Eventually(t, waitTimeout, "bob recovers the events", func() error {
		if n := bob.count("r"); n != 4 {
			return fmt.Errorf("bob has %d events", n)
		}
		return nil
	})
	got := bob.messages("r")
	if e := got[2]; e.Kind != protocol.MsgEdit || e.Target != 1 || e.Body != "first, edited" || e.CID != edit {
		t.Fatalf("recovered edit = %+v", e)
	}
	if d := got[3]; d.Kind != protocol.MsgDelete || d.Target != 2 || d.Body != "" {
		t.Fatalf("recovered delete = %+v", d)
	}
	// Bob's own edit of alice's message is refused and changes nothing.
	refused, err := bob.c.Edit("r", 1, "bob was here")
	if err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, waitTimeout, "bob's edit refused", func() error {
		bob.mu.Lock()
		defer bob.mu.Unlock()
		for i, p := range bob.problems {
			if strings.Contains(p, "ref "+refused+")") && strings.Contains(p, protocol.ErrForbidden) {
				bob.problems = append(bob.problems[:i], bob.problems[i+1:]...)
				return nil
			}
		}
		return fmt.Errorf("problems %v", bob.problems)
	})
	msgs, _, err := bob.c.History(context.Background(), "r", 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 4 || msgs[0].Body != "first, edited" || !msgs[1].Deleted {
		t.Fatalf("history after a refused edit = %+v", msgs)
	}
}
