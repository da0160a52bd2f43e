package storetest

import (
	"errors"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/parleychat/parley/server/store"
	"github.com/parleychat/parley/shared/protocol"
)

var conversationTests = []test{
	{"KindsAndAccess", testKindsAndAccess},
	{"JoinOnlyPublic", testJoinOnlyPublic},
	{"RoomsOfShowsOnlyVisible", testRoomsOf},
	{"BanAndUnban", testBan},
	{"Kick", testKick},
	{"LeaveHandsOwnershipOn", testLeaveHandsOn},
	{"DeleteUserHandsOwnershipOn", testDeleteHandsOn},
	{"RolesAndTopic", testRolesAndTopic},
	{"DirectRoomPerPair", testDirectRoom},
	{"DirectRoomAtOnce", func(t *testing.T, s store.Store) { testDirectRoomAtOnce(t, []store.Store{s}) }},
	{"Inbox", testInbox},
	{"Feed", testFeed},
	{"FeedNameTaken", testFeedTaken},
	{"DeleteRoom", testDeleteRoom},
}

// mustAccess returns user's access to room or fails the test.
func mustAccess(t *testing.T, s store.Store, room, user string) store.Access {
	t.Helper()
	a, err := s.Access(t.Context(), room, user)
	if err != nil {
		t.Fatalf("Access(%s, %s): %v", room, user, err)
	}
	return a
}

func roster(t *testing.T, s store.Store, room string) map[string]string {
	t.Helper()
	ms, err := s.Roster(t.Context(), room)
	if err != nil {
		t.Fatalf("Roster(%s): %v", room, err)
	}
	out := make(map[string]string, len(ms))
	for _, m := range ms {
		checkTime(t, "JoinedAt", m.JoinedAt)
		out[m.User] = m.Role
	}
	return out
}

func testKindsAndAccess(t *testing.T, s store.Store) {
	ctx := t.Context()
	legacy := mustRoom(t, s, "lobby")
	if legacy.Kind != protocol.KindPublic {
		t.Fatalf("CreateRoom made a %q room, want public", legacy.Kind)
	}
	r, err := s.CreateRoomOf(ctx, "secret", protocol.KindPrivate, "alice")
	if err != nil {
		t.Fatalf("CreateRoomOf: %v", err)
	}
	if r.Kind != protocol.KindPrivate || r.CreatedBy != "alice" || r.Epoch <= 0 {
		t.Fatalf("CreateRoomOf returned %+v", r)
	}
	got, err := s.Room(ctx, "secret")
	if err != nil || got.Kind != protocol.KindPrivate || got.Topic != "" {
		t.Fatalf("Room(secret) = %+v, %v", got, err)
	}
	_, err = s.CreateRoomOf(ctx, "secret", protocol.KindPublic, "bob")
	wantErr(t, "CreateRoomOf of an existing name", err, store.ErrConflict)
	_, err = s.CreateRoomOf(ctx, "lobby", protocol.KindPrivate, "bob")
	wantErr(t, "CreateRoomOf over a public room", err, store.ErrConflict)

	if a := mustAccess(t, s, "secret", "alice"); a.Role != protocol.RoleOwner || !a.CanRead() || !a.CanModerate() {
		t.Fatalf("owner's access = %+v", a)
	}
	if a := mustAccess(t, s, "secret", "bob"); a.Role != "" || a.CanRead() || a.CanModerate() {
		t.Fatalf("stranger's access to a private room = %+v", a)
	}
	if a := mustAccess(t, s, "lobby", "bob"); !a.CanRead() || a.CanModerate() {
		t.Fatalf("stranger's access to a public room = %+v", a)
	}
	if err := s.AddMember(ctx, "secret", "bob", protocol.RoleMember); err != nil {
		t.Fatalf("AddMember: %v", err)
	}
	if err := s.AddMember(ctx, "secret", "bob", protocol.RoleModerator); err != nil {
		t.Fatalf("AddMember again: %v", err)
	}
	if a := mustAccess(t, s, "secret", "bob"); a.Role != protocol.RoleMember || !a.CanRead() || a.CanModerate() {
		t.Fatalf("invited member's access = %+v (a second invite keeps the role)", a)
	}
	_, err = s.Access(ctx, "nowhere", "alice")
	wantErr(t, "Access(nowhere)", err, store.ErrNotFound)
	wantErr(t, "AddMember(nowhere)", s.AddMember(ctx, "nowhere", "bob", protocol.RoleMember), store.ErrNotFound)
}

func testJoinOnlyPublic(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustRoom(t, s, "lobby")
	if _, err := s.CreateRoomOf(ctx, "secret", protocol.KindPrivate, "alice"); err != nil {
		t.Fatal(err)
	}
	wantErr(t, "Join of a private room by a stranger", refusedJoin(s.Join(ctx, "secret", "mallory")), store.ErrNotFound)
	if got := roster(t, s, "secret"); len(got) != 1 {
		t.Fatalf("after a refused join the roster is %v", got)
	}
	if _, err := s.Join(ctx, "secret", "alice"); err != nil {
		t.Fatalf("Join of a private room by its owner: %v", err)
	}
	if _, err := s.Join(ctx, "lobby", "bob"); err != nil {
		t.Fatalf("Join of a public room: %v", err)
	}
	if got := roster(t, s, "lobby"); got["bob"] != protocol.RoleMember {
		t.Fatalf("roster of lobby = %v", got)
	}
	if got := roster(t, s, "secret"); got["alice"] != protocol.RoleOwner {
		t.Fatalf("Join changed the owner's role: %v", got)
	}
}

func testRoomsOf(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustRoom(t, s, "lobby")
	mustRoom(t, s, "banned-from")
	for _, name := range []string{"alices", "bobs"} {
		owner := strings.TrimSuffix(name, "s")
		if _, err := s.CreateRoomOf(ctx, name, protocol.KindPrivate, owner); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.RemoveMember(ctx, "banned-from", "alice", true); err != nil {
		t.Fatal(err)
	}
	dm, _, err := s.DirectRoom(ctx, "alice", "carol")
	if err != nil {
		t.Fatal(err)
	}
	inbox, err := s.CreateRoomOf(ctx, protocol.InboxRoom("alice"), protocol.KindInbox, "alice")
	if err != nil {
		t.Fatal(err)
	}
	if a := mustAccess(t, s, inbox.Name, "alice"); !a.CanRead() || a.CanSend() || a.CanModerate() {
		t.Fatalf("access to one's inbox = %+v: read, but no send or moderation", a)
	}
	rooms, err := s.RoomsOf(ctx, "alice")
	if err != nil {
		t.Fatalf("RoomsOf: %v", err)
	}
	got := map[string]store.MemberRoom{}
	var names []string
	for _, r := range rooms {
		got[r.Name] = r
		names = append(names, r.Name)
	}
	want := []string{"alices", dm.Name, "lobby"}
	slices.Sort(want)
	if !slices.Equal(names, want) {
		t.Fatalf("RoomsOf(alice) = %v, want %v (by name; no bob's private room, no room she is banned from, no inbox)", names, want)
	}
	if r := got["alices"]; r.Role != protocol.RoleOwner || r.Kind != protocol.KindPrivate {
		t.Fatalf("alice's own room = %+v", r)
	}
	if r := got["lobby"]; r.Role != "" || r.Kind != protocol.KindPublic {
		t.Fatalf("a public room alice never joined = %+v", r)
	}
	if r := got[dm.Name]; r.Peer != "carol" || r.Kind != protocol.KindDirect || r.Role != protocol.RoleMember {
		t.Fatalf("alice's direct room = %+v", r)
	}
	rooms, err = s.RoomsOf(ctx, "carol")
	if err != nil || len(rooms) != 3 {
		t.Fatalf("RoomsOf(carol) = %+v, %v; want banned-from, the direct room, lobby", rooms, err)
	}
	for _, r := range rooms {
		if r.Name == dm.Name && r.Peer != "alice" {
			t.Fatalf("carol's direct room = %+v", r)
		}
	}
}

func testBan(t *testing.T, s store.Store) {
	ctx := t.Context()
	before := mustRoom(t, s, "lobby")
	if _, err := s.Join(ctx, "lobby", "mallory"); err != nil {
		t.Fatal(err)
	}
	if err := s.RemoveMember(ctx, "lobby", "mallory", true); err != nil {
		t.Fatalf("ban: %v", err)
	}
	a := mustAccess(t, s, "lobby", "mallory")
	if !a.Banned || a.Role != "" || a.CanRead() {
		t.Fatalf("banned user's access = %+v", a)
	}
	wantErr(t, "Join when banned", refusedJoin(s.Join(ctx, "lobby", "mallory")), store.ErrBanned)
	wantErr(t, "AddMember when banned", s.AddMember(ctx, "lobby", "mallory", protocol.RoleMember), store.ErrBanned)
	if got := roster(t, s, "lobby"); len(got) != 0 {
		t.Fatalf("roster after ban = %v", got)
	}
	after, err := s.Room(ctx, "lobby")
	if err != nil || after.Roster <= before.Roster {
		t.Fatalf("a ban did not move the roster: %d → %+v, %v", before.Roster, after, err)
	}
	// Banning someone who never joined records the ban too.
	if err := s.RemoveMember(ctx, "lobby", "eve", true); err != nil {
		t.Fatalf("ban of a non-member: %v", err)
	}
	wantErr(t, "Join of a pre-emptively banned user", refusedJoin(s.Join(ctx, "lobby", "eve")), store.ErrBanned)
	bans, err := s.Bans(ctx, "lobby")
	if err != nil || len(bans) != 2 || bans[0].User != "eve" || bans[1].User != "mallory" {
		t.Fatalf("Bans(lobby) = %+v, %v; want eve and mallory", bans, err)
	}
	checkTime(t, "BannedAt", bans[0].BannedAt)
	if _, err := s.Bans(ctx, "nowhere"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Bans of an unknown room: %v, want ErrNotFound", err)
	}
	if err := s.Unban(ctx, "lobby", "mallory"); err != nil {
		t.Fatalf("Unban: %v", err)
	}
	wantErr(t, "Unban again", s.Unban(ctx, "lobby", "mallory"), store.ErrNotFound)
	if bans, err := s.Bans(ctx, "lobby"); err != nil || len(bans) != 1 || bans[0].User != "eve" {
		t.Fatalf("Bans(lobby) after unban = %+v, %v; want eve", bans, err)
	}
	if _, err := s.Join(ctx, "lobby", "mallory"); err != nil {
		t.Fatalf("Join after unban: %v", err)
	}
	wantErr(t, "ban in an unknown room", s.RemoveMember(ctx, "nowhere", "eve", true), store.ErrNotFound)
}

func testKick(t *testing.T, s store.Store) {
	ctx := t.Context()
	if _, err := s.CreateRoomOf(ctx, "secret", protocol.KindPrivate, "alice"); err != nil {
		t.Fatal(err)
	}
	if err := s.AddMember(ctx, "secret", "bob", protocol.RoleMember); err != nil {
		t.Fatal(err)
	}
	before, _ := s.Room(ctx, "secret")
	if err := s.RemoveMember(ctx, "secret", "bob", false); err != nil {
		t.Fatalf("kick: %v", err)
	}
	if a := mustAccess(t, s, "secret", "bob"); a.CanRead() || a.Banned {
		t.Fatalf("kicked user's access = %+v", a)
	}
	after, _ := s.Room(ctx, "secret")
	if after.Roster <= before.Roster {
		t.Fatalf("a kick did not move the roster: %d → %d", before.Roster, after.Roster)
	}
	wantErr(t, "kick of a non-member", s.RemoveMember(ctx, "secret", "bob", false), store.ErrNotFound)
	if again, _ := s.Room(ctx, "secret"); again.Roster != after.Roster {
		t.Fatalf("a refused kick moved the roster: %d → %d", after.Roster, again.Roster)
	}
	// A kicked user may be invited again (a kick is not a ban).
	if err := s.AddMember(ctx, "secret", "bob", protocol.RoleMember); err != nil {
		t.Fatalf("invite after kick: %v", err)
	}
}

func testLeaveHandsOn(t *testing.T, s store.Store) {
	ctx := t.Context()
	if _, err := s.CreateRoomOf(ctx, "club", protocol.KindPrivate, "alice"); err != nil {
		t.Fatal(err)
	}
	for _, u := range []string{"bob", "carol"} {
		if err := s.AddMember(ctx, "club", u, protocol.RoleMember); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.SetRole(ctx, "club", "carol", protocol.RoleModerator); err != nil {
		t.Fatal(err)
	}
	heir, err := s.LeaveRoom(ctx, "club", "alice")
	if err != nil || heir != "carol" {
		t.Fatalf("last owner leaves: heir %q, %v; want the moderator carol", heir, err)
	}
	if got := roster(t, s, "club"); !mapsEqual(got, map[string]string{"bob": protocol.RoleMember, "carol": protocol.RoleOwner}) {
		t.Fatalf("roster = %v", got)
	}
	if err := s.AddMember(ctx, "club", "dave", protocol.RoleOwner); err != nil {
		t.Fatal(err)
	}
	if heir, err := s.LeaveRoom(ctx, "club", "carol"); err != nil || heir != "" {
		t.Fatalf("an owner leaves while another stays: heir %q, %v", heir, err)
	}
	if heir, err := s.LeaveRoom(ctx, "club", "dave"); err != nil || heir != "bob" {
		t.Fatalf("last owner leaves: heir %q, %v; want the member bob", heir, err)
	}
	if heir, err := s.LeaveRoom(ctx, "club", "bob"); err != nil || heir != "" {
		t.Fatalf("the last member leaves: heir %q, %v", heir, err)
	}
	_, err = s.LeaveRoom(ctx, "club", "bob")
	wantErr(t, "leave twice", err, store.ErrNotFound)
	_, err = s.LeaveRoom(ctx, "nowhere", "bob")
	wantErr(t, "leave an unknown room", err, store.ErrNotFound)
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func testRolesAndTopic(t *testing.T, s store.Store) {
	ctx := t.Context()
	if _, err := s.CreateRoomOf(ctx, "club", protocol.KindPublic, "alice"); err != nil {
		t.Fatal(err)
	}
	wantErr(t, "SetRole of a non-member", s.SetRole(ctx, "club", "bob", protocol.RoleModerator), store.ErrNotFound)
	if err := s.SetTopic(ctx, "club", "Tea & biscuits ☕"); err != nil {
		t.Fatalf("SetTopic: %v", err)
	}
	r, err := s.Room(ctx, "club")
	if err != nil || r.Topic != "Tea & biscuits ☕" || r.Kind != protocol.KindPublic {
		t.Fatalf("after SetTopic: %+v, %v", r, err)
	}
	wantErr(t, "SetTopic of an unknown room", s.SetTopic(ctx, "nowhere", "x"), store.ErrNotFound)
	_, err = s.Roster(ctx, "nowhere")
	wantErr(t, "Roster(nowhere)", err, store.ErrNotFound)
}

func testDirectRoom(t *testing.T, s store.Store) {
	ctx := t.Context()
	r, created, err := s.DirectRoom(ctx, "alice", "Bob")
	if err != nil || !created {
		t.Fatalf("DirectRoom: %+v, created %v, %v", r, created, err)
	}
	if r.Kind != protocol.KindDirect || !protocol.ValidRoomName(r.Name) || !strings.HasPrefix(r.Name, "dm-") {
		t.Fatalf("DirectRoom returned %+v", r)
	}
	if got := roster(t, s, r.Name); !mapsEqual(got, map[string]string{"alice": protocol.RoleMember, "Bob": protocol.RoleMember}) {
		t.Fatalf("direct room roster = %v", got)
	}
	if a := mustAccess(t, s, r.Name, "alice"); a.CanModerate() {
		t.Fatalf("a direct room member may moderate: %+v", a)
	}
	again, created, err := s.DirectRoom(ctx, "Bob", "alice")
	if err != nil || created || again.Name != r.Name {
		t.Fatalf("DirectRoom the other way round = %s, created %v, %v; want %s", again.Name, created, err, r.Name)
	}
	// Names are case-insensitive: the same pair, the same room.
	again, _, err = s.DirectRoom(ctx, "ALICE", "bob")
	if err != nil || again.Name != r.Name {
		t.Fatalf("DirectRoom in other case = %s, %v; want %s", again.Name, err, r.Name)
	}
	other, created, err := s.DirectRoom(ctx, "alice", "carol")
	if err != nil || !created || other.Name == r.Name {
		t.Fatalf("DirectRoom of another pair = %+v, created %v, %v", other, created, err)
	}
	_, _, err = s.DirectRoom(ctx, "alice", "Alice")
	wantErr(t, "DirectRoom with oneself", err, store.ErrConflict)
	if _, err := s.LeaveRoom(ctx, r.Name, "alice"); err != nil {
		t.Fatal(err)
	}
	if a := mustAccess(t, s, r.Name, "alice"); a.CanRead() {
		t.Fatalf("alice left but may read: %+v", a)
	}
	wantErr(t, "Join of a direct room", refusedJoin(s.Join(ctx, r.Name, "alice")), store.ErrNotFound)
	if back, _, err := s.DirectRoom(ctx, "alice", "Bob"); err != nil || back.Name != r.Name {
		t.Fatalf("DirectRoom after leaving = %+v, %v", back, err)
	}
	if a := mustAccess(t, s, r.Name, "alice"); !a.CanRead() {
		t.Fatalf("DirectRoom did not bring alice back: %+v", a)
	}
}

// testDirectRoomAtOnce creates one pair's direct room from every store at
// once: exactly one room, which every call returns.
func testDirectRoomAtOnce(t *testing.T, stores []store.Store) {
	const perNode = 6
	names := make([]string, perNode*len(stores))
	createdN := make([]bool, len(names))
	var wg sync.WaitGroup
	for i := range names {
		wg.Go(func() {
			a, b := "alice", "bob"
			if i%2 == 1 {
				a, b = b, a
			}
			r, created, err := stores[i%len(stores)].DirectRoom(t.Context(), a, b)
			if err != nil {
				t.Errorf("DirectRoom: %v", err)
			}
			names[i], createdN[i] = r.Name, created
		})
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	wantOneDirectRoom(t, names, createdN, "pair")
	rooms, err := stores[0].RoomsOf(t.Context(), "alice")
	if err != nil || len(rooms) != 1 {
		t.Fatalf("alice sees %+v, %v; want one direct room", rooms, err)
	}
}

func testInbox(t *testing.T, s store.Store) {
	ctx := t.Context()
	name, err := store.EnsureInbox(ctx, s, "Alice")
	if err != nil || name != protocol.InboxRoom("alice") {
		t.Fatalf("EnsureInbox = %q, %v; want %q", name, err, protocol.InboxRoom("alice"))
	}
	if again, err := store.EnsureInbox(ctx, s, "Alice"); err != nil || again != name {
		t.Fatalf("EnsureInbox again = %q, %v", again, err)
	}
	events := []protocol.UserEvent{
		{Type: protocol.UserInvited, Room: "club", By: "bob", Kind: protocol.KindPrivate},
		{Type: protocol.UserRemoved, Room: "club", By: "bob", Reason: protocol.RemovedKicked},
	}
	for i, ev := range events {
		m, err := store.AppendUserEvent(ctx, s, "Alice", ev)
		if err != nil || m.Offset != int64(i+1) || m.Room != name {
			t.Fatalf("AppendUserEvent %d = %+v, %v", i, m, err)
		}
	}
	msgs, err := s.History(ctx, name, store.Page{Newest: true})
	if err != nil || len(msgs) != len(events) {
		t.Fatalf("inbox history = %+v, %v", msgs, err)
	}
	for i, m := range msgs {
		got, err := protocol.ParseUserEvent(m.Body)
		if err != nil || got != events[i] {
			t.Fatalf("event %d = %+v, %v; want %+v", i, got, err, events[i])
		}
	}
	if a := mustAccess(t, s, name, "bob"); a.CanRead() {
		t.Fatalf("another user may read alice's inbox: %+v", a)
	}
	wantErr(t, "Join of another's inbox", refusedJoin(s.Join(ctx, name, "bob")), store.ErrNotFound)
	// A room that took an inbox's name before names were reserved is
	// never used as the inbox.
	mustRoom(t, s, protocol.InboxRoom("carol"))
	_, err = store.AppendUserEvent(ctx, s, "carol", events[0])
	wantErr(t, "AppendUserEvent to a squatted inbox", err, store.ErrInboxTaken)
}

// testFeed: the room feed has no members; everyone reads it and nobody
// joins it, sends to it, moderates it or sees it in the room list; only
// public rooms' events go in.
func testFeed(t *testing.T, s store.Store) {
	ctx := t.Context()
	events := []protocol.FeedEvent{
		{Type: protocol.FeedCreated, Room: "club", By: "bob", Kind: protocol.KindPublic},
		{Type: protocol.FeedTopic, Room: "club", By: "bob", Topic: "hi @alice"},
	}
	for i, ev := range events {
		m, err := store.AppendFeedEvent(ctx, s, ev)
		if err != nil || m.Offset != int64(i+1) || m.Room != protocol.RoomFeed || m.Author != "bob" {
			t.Fatalf("AppendFeedEvent %d = %+v, %v", i, m, err)
		}
	}
	if err := store.EnsureFeed(ctx, s); err != nil {
		t.Fatalf("EnsureFeed of an existing feed: %v", err)
	}
	_, err := store.AppendFeedEvent(ctx, s, protocol.FeedEvent{Type: protocol.FeedCreated, Room: "secret", By: "bob", Kind: protocol.KindPrivate})
	if err == nil {
		t.Fatal("AppendFeedEvent took a private room's event")
	}
	msgs, err := s.History(ctx, protocol.RoomFeed, store.Page{Newest: true})
	if err != nil || len(msgs) != len(events) {
		t.Fatalf("feed history = %+v, %v; want %d events", msgs, err, len(events))
	}
	for i, m := range msgs {
		got, err := protocol.ParseFeedEvent(m.Body)
		if err != nil || got != events[i] {
			t.Fatalf("event %d = %+v, %v; want %+v", i, got, err, events[i])
		}
	}
	if _, err := s.Join(ctx, protocol.RoomFeed, "alice"); err != nil {
		t.Fatalf("Join of the feed: %v, want a no-op", err)
	}
	a := mustAccess(t, s, protocol.RoomFeed, "alice")
	if a.Kind != protocol.KindFeed || a.Role != "" || !a.CanRead() || a.CanSend() || a.CanModerate() {
		t.Fatalf("access to the feed = %+v: read only, no membership", a)
	}
	if m, err := s.Members(ctx, protocol.RoomFeed); err != nil || len(m) != 0 {
		t.Fatalf("feed members = %v, %v; want none", m, err)
	}
	rooms, err := s.RoomsOf(ctx, "alice")
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rooms {
		if r.Name == protocol.RoomFeed {
			t.Fatalf("RoomsOf lists the feed: %+v", r)
		}
	}
}

// testFeedTaken: a room that took the feed's name before it was
// reserved is never used as the feed.
func testFeedTaken(t *testing.T, s store.Store) {
	mustRoom(t, s, protocol.RoomFeed)
	_, err := store.AppendFeedEvent(t.Context(), s, protocol.FeedEvent{Type: protocol.FeedCreated, Room: "club", Kind: protocol.KindPublic})
	wantErr(t, "AppendFeedEvent to a squatted feed", err, store.ErrFeedTaken)
	wantErr(t, "EnsureFeed of a squatted feed", store.EnsureFeed(t.Context(), s), store.ErrFeedTaken)
}

// testDeleteHandsOn: deleting an account hands every room it was the
// last owner of to the longest standing moderator, else member; rooms
// with another owner keep their roles.
func testDeleteHandsOn(t *testing.T, s store.Store) {
	ctx := t.Context()
	u, err := s.CreateUser(ctx, "vic", "hash")
	if err != nil {
		t.Fatal(err)
	}
	add := func(room, user, role string) {
		t.Helper()
		if err := s.AddMember(ctx, room, user, protocol.RoleMember); err != nil {
			t.Fatal(err)
		}
		if role != protocol.RoleMember {
			if err := s.SetRole(ctx, room, user, role); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, room := range []string{"club", "duo", "solo"} {
		if _, err := s.CreateRoomOf(ctx, room, protocol.KindPrivate, "vic"); err != nil {
			t.Fatal(err)
		}
	}
	add("club", "ann", protocol.RoleMember)
	add("club", "zed", protocol.RoleModerator)
	add("duo", "ann", protocol.RoleMember)
	add("duo", "bob", protocol.RoleOwner)
	if _, err := s.CreateRoomOf(ctx, "plain", protocol.KindPrivate, "carol"); err != nil {
		t.Fatal(err)
	}
	add("plain", "vic", protocol.RoleMember)
	before, err := s.Room(ctx, "club")
	if err != nil {
		t.Fatal(err)
	}

	_, heirs, err := s.DeleteUser(ctx, u.ID)
	if err != nil {
		t.Fatalf("DeleteUser: %v", err)
	}
	// club passes to zed; duo keeps bob, its other owner; solo has
	// nobody left; plain was never the deleted user's.
	if want := []store.Heir{{Room: "club", User: "zed"}}; !slices.Equal(heirs, want) {
		t.Errorf("DeleteUser heirs = %+v, want %+v", heirs, want)
	}
	for room, want := range map[string]map[string]string{
		"club":  {"ann": "member", "zed": "owner"},
		"duo":   {"ann": "member", "bob": "owner"},
		"solo":  {},
		"plain": {"carol": "owner"},
	} {
		if got := roster(t, s, room); !maps.Equal(got, want) {
			t.Errorf("roster of %s after the owner's account was deleted = %v, want %v", room, got, want)
		}
	}
	if after, err := s.Room(ctx, "club"); err != nil || after.Roster <= before.Roster {
		t.Errorf("the owner's deletion did not move the roster: %d → %+v, %v", before.Roster, after, err)
	}
}
