package storetest

import (
	"testing"

	"github.com/parleychat/parley/server/store"
	"github.com/parleychat/parley/shared/protocol"
)

var editTests = []test{
	{"EditOwn", testEditOwn},
	{"EditOthersRefused", testEditOthersRefused},
	{"ModeratorDelete", testModeratorDelete},
	{"EditAfterDeleteRefused", testEditAfterDelete},
	{"Idempotent", testAmendIdempotent},
	{"NoSuchTarget", testAmendNoTarget},
	{"RoomEvent", testRoomEvent},
}

// amend stores an edit (body != "") or deletion of target by user.
func amend(t *testing.T, s store.Store, room, user, cid string, target int64, body string, moderator bool) (store.Message, bool, error) {
	t.Helper()
	kind := protocol.MsgDelete
	if body != "" {
		kind = protocol.MsgEdit
	}
	return s.Amend(t.Context(), store.Message{Room: room, Author: user, CID: cid, Kind: kind, Target: target, Body: body}, moderator)
}

func mustAmend(t *testing.T, s store.Store, room, user, cid string, target int64, body string, moderator bool) store.Message {
	t.Helper()
	e, dup, err := amend(t, s, room, user, cid, target, body, moderator)
	if err != nil || dup {
		t.Fatalf("Amend(%s %d by %s, %q): %+v, dup %v, %v", room, target, user, body, e, dup, err)
	}
	return e
}

// byOffset returns room's whole history by offset.
func byOffset(t *testing.T, s store.Store, room string) map[int64]store.Message {
	t.Helper()
	out := make(map[int64]store.Message)
	for _, m := range history(t, s, room, store.Page{Limit: protocol.MaxBacklog}) {
		out[m.Offset] = m
	}
	return out
}

func testEditOwn(t *testing.T, s store.Store) {
	mustRoom(t, s, "r")
	orig, _ := mustAppend(t, s, "r", "alice", "helo", "c1")
	mustAppend(t, s, "r", "bob", "hi", "c2")
	e := mustAmend(t, s, "r", "Alice", "e1", orig.Offset, "hello", false) // names are case-insensitive
	if e.Offset != 3 || e.Kind != protocol.MsgEdit || e.Target != 1 || e.Body != "hello" || e.Author != "Alice" || e.CID != "e1" {
		t.Fatalf("edit event = %+v", e)
	}
	checkTime(t, "edit TS", e.TS)
	e2 := mustAmend(t, s, "r", "alice", "e2", orig.Offset, "hello!", false)
	checkHead(t, s, "r", 4)
	h := byOffset(t, s, "r")
	if m := h[1]; m.Body != "hello!" || m.Edited != e2.Offset || m.Deleted || m.Kind != "" || m.CID != "c1" {
		t.Fatalf("edited message in history = %+v", m)
	}
	if m := h[3]; m.Kind != protocol.MsgEdit || m.Target != 1 || m.Body != "hello!" {
		t.Fatalf("first edit in history = %+v, want the latest body", m)
	}
	if m := h[4]; m.Kind != protocol.MsgEdit || m.Target != 1 || m.Body != "hello!" {
		t.Fatalf("second edit in history = %+v", m)
	}
	if m := h[2]; m.Body != "hi" || m.Edited != 0 {
		t.Fatalf("another message changed: %+v", m)
	}
}

func testEditOthersRefused(t *testing.T, s store.Store) {
	mustRoom(t, s, "r")
	orig, _ := mustAppend(t, s, "r", "alice", "mine", "c1")
	for _, moderator := range []bool{false, true} {
		_, _, err := amend(t, s, "r", "bob", "e1", orig.Offset, "yours", moderator)
		wantErr(t, "edit of another's message", err, store.ErrForbidden)
	}
	_, _, err := amend(t, s, "r", "bob", "d1", orig.Offset, "", false)
	wantErr(t, "delete of another's message by a member", err, store.ErrForbidden)
	checkHead(t, s, "r", 1)
	if m := byOffset(t, s, "r")[1]; m.Body != "mine" || m.Edited != 0 || m.Deleted {
		t.Fatalf("refused changes changed the message: %+v", m)
	}
}

func testModeratorDelete(t *testing.T, s store.Store) {
	mustRoom(t, s, "r")
	orig, _ := mustAppend(t, s, "r", "alice", "secret one", "c1")
	mustAmend(t, s, "r", "alice", "e1", orig.Offset, "secret two", false)
	d := mustAmend(t, s, "r", "mod", "d1", orig.Offset, "", true)
	if d.Offset != 3 || d.Kind != protocol.MsgDelete || d.Target != 1 || d.Body != "" || d.Author != "mod" {
		t.Fatalf("delete event = %+v", d)
	}
	h := byOffset(t, s, "r")
	if m := h[1]; !m.Deleted || m.Body != "" || m.Author != "alice" {
		t.Fatalf("deleted message in history = %+v", m)
	}
	if m := h[2]; m.Body != "" {
		t.Fatalf("the deleted message's edit kept its text: %+v", m)
	}
	own, _ := mustAppend(t, s, "r", "bob", "oops", "c2")
	mustAmend(t, s, "r", "bob", "d2", own.Offset, "", false) // an author deletes their own
	if m := byOffset(t, s, "r")[own.Offset]; !m.Deleted || m.Body != "" {
		t.Fatalf("own deleted message = %+v", m)
	}
}

func testEditAfterDelete(t *testing.T, s store.Store) {
	mustRoom(t, s, "r")
	orig, _ := mustAppend(t, s, "r", "alice", "hi", "c1")
	mustAmend(t, s, "r", "alice", "d1", orig.Offset, "", false)
	_, _, err := amend(t, s, "r", "alice", "e1", orig.Offset, "back", false)
	wantErr(t, "edit after delete", err, store.ErrGone)
	_, _, err = amend(t, s, "r", "alice", "d2", orig.Offset, "", false)
	wantErr(t, "second delete", err, store.ErrGone)
	checkHead(t, s, "r", 2)
}

func testAmendIdempotent(t *testing.T, s store.Store) {
	mustRoom(t, s, "r")
	orig, _ := mustAppend(t, s, "r", "alice", "hi", "c1")
	other, _ := mustAppend(t, s, "r", "alice", "there", "c2")
	e := mustAmend(t, s, "r", "alice", "e1", orig.Offset, "hey", false)
	again, dup, err := amend(t, s, "r", "alice", "e1", orig.Offset, "hey", false)
	if err != nil || !dup || again.Offset != e.Offset || again.Kind != protocol.MsgEdit {
		t.Fatalf("resent edit = %+v, dup %v, %v; want the first (offset %d)", again, dup, err, e.Offset)
	}
	_, _, err = amend(t, s, "r", "alice", "e1", other.Offset, "hey", false)
	wantErr(t, "a cid reused for another target", err, store.ErrConflict)
	_, _, err = amend(t, s, "r", "alice", "c2", orig.Offset, "hey", false)
	wantErr(t, "a message's cid reused for an edit", err, store.ErrConflict)
	checkHead(t, s, "r", 3)
}

func testAmendNoTarget(t *testing.T, s store.Store) {
	mustRoom(t, s, "r")
	orig, _ := mustAppend(t, s, "r", "alice", "hi", "c1")
	e := mustAmend(t, s, "r", "alice", "e1", orig.Offset, "hey", false)
	for _, target := range []int64{99, e.Offset} {
		_, _, err := amend(t, s, "r", "alice", "x", target, "new", false)
		wantErr(t, "edit of a missing message or an event", err, store.ErrNotFound)
	}
	_, _, err := amend(t, s, "nowhere", "alice", "y", 1, "", false)
	wantErr(t, "delete in an unknown room", err, store.ErrNotFound)
	checkHead(t, s, "r", 2)
}

// testRoomEvent: Append keeps the kind of a room event (and no other),
// the event mentions nobody, is not unread and cannot be edited.
func testRoomEvent(t *testing.T, s store.Store) {
	ctx := t.Context()
	if _, err := s.CreateRoomOf(ctx, "team", protocol.KindPrivate, "alice"); err != nil {
		t.Fatal(err)
	}
	if err := s.AddMember(ctx, "team", "bob", protocol.RoleMember); err != nil {
		t.Fatal(err)
	}
	ev, _, err := s.Append(ctx, store.Message{Room: "team", Author: "alice", Kind: protocol.MsgRoom, Target: 7,
		Body: `{"what":"topic","by":"alice","topic":"hi @bob"}`})
	if err != nil {
		t.Fatal(err)
	}
	if ev.Kind != protocol.MsgRoom || ev.Target != 0 || ev.Offset != 1 {
		t.Fatalf("stored room event %+v, want kind %q, no target, offset 1", ev, protocol.MsgRoom)
	}
	forged, _, err := s.Append(ctx, store.Message{Room: "team", Author: "alice", Body: "x", Kind: protocol.MsgEdit, Target: 1})
	if err != nil || forged.Kind != "" || forged.Target != 0 {
		t.Fatalf("Append with kind edit = %+v, %v; want a plain message", forged, err)
	}
	page, err := s.History(ctx, "team", store.Page{Newest: true})
	if err != nil || len(page) != 2 || page[0].Kind != protocol.MsgRoom || page[1].Kind != "" {
		t.Fatalf("history = %+v, %v; want the room event then a message", page, err)
	}
	if r := listed(t, s, "bob")["team"]; r.Unread != 1 || r.Mentions != 0 {
		t.Fatalf("bob's counts %+v: want 1 unread (the message), no mention", r)
	}
	_, _, err = amend(t, s, "team", "alice", "e1", 1, "changed", false)
	wantErr(t, "edit of a room event", err, store.ErrNotFound)
}
