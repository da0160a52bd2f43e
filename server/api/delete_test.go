package api

import (
	"encoding/json"
	"net/http"
	"slices"
	"testing"

	"github.com/parleychat/parley/shared/protocol"
)

// TestDeleteRoom: only an owner deletes a public or private room; a
// stranger to a private room is answered as for a missing one; direct
// rooms, inboxes and the default room are refused. A deletion is
// announced once and lands in every member's inbox, and the room is gone
// from every list and request.
func TestDeleteRoom(t *testing.T) {
	var deleted recorder
	e := newEnv(t, func(c *Config) { c.Deleted = deleted.deleted })
	alice := e.signup("alice", "password1")
	bob := e.signup("bob", "password1")
	carol := e.signup("carol", "password1")
	dave := e.signup("dave", "password1")
	do := func(s protocol.Session, method, path, body string, status int) response {
		t.Helper()
		return e.expect(t, s, method, path, body, status)
	}
	refused := func(s protocol.Session, room string, status int, code string) protocol.APIErrorBody {
		t.Helper()
		got := do(s, "DELETE", protocol.PathRooms+"/"+room, "", status).apiError(t)
		if got.Code != code {
			t.Fatalf("DELETE %s: code %q, want %q", room, got.Code, code)
		}
		return got
	}
	do(alice, "POST", protocol.PathRooms, jsonBody(protocol.CreateRoom{Name: "club", Kind: protocol.KindPrivate}), http.StatusCreated)
	do(alice, "POST", protocol.PathRooms+"/club/members", jsonBody(protocol.Invite{User: "bob"}), http.StatusNoContent)
	do(alice, "POST", protocol.PathRooms+"/club/members", jsonBody(protocol.Invite{User: "carol", Role: protocol.RoleModerator}), http.StatusNoContent)
	do(alice, "POST", protocol.PathRooms, jsonBody(protocol.CreateRoom{Name: "plaza", Kind: protocol.KindPublic}), http.StatusCreated)
	r := do(alice, "POST", protocol.PathDirect, jsonBody(protocol.DirectRequest{User: "bob"}), http.StatusCreated)
	var dm protocol.Room
	if err := json.Unmarshal(r.body, &dm); err != nil {
		t.Fatal(err)
	}
	if _, err := e.store.EnsureRoom(t.Context(), protocol.DefaultRoom); err != nil {
		t.Fatal(err)
	}
	if err := e.store.AddMember(t.Context(), protocol.DefaultRoom, "alice", protocol.RoleOwner); err != nil {
		t.Fatal(err)
	}

	refused(bob, "club", http.StatusForbidden, protocol.ErrForbidden)
	refused(carol, "club", http.StatusForbidden, protocol.ErrForbidden)
	refused(dave, "plaza", http.StatusForbidden, protocol.ErrForbidden)
	missing := refused(dave, "nowhere", http.StatusNotFound, protocol.ErrNotFound)
	if got := refused(dave, "club", http.StatusNotFound, protocol.ErrNotFound); got != missing {
		t.Fatalf("a stranger deleting a private room got %+v, a missing room %+v", got, missing)
	}
	refused(alice, dm.Name, http.StatusForbidden, protocol.ErrForbidden)
	refused(alice, protocol.InboxRoom("bob"), http.StatusNotFound, protocol.ErrNotFound)
	refused(bob, protocol.InboxRoom("bob"), http.StatusForbidden, protocol.ErrForbidden)
	refused(alice, protocol.DefaultRoom, http.StatusForbidden, protocol.ErrForbidden)
	refused(alice, "Not%20A%20Name", http.StatusNotFound, protocol.ErrNotFound)
	if got := deleted.list(); len(got) != 0 {
		t.Fatalf("refused deletions were announced: %v", got)
	}

	do(alice, "DELETE", protocol.PathRooms+"/club", "", http.StatusNoContent)
	got := deleted.list()
	if !slices.Equal(got, []string{"club"}) {
		t.Fatalf("announced deletions %v, want [club]", got)
	}
	want := protocol.UserEvent{Type: protocol.UserDeleted, Room: "club", By: "alice", Kind: protocol.KindPrivate}
	for _, user := range []string{"alice", "bob", "carol"} {
		events := e.inboxEvents(t, user)
		if len(events) == 0 || events[len(events)-1] != want {
			t.Fatalf("%s's inbox = %+v, want it to end with %+v", user, events, want)
		}
	}
	if events := e.inboxEvents(t, "dave"); len(events) != 0 {
		t.Fatalf("dave, never a member, got %+v", events)
	}
	for _, s := range []protocol.Session{alice, bob, carol} {
		if _, ok := e.roomNames(t, s)["club"]; ok {
			t.Fatalf("%s's room list still shows the deleted room", s.User)
		}
	}
	do(bob, "GET", protocol.PathRooms+"/club/members", "", http.StatusNotFound)
	refused(alice, "club", http.StatusNotFound, protocol.ErrNotFound)
	// The name is free again, for anyone; the new room is empty.
	do(dave, "POST", protocol.PathRooms, jsonBody(protocol.CreateRoom{Name: "club", Kind: protocol.KindPublic}), http.StatusCreated)
	if room := e.roomNames(t, bob)["club"]; room.Role != "" || room.Unread != 0 {
		t.Fatalf("bob in the new club: %+v", room)
	}
}
