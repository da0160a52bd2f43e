package storetest

import (
	"fmt"
	"testing"

	"github.com/parleychat/parley/server/store"
	"github.com/parleychat/parley/shared/protocol"
)

var readTests = []test{
	{"MarkerMovesForwardOnly", testMarkerForward},
	{"MarkerOnlyForMembers", testMarkerMembers},
	{"NewMemberStartsAtHead", testMarkerStartsAtHead},
	{"UnreadAndMentionCounts", testUnreadCounts},
	{"EditsMentionNobody", testEditsMentionNobody},
	{"CountsStopAtCap", testUnreadCap},
}

// listed returns user's room list by name, or fails the test.
func listed(t *testing.T, s store.Store, user string) map[string]store.MemberRoom {
	t.Helper()
	rooms, err := s.RoomsOf(t.Context(), user)
	if err != nil {
		t.Fatalf("RoomsOf(%s): %v", user, err)
	}
	out := make(map[string]store.MemberRoom, len(rooms))
	for _, r := range rooms {
		out[r.Name] = r
	}
	return out
}

// setMarker sets a marker and fails the test unless it ends at want,
// having moved or not.
func setMarker(t *testing.T, s store.Store, room, user string, offset, want int64, wantMoved bool) {
	t.Helper()
	got, moved, err := s.SetReadMarker(t.Context(), room, user, offset)
	if err != nil || got != want || moved != wantMoved {
		t.Fatalf("SetReadMarker(%s, %s, %d) = %d, %v, %v; want %d, %v", room, user, offset, got, moved, err, want, wantMoved)
	}
}

func testMarkerForward(t *testing.T, s store.Store) {
	if _, err := s.CreateRoomOf(t.Context(), "team", protocol.KindPrivate, "alice"); err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		mustAppend(t, s, "team", "bob", fmt.Sprintf("m%d", i), "")
	}
	setMarker(t, s, "team", "alice", 3, 3, true)
	setMarker(t, s, "team", "alice", 2, 3, false)
	setMarker(t, s, "team", "alice", 3, 3, false)
	setMarker(t, s, "team", "alice", 99, 5, true) // clamped to the head
	if r := listed(t, s, "alice")["team"]; r.LastRead != 5 || r.Unread != 0 {
		t.Fatalf("after reading all: %+v", r)
	}
}

func testMarkerMembers(t *testing.T, s store.Store) {
	ctx := t.Context()
	if _, err := s.CreateRoomOf(ctx, "team", protocol.KindPrivate, "alice"); err != nil {
		t.Fatal(err)
	}
	mustRoom(t, s, "lobby")
	mustAppend(t, s, "team", "alice", "secret", "")
	mustAppend(t, s, "lobby", "alice", "hello", "")
	for _, room := range []string{"team", "lobby", "nowhere"} {
		_, _, err := s.SetReadMarker(ctx, room, "mallory", 1)
		wantErr(t, "SetReadMarker by a non-member of "+room, err, store.ErrNotFound)
	}
	if r, ok := listed(t, s, "mallory")["lobby"]; !ok || r.LastRead != 0 || r.Unread != 0 || r.Mentions != 0 {
		t.Fatalf("a public room mallory never joined lists %+v, want no marker or counts", r)
	}
	if _, err := s.LeaveRoom(ctx, "team", "alice"); err != nil {
		t.Fatal(err)
	}
	_, _, err := s.SetReadMarker(ctx, "team", "alice", 1)
	wantErr(t, "SetReadMarker after leaving", err, store.ErrNotFound)
}

func testMarkerStartsAtHead(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustRoom(t, s, "lobby")
	if _, err := s.CreateRoomOf(ctx, "team", protocol.KindPrivate, "alice"); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		mustAppend(t, s, "lobby", "alice", fmt.Sprintf("hi @bob %d", i), "")
		mustAppend(t, s, "team", "alice", fmt.Sprintf("hi @bob %d", i), "")
	}
	if _, err := s.Join(ctx, "lobby", "bob"); err != nil {
		t.Fatal(err)
	}
	if err := s.AddMember(ctx, "team", "bob", protocol.RoleMember); err != nil {
		t.Fatal(err)
	}
	rooms := listed(t, s, "bob")
	for _, name := range []string{"lobby", "team"} {
		if r := rooms[name]; r.LastRead != 3 || r.Unread != 0 || r.Mentions != 0 {
			t.Fatalf("%s for a new member: marker %d, unread %d, mentions %d; want 3, 0, 0", name, r.LastRead, r.Unread, r.Mentions)
		}
	}
	dm, _, err := s.DirectRoom(ctx, "alice", "bob")
	if err != nil {
		t.Fatal(err)
	}
	mustAppend(t, s, dm.Name, "alice", "psst", "")
	if r := listed(t, s, "bob")[dm.Name]; r.LastRead != 0 || r.Unread != 1 {
		t.Fatalf("a new direct room's first message: %+v, want marker 0 and 1 unread", r)
	}
}

func testUnreadCounts(t *testing.T, s store.Store) {
	ctx := t.Context()
	if _, err := s.CreateRoomOf(ctx, "team", protocol.KindPrivate, "bob"); err != nil {
		t.Fatal(err)
	}
	if err := s.AddMember(ctx, "team", "Alice", protocol.RoleMember); err != nil {
		t.Fatal(err)
	}
	for _, m := range []struct{ author, body string }{
		{"Alice", "hi @bob"},           // 1: unread, mention
		{"bob", "hello @bob"},          // 2: bob's own: neither
		{"Alice", "mail bob@x.org"},    // 3: unread, no mention
		{"Alice", "thanks @BOB."},      // 4: unread, mention
		{"Alice", "@bobby is not bob"}, // 5: unread, no mention
	} {
		mustAppend(t, s, "team", m.author, m.body, "")
	}
	check := func(lastRead, unread, mentions int64) {
		t.Helper()
		if r := listed(t, s, "bob")["team"]; r.LastRead != lastRead || r.Unread != unread || r.Mentions != mentions {
			t.Fatalf("bob's team: marker %d, unread %d, mentions %d; want %d, %d, %d",
				r.LastRead, r.Unread, r.Mentions, lastRead, unread, mentions)
		}
	}
	check(0, 4, 2)
	setMarker(t, s, "team", "bob", 1, 1, true)
	check(1, 3, 1)
	setMarker(t, s, "team", "bob", 4, 4, true)
	check(4, 1, 0)
	if r := listed(t, s, "Alice")["team"]; r.Unread != 1 || r.Mentions != 0 {
		t.Fatalf("alice's team: %+v, want bob's one message unread", r)
	}
}

// testEditsMentionNobody: a message mentions whom it named when it was
// sent. An edit that adds @bob is no mention of bob, and one that takes
// @bob out leaves the mention counted; a deletion drops it.
func testEditsMentionNobody(t *testing.T, s store.Store) {
	ctx := t.Context()
	if _, err := s.CreateRoomOf(ctx, "team", protocol.KindPrivate, "bob"); err != nil {
		t.Fatal(err)
	}
	if err := s.AddMember(ctx, "team", "alice", protocol.RoleMember); err != nil {
		t.Fatal(err)
	}
	plain, _ := mustAppend(t, s, "team", "alice", "see you", "")
	named, _ := mustAppend(t, s, "team", "alice", "hi @bob", "")
	check := func(when string, unread, mentions int64) {
		t.Helper()
		if r := listed(t, s, "bob")["team"]; r.Unread != unread || r.Mentions != mentions {
			t.Fatalf("%s: bob's unread %d, mentions %d; want %d, %d", when, r.Unread, r.Mentions, unread, mentions)
		}
	}
	check("sent", 2, 1)
	mustAmend(t, s, "team", "alice", "e1", plain.Offset, "see you @bob", false)
	check("after an edit adding @bob", 2, 1)
	mustAmend(t, s, "team", "alice", "e2", named.Offset, "hi", false)
	check("after an edit taking @bob out", 2, 1)
	mustAmend(t, s, "team", "alice", "d1", named.Offset, "", false)
	check("after deleting the mention", 1, 0)
}

func testUnreadCap(t *testing.T, s store.Store) {
	ctx := t.Context()
	if _, err := s.CreateRoomOf(ctx, "busy", protocol.KindPrivate, "bob"); err != nil {
		t.Fatal(err)
	}
	if err := s.AddMember(ctx, "busy", "alice", protocol.RoleMember); err != nil {
		t.Fatal(err)
	}
	for i := range protocol.UnreadCap + 2 {
		mustAppend(t, s, "busy", "alice", fmt.Sprintf("@bob %d", i), "")
	}
	if r := listed(t, s, "bob")["busy"]; r.Unread != protocol.UnreadCap || r.Mentions != protocol.UnreadCap {
		t.Fatalf("counts past the cap: unread %d, mentions %d; want %d", r.Unread, r.Mentions, protocol.UnreadCap)
	}
}
