package api

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/parleychat/parley/server/store"
	"github.com/parleychat/parley/shared/protocol"
)

func jsonBody(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// roomNames lists the rooms GET /api/rooms shows s, by name.
func (e *env) roomNames(t *testing.T, s protocol.Session) map[string]protocol.Room {
	t.Helper()
	r := e.do("GET", protocol.PathRooms, "", bearer(s)...)
	if r.status != http.StatusOK {
		t.Fatalf("list rooms: %d %s", r.status, r.body)
	}
	var list protocol.RoomList
	if err := json.Unmarshal(r.body, &list); err != nil {
		t.Fatal(err)
	}
	out := map[string]protocol.Room{}
	for _, room := range list.Rooms {
		out[room.Name] = room
	}
	return out
}

// recorder keeps, in order, what the API announces through one of
// Config's hooks (its methods of the hooks' types).
type recorder struct {
	mu  sync.Mutex
	got []string
}

func (r *recorder) add(s string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.got = append(r.got, s)
}

func (r *recorder) list() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.got)
}

// removed is a Config.Removed: "room user reason".
func (r *recorder) removed(_ context.Context, room, user, reason string) error {
	r.add(room + " " + user + " " + reason)
	return nil
}

// published is a Config.Publish: the message's room.
func (r *recorder) published(_ context.Context, m store.Message) error {
	r.add(m.Room)
	return nil
}

// deleted is a Config.Deleted: the room.
func (r *recorder) deleted(_ context.Context, room string) error {
	r.add(room)
	return nil
}

// expect does one request as s and fails the test unless it is answered
// with status.
func (e *env) expect(t *testing.T, s protocol.Session, method, path, body string, status int) response {
	t.Helper()
	r := e.do(method, path, body, bearer(s)...)
	if r.status != status {
		t.Fatalf("%s %s: %d %s, want %d", method, path, r.status, r.body, status)
	}
	return r
}

// TestPrivateRoomLooksMissing: to a stranger, every request about a
// private room is answered exactly like one about a room that does not
// exist, and the room list does not show it.
func TestPrivateRoomLooksMissing(t *testing.T) {
	e := newEnv(t, nil)
	alice := e.signup("alice", "password1")
	bob := e.signup("bob", "password1")
	r := e.do("POST", protocol.PathRooms, jsonBody(protocol.CreateRoom{Name: "secret", Kind: protocol.KindPrivate}), bearer(alice)...)
	if r.status != http.StatusCreated {
		t.Fatalf("create private room: %d %s", r.status, r.body)
	}
	var created protocol.Room
	if err := json.Unmarshal(r.body, &created); err != nil || created.Kind != protocol.KindPrivate || created.Role != protocol.RoleOwner {
		t.Fatalf("created %+v, %v", created, err)
	}
	if _, ok := e.roomNames(t, bob)["secret"]; ok {
		t.Fatal("a stranger's room list shows a private room")
	}
	if got := e.roomNames(t, alice)["secret"]; got.Role != protocol.RoleOwner || got.Kind != protocol.KindPrivate {
		t.Fatalf("the owner's room list shows %+v", got)
	}
	requests := []struct{ method, path, body string }{
		{"GET", "/members", ""},
		{"POST", "/members", jsonBody(protocol.Invite{User: "bob"})},
		{"PATCH", "", jsonBody(protocol.UpdateRoom{Topic: new(string)})},
		{"DELETE", "/members/alice", ""},
		{"DELETE", "/members/bob", ""},
		{"GET", "/bans", ""},
		{"PUT", "/bans/alice", ""},
		{"DELETE", "/bans/alice", ""},
	}
	for _, req := range requests {
		hidden := e.do(req.method, protocol.PathRooms+"/secret"+req.path, req.body, bearer(bob)...)
		missing := e.do(req.method, protocol.PathRooms+"/nosuch"+req.path, req.body, bearer(bob)...)
		if hidden.status != http.StatusNotFound || hidden.status != missing.status || hidden.apiError(t) != missing.apiError(t) {
			t.Errorf("%s %s: a private room answers %d %s, a missing one %d %s", req.method, req.path, hidden.status, hidden.body, missing.status, missing.body)
		}
	}
	if members, err := e.store.Roster(t.Context(), "secret"); err != nil || len(members) != 1 {
		t.Fatalf("the stranger's requests changed the roster: %+v, %v", members, err)
	}
}

// TestModeration walks invite, roles, kick, ban, unban and leave through
// the API, with who may do what.
func TestModeration(t *testing.T) {
	rm := &recorder{}
	e := newEnv(t, func(c *Config) { c.Removed = rm.removed })
	alice := e.signup("alice", "password1")
	bob := e.signup("bob", "password1")
	carol := e.signup("carol", "password1")
	path := protocol.PathRooms + "/club"
	if r := e.do("POST", protocol.PathRooms, jsonBody(protocol.CreateRoom{Name: "club", Kind: protocol.KindPrivate}), bearer(alice)...); r.status != http.StatusCreated {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	expect := func(who protocol.Session, method, p, body string, status int) response {
		t.Helper()
		r := e.do(method, path+p, body, bearer(who)...)
		if r.status != status {
			t.Fatalf("%s %s %s: %d %s, want %d", who.User, method, p, r.status, r.body, status)
		}
		return r
	}
	expect(alice, "POST", "/members", jsonBody(protocol.Invite{User: "BOB"}), http.StatusNoContent)
	if got := e.roomNames(t, bob)["club"]; got.Role != protocol.RoleMember {
		t.Fatalf("the invitee sees %+v", got)
	}
	expect(bob, "POST", "/members", jsonBody(protocol.Invite{User: "carol"}), http.StatusForbidden)
	expect(bob, "PATCH", "", jsonBody(protocol.UpdateRoom{Topic: new(string)}), http.StatusForbidden)
	expect(alice, "POST", "/members", jsonBody(protocol.Invite{User: "nobody-here"}), http.StatusNotFound)
	expect(alice, "POST", "/members", jsonBody(protocol.Invite{User: "bob", Role: "boss"}), http.StatusBadRequest)
	expect(alice, "POST", "/members", jsonBody(protocol.Invite{User: "Alice", Role: protocol.RoleMember}), http.StatusBadRequest)
	expect(alice, "POST", "/members", jsonBody(protocol.Invite{User: "bob", Role: protocol.RoleModerator}), http.StatusNoContent)
	expect(bob, "POST", "/members", jsonBody(protocol.Invite{User: "carol", Role: protocol.RoleOwner}), http.StatusForbidden)
	expect(bob, "POST", "/members", jsonBody(protocol.Invite{User: "carol"}), http.StatusNoContent)
	expect(bob, "DELETE", "/members/alice", "", http.StatusForbidden)
	expect(bob, "PUT", "/bans/alice", "", http.StatusForbidden)
	topic := "plans for the weekend"
	r := expect(bob, "PATCH", "", jsonBody(protocol.UpdateRoom{Topic: &topic}), http.StatusOK)
	var room protocol.Room
	if err := json.Unmarshal(r.body, &room); err != nil || room.Topic != topic {
		t.Fatalf("PATCH answered %+v, %v", room, err)
	}
	bad := "two\nlines"
	expect(bob, "PATCH", "", jsonBody(protocol.UpdateRoom{Topic: &bad}), http.StatusBadRequest)

	r = expect(bob, "GET", "/members", "", http.StatusOK)
	var list protocol.MemberList
	if err := json.Unmarshal(r.body, &list); err != nil {
		t.Fatal(err)
	}
	roles := map[string]string{}
	for _, m := range list.Members {
		roles[m.User] = m.Role
	}
	if want := map[string]string{"alice": "owner", "bob": "moderator", "carol": "member"}; len(roles) != 3 || roles["alice"] != want["alice"] || roles["bob"] != want["bob"] || roles["carol"] != want["carol"] {
		t.Fatalf("members = %v, want %v", roles, want)
	}

	expect(bob, "DELETE", "/members/carol", "", http.StatusOK)
	expect(bob, "DELETE", "/members/carol", "", http.StatusNotFound)
	if _, ok := e.roomNames(t, carol)["club"]; ok {
		t.Fatal("a kicked user still sees the private room")
	}
	expect(carol, "GET", "/members", "", http.StatusNotFound)
	expect(alice, "PUT", "/bans/carol", "", http.StatusNoContent)
	expect(bob, "POST", "/members", jsonBody(protocol.Invite{User: "carol"}), http.StatusForbidden)
	r = expect(bob, "GET", "/bans", "", http.StatusOK)
	var bans protocol.BanList
	if err := json.Unmarshal(r.body, &bans); err != nil || len(bans.Bans) != 1 || bans.Bans[0].User != "carol" || bans.Bans[0].BannedAt <= 0 {
		t.Fatalf("bans = %s, %v; want carol", r.body, err)
	}
	expect(carol, "GET", "/bans", "", http.StatusNotFound)
	expect(bob, "DELETE", "/bans/carol", "", http.StatusNoContent)
	if r := expect(alice, "GET", "/bans", "", http.StatusOK); !strings.Contains(string(r.body), `"bans":[]`) {
		t.Fatalf("bans after the unban = %s, want an empty list", r.body)
	}
	expect(bob, "DELETE", "/bans/carol", "", http.StatusNotFound)
	expect(bob, "POST", "/members", jsonBody(protocol.Invite{User: "carol"}), http.StatusNoContent)
	expect(carol, "GET", "/bans", "", http.StatusForbidden)

	r = expect(alice, "DELETE", "/members/ALICE", "", http.StatusOK)
	var left protocol.Left
	if err := json.Unmarshal(r.body, &left); err != nil || left.NewOwner != "bob" {
		t.Fatalf("the last owner left: %+v, %v; want bob to own the room", left, err)
	}
	expect(alice, "GET", "/members", "", http.StatusNotFound)
	want := []string{"club carol kicked", "club carol banned", "club alice left"}
	if got := rm.list(); !slices.Equal(got, want) {
		t.Fatalf("announced removals %q, want %q", got, want)
	}
}

// TestDirectRoomAPI: one direct room per pair, from either side, and
// nobody else sees it; it has no kicks.
func TestDirectRoomAPI(t *testing.T) {
	e := newEnv(t, nil)
	alice := e.signup("alice", "password1")
	bob := e.signup("Bob", "password1")
	carol := e.signup("carol", "password1")
	open := func(s protocol.Session, with string, status int) protocol.Room {
		t.Helper()
		r := e.do("POST", protocol.PathDirect, jsonBody(protocol.DirectRequest{User: with}), bearer(s)...)
		if r.status != status {
			t.Fatalf("%s opens a direct room with %s: %d %s, want %d", s.User, with, r.status, r.body, status)
		}
		var room protocol.Room
		if status < 300 {
			if err := json.Unmarshal(r.body, &room); err != nil {
				t.Fatal(err)
			}
		}
		return room
	}
	first := open(alice, "bob", http.StatusCreated)
	if first.Kind != protocol.KindDirect || first.Peer != "Bob" {
		t.Fatalf("direct room = %+v", first)
	}
	if again := open(alice, "Bob", http.StatusOK); again.Name != first.Name {
		t.Fatalf("a second call made %s, want %s", again.Name, first.Name)
	}
	if theirs := open(bob, "alice", http.StatusOK); theirs.Name != first.Name || theirs.Peer != "alice" {
		t.Fatalf("the other side got %+v, want %s", theirs, first.Name)
	}
	open(alice, "alice", http.StatusBadRequest)
	open(alice, "nobody-here", http.StatusNotFound)
	if got := e.roomNames(t, bob)[first.Name]; got.Peer != "alice" || got.Kind != protocol.KindDirect {
		t.Fatalf("bob's list shows %+v", got)
	}
	if _, ok := e.roomNames(t, carol)[first.Name]; ok {
		t.Fatal("a third user sees the direct room")
	}
	if r := e.do("DELETE", protocol.PathRooms+"/"+first.Name+"/members/Bob", "", bearer(alice)...); r.status != http.StatusForbidden {
		t.Fatalf("kick in a direct room: %d %s", r.status, r.body)
	}
	if r := e.do("GET", protocol.PathRooms+"/"+first.Name+"/members", "", bearer(carol)...); r.status != http.StatusNotFound {
		t.Fatalf("a third user reads the members: %d %s", r.status, r.body)
	}
}

// TestDirectGroupAPI: one direct room per set of people, opened by any
// of them naming the others; the list names the others; bad requests
// are refused clearly and create nothing; an outsider gets not_found.
func TestDirectGroupAPI(t *testing.T) {
	e := newEnv(t, nil)
	alice := e.signup("alice", "password1")
	bob := e.signup("Bob", "password1")
	e.signup("carol", "password1")
	dave := e.signup("dave", "password1")
	open := func(s protocol.Session, req protocol.DirectRequest, status int, code, msg string) protocol.Room {
		t.Helper()
		r := e.do("POST", protocol.PathDirect, jsonBody(req), bearer(s)...)
		if r.status != status {
			t.Fatalf("%s opens %+v: %d %s, want %d", s.User, req, r.status, r.body, status)
		}
		var room protocol.Room
		if status >= 300 {
			var body protocol.APIError
			if err := json.Unmarshal(r.body, &body); err != nil || body.Error.Code != code || !strings.Contains(body.Error.Message, msg) {
				t.Fatalf("%s opens %+v: %s, want %s with %q", s.User, req, r.body, code, msg)
			}
			return room
		}
		if err := json.Unmarshal(r.body, &room); err != nil {
			t.Fatal(err)
		}
		return room
	}
	g := open(alice, protocol.DirectRequest{Users: []string{"carol", "bob"}}, http.StatusCreated, "", "")
	if g.Kind != protocol.KindDirect || !slices.Equal(g.Peers, []string{"Bob", "carol"}) || g.Peer != "" {
		t.Fatalf("group = %+v, want peers Bob and carol", g)
	}
	if again := open(bob, protocol.DirectRequest{Users: []string{"ALICE", "Carol"}}, http.StatusOK, "", ""); again.Name != g.Name ||
		!slices.Equal(again.Peers, []string{"alice", "carol"}) {
		t.Fatalf("bob opens the same group: %+v, want %s with alice and carol", again, g.Name)
	}
	pair := open(alice, protocol.DirectRequest{Users: []string{"bob"}}, http.StatusCreated, "", "")
	if pair.Name == g.Name || pair.Peer != "Bob" || !slices.Equal(pair.Peers, []string{"Bob"}) {
		t.Fatalf("the pair's room = %+v", pair)
	}
	if old := open(bob, protocol.DirectRequest{User: "alice"}, http.StatusOK, "", ""); old.Name != pair.Name {
		t.Fatalf("the single-name form = %s, want %s", old.Name, pair.Name)
	}
	eight := []string{"bob", "carol", "dave", "u4", "u5", "u6", "u7", "u8"}
	for _, bad := range []struct {
		req    protocol.DirectRequest
		status int
		code   string
		msg    string
	}{
		{protocol.DirectRequest{Users: eight}, http.StatusBadRequest, protocol.ErrTooLarge, "at most 8 people"},
		{protocol.DirectRequest{Users: []string{"bob", "nobody-here"}}, http.StatusNotFound, protocol.ErrNotFound, `no such user: "nobody-here"`},
		{protocol.DirectRequest{Users: []string{"Alice"}}, http.StatusBadRequest, protocol.ErrBadRequest, "another user"},
		{protocol.DirectRequest{Users: []string{"bob", "alice"}}, http.StatusBadRequest, protocol.ErrBadRequest, "name only the others"},
		{protocol.DirectRequest{Users: []string{"bob", "dave", "BOB"}}, http.StatusBadRequest, protocol.ErrBadRequest, "named twice"},
		{protocol.DirectRequest{User: "bob", Users: []string{"dave"}}, http.StatusBadRequest, protocol.ErrBadRequest, "not both"},
		{protocol.DirectRequest{}, http.StatusBadRequest, protocol.ErrBadRequest, "at least one"},
	} {
		open(alice, bad.req, bad.status, bad.code, bad.msg)
	}
	if got := e.roomNames(t, dave); len(got) != 0 {
		t.Fatalf("refused requests left dave rooms: %v", got)
	}
	for _, ev := range e.inboxEvents(t, "carol") {
		if ev.Room != g.Name || ev.Type != protocol.UserInvited || ev.By != "alice" || ev.Kind != protocol.KindDirect {
			t.Fatalf("carol's inbox holds %+v, want only the invitation to %s", ev, g.Name)
		}
	}
	if evs := e.inboxEvents(t, "carol"); len(evs) != 1 {
		t.Fatalf("carol's inbox = %+v, want one invitation", evs)
	}
	for _, path := range []string{"/members", "/bans"} {
		if r := e.do("GET", protocol.PathRooms+"/"+g.Name+path, "", bearer(dave)...); r.status != http.StatusNotFound {
			t.Fatalf("an outsider reads %s of the group: %d %s", path, r.status, r.body)
		}
	}
}

// inboxEvents reads user's inbox from the store.
func (e *env) inboxEvents(t *testing.T, user string) []protocol.UserEvent {
	t.Helper()
	msgs, err := e.store.History(t.Context(), protocol.InboxRoom(user), store.Page{Newest: true})
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	var out []protocol.UserEvent
	for _, m := range msgs {
		ev, err := protocol.ParseUserEvent(m.Body)
		if err != nil {
			t.Fatalf("inbox of %s holds %q: %v", user, m.Body, err)
		}
		out = append(out, ev)
	}
	return out
}

// roomEvents returns the room events stored in room, in order.
func (e *env) roomEvents(t *testing.T, room string) []protocol.RoomEvent {
	t.Helper()
	msgs, err := e.store.History(t.Context(), room, store.Page{Newest: true})
	if err != nil {
		t.Fatal(err)
	}
	var out []protocol.RoomEvent
	for _, m := range msgs {
		if m.Kind != protocol.MsgRoom {
			continue
		}
		ev, err := protocol.ParseRoomEvent(m.Body)
		if err != nil {
			t.Fatalf("%s holds room event %q: %v", room, m.Body, err)
		}
		out = append(out, ev)
	}
	return out
}

// TestUserEvents: invitations, role changes, removals and new direct
// rooms land in the user's inbox, in order, and are published; the same
// changes land in the room's own stream as room events, also published;
// reserved names cannot be taken.
func TestUserEvents(t *testing.T) {
	var pub recorder
	e := newEnv(t, func(c *Config) { c.Publish = pub.published })
	alice := e.signup("alice", "password1")
	bob := e.signup("Bob", "password1")
	do := func(s protocol.Session, method, path, body string, status int) response {
		t.Helper()
		return e.expect(t, s, method, path, body, status)
	}
	do(alice, "POST", protocol.PathRooms, jsonBody(protocol.CreateRoom{Name: "club", Kind: protocol.KindPrivate}), http.StatusCreated)
	do(alice, "POST", protocol.PathRooms+"/club/members", jsonBody(protocol.Invite{User: "bob"}), http.StatusNoContent)
	do(alice, "POST", protocol.PathRooms+"/club/members", jsonBody(protocol.Invite{User: "bob"}), http.StatusNoContent)
	do(alice, "POST", protocol.PathRooms+"/club/members", jsonBody(protocol.Invite{User: "bob", Role: protocol.RoleModerator}), http.StatusNoContent)
	do(alice, "DELETE", protocol.PathRooms+"/club/members/bob", "", http.StatusOK)
	r := do(alice, "POST", protocol.PathDirect, jsonBody(protocol.DirectRequest{User: "bob"}), http.StatusCreated)
	var dm protocol.Room
	if err := json.Unmarshal(r.body, &dm); err != nil {
		t.Fatal(err)
	}
	want := []protocol.UserEvent{
		{Type: protocol.UserInvited, Room: "club", By: "alice", Kind: protocol.KindPrivate},
		{Type: protocol.UserRole, Room: "club", By: "alice", Role: protocol.RoleModerator},
		{Type: protocol.UserRemoved, Room: "club", By: "alice", Reason: protocol.RemovedKicked},
		{Type: protocol.UserInvited, Room: dm.Name, By: "alice", Kind: protocol.KindDirect},
	}
	if got := e.inboxEvents(t, "bob"); !slices.Equal(got, want) {
		t.Fatalf("bob's inbox = %+v, want %+v (a second invite of a member adds nothing)", got, want)
	}
	if got := e.inboxEvents(t, "alice"); len(got) != 0 {
		t.Fatalf("alice's inbox = %+v, want none", got)
	}
	wantRoom := []protocol.RoomEvent{
		{What: protocol.RoomJoined, User: "Bob", By: "alice"},
		{What: protocol.RoomRole, User: "Bob", By: "alice", Role: protocol.RoleModerator},
		{What: protocol.RoomRemoved, User: "Bob", By: "alice", Reason: protocol.RemovedKicked},
	}
	if got := e.roomEvents(t, "club"); !slices.Equal(got, wantRoom) {
		t.Fatalf("club's room events = %+v, want %+v", got, wantRoom)
	}
	published := pub.list()
	inbox, club := 0, 0
	for _, room := range published {
		switch room {
		case protocol.InboxRoom("bob"):
			inbox++
		case "club":
			club++
		}
	}
	n := len(published)
	if inbox != len(want) || club != len(wantRoom) || n != inbox+club {
		t.Fatalf("published %d inbox events and %d room events of %d, want %d and %d", inbox, club, n, len(want), len(wantRoom))
	}
	if _, ok := e.roomNames(t, bob)[protocol.InboxRoom("bob")]; ok {
		t.Fatal("the room list shows the inbox")
	}
	for _, name := range []string{protocol.InboxRoom("mallory"), "dm-mine"} {
		r := e.do("POST", protocol.PathRooms, jsonBody(protocol.CreateRoom{Name: name}), bearer(alice)...)
		if r.status != http.StatusBadRequest {
			t.Fatalf("creating reserved %s: %d %s", name, r.status, r.body)
		}
	}

	// Deleting the last owner's account tells the heir, like a leave.
	do(alice, "POST", protocol.PathRooms, jsonBody(protocol.CreateRoom{Name: "guild", Kind: protocol.KindPrivate}), http.StatusCreated)
	do(alice, "POST", protocol.PathRooms+"/guild/members", jsonBody(protocol.Invite{User: "bob"}), http.StatusNoContent)
	do(alice, "DELETE", protocol.PathAccount, jsonBody(protocol.DeleteAccount{Password: "password1"}), http.StatusNoContent)
	got := e.inboxEvents(t, "bob")
	want = append(want,
		protocol.UserEvent{Type: protocol.UserInvited, Room: "guild", By: "alice", Kind: protocol.KindPrivate},
		protocol.UserEvent{Type: protocol.UserRole, Room: "guild", By: "alice", Role: protocol.RoleOwner})
	if !slices.Equal(got, want) {
		t.Fatalf("bob's inbox after alice deleted her account = %+v, want %+v", got, want)
	}
	wantGuild := []protocol.RoomEvent{
		{What: protocol.RoomJoined, User: "Bob", By: "alice"},
		{What: protocol.RoomRole, User: "Bob", By: "alice", Role: protocol.RoleOwner},
	}
	if got := e.roomEvents(t, "guild"); !slices.Equal(got, wantGuild) {
		t.Fatalf("guild's room events = %+v, want %+v", got, wantGuild)
	}
	n = len(pub.list())
	if n != len(want)+len(wantRoom)+len(wantGuild) {
		t.Fatalf("published %d events, want %d", n, len(want)+len(wantRoom)+len(wantGuild))
	}
}

// feedEvents reads the room feed from the store.
func (e *env) feedEvents(t *testing.T) []protocol.FeedEvent {
	t.Helper()
	msgs, err := e.store.History(t.Context(), protocol.RoomFeed, store.Page{Newest: true})
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	var out []protocol.FeedEvent
	for _, m := range msgs {
		ev, err := protocol.ParseFeedEvent(m.Body)
		if err != nil {
			t.Fatalf("the feed holds %q: %v", m.Body, err)
		}
		out = append(out, ev)
	}
	return out
}

// TestRoomFeed: creating a public room and setting a public room's topic
// land in the room feed and are published; nothing about a private or
// direct room does, nor a refused request.
func TestRoomFeed(t *testing.T) {
	var pub recorder
	e := newEnv(t, func(c *Config) { c.Publish = pub.published })
	alice := e.signup("alice", "password1")
	e.signup("bob", "password1")
	do := func(method, path, body string, status int) {
		t.Helper()
		if r := e.do(method, path, body, bearer(alice)...); r.status != status {
			t.Fatalf("%s %s: %d %s, want %d", method, path, r.status, r.body, status)
		}
	}
	topic := func(s string) string { return jsonBody(protocol.UpdateRoom{Topic: &s}) }
	do("POST", protocol.PathRooms, jsonBody(protocol.CreateRoom{Name: "lobby"}), http.StatusCreated)
	do("POST", protocol.PathRooms, jsonBody(protocol.CreateRoom{Name: "club", Kind: protocol.KindPrivate}), http.StatusCreated)
	do("POST", protocol.PathRooms, jsonBody(protocol.CreateRoom{Name: "lobby"}), http.StatusConflict)
	do("POST", protocol.PathRooms, jsonBody(protocol.CreateRoom{Name: protocol.RoomFeed}), http.StatusBadRequest)
	do("POST", protocol.PathDirect, jsonBody(protocol.DirectRequest{User: "bob"}), http.StatusCreated)
	do("PATCH", protocol.PathRooms+"/lobby", topic("all welcome"), http.StatusOK)
	do("PATCH", protocol.PathRooms+"/club", topic("members only"), http.StatusOK)
	do("PATCH", protocol.PathRooms+"/lobby", topic("bad\ntopic"), http.StatusBadRequest)
	do("PATCH", protocol.PathRooms+"/lobby", topic(""), http.StatusOK)
	want := []protocol.FeedEvent{
		{Type: protocol.FeedCreated, Room: "lobby", Kind: protocol.KindPublic, By: "alice"},
		{Type: protocol.FeedTopic, Room: "lobby", By: "alice", Topic: "all welcome"},
		{Type: protocol.FeedTopic, Room: "lobby", By: "alice"},
	}
	if got := e.feedEvents(t); !slices.Equal(got, want) {
		t.Fatalf("room feed = %+v, want %+v", got, want)
	}
	n := 0
	for _, room := range pub.list() {
		if room == protocol.RoomFeed {
			n++
		}
	}
	if n != len(want) {
		t.Fatalf("published %d feed events, want %d", n, len(want))
	}
	if _, ok := e.roomNames(t, alice)[protocol.RoomFeed]; ok {
		t.Fatal("the room list shows the feed")
	}
	if r := e.do("GET", protocol.PathRooms+"/"+protocol.RoomFeed+"/members", "", bearer(alice)...); r.status != http.StatusNotFound {
		t.Fatalf("the feed's members: %d %s, want 404", r.status, r.body)
	}
}
