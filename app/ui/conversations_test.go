package ui

import (
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/parleychat/parley/shared/client"
	"github.com/parleychat/parley/shared/protocol"
)

// inboxMessage is the client event of one user event in me's inbox.
func inboxMessage(t *testing.T, off int64, ue protocol.UserEvent) client.Event {
	t.Helper()
	b, err := json.Marshal(ue)
	if err != nil {
		t.Fatal(err)
	}
	body := string(b)
	room := protocol.InboxRoom("me")
	return client.Event{Kind: client.EventMessage, Room: room, Offset: off,
		Msg: &protocol.Message{Room: room, Offset: off, Author: "me", Body: body, TS: time.Now().UnixMilli()}}
}

func roomNames(a *App) []string {
	rooms, _, _ := a.Rooms()
	var names []string
	for _, r := range rooms {
		names = append(names, r.Name)
	}
	return names
}

// TestInboxUpdatesRoomList: an invitation in the inbox adds the room to
// the list at once (a direct room under its peer), a removal (inbox
// event or removed frame) takes it out and the room's view says so; the
// inbox itself never becomes a room of the list or a timeline.
func TestInboxUpdatesRoomList(t *testing.T) {
	kv := newMemKV()
	a := signedIn(t, kv)
	a.inbox = protocol.InboxRoom("me")
	a.roomList = []protocol.Room{{Name: "general", Kind: protocol.KindPublic}}
	a.onEvent(client.Event{Kind: client.EventSubscribed, Room: a.inbox, Epoch: 1})
	if !a.InboxLive() {
		t.Fatal("the inbox is not live after its subscribed event")
	}

	a.onEvent(inboxMessage(t, 1, protocol.UserEvent{Type: protocol.UserInvited, Room: "secret", By: "ann", Kind: protocol.KindPrivate}))
	a.onEvent(inboxMessage(t, 2, protocol.UserEvent{Type: protocol.UserInvited, Room: "dm-x1", By: "bob", Kind: protocol.KindDirect}))
	a.onEvent(inboxMessage(t, 3, protocol.UserEvent{Type: "future-type", Room: "general"}))
	if got, want := roomNames(a), []string{"general", "dm-x1", "secret"}; !slices.Equal(got, want) {
		t.Fatalf("rooms after invitations = %v, want %v", got, want)
	}
	if r, _ := a.RoomInfo("dm-x1"); roomLabel(r) != "bob" {
		t.Fatalf("direct room label = %q, want bob", roomLabel(r))
	}
	if r, _ := a.RoomInfo("secret"); r.Kind != protocol.KindPrivate || roomLabel(r) != "secret" {
		t.Fatalf("private room = %+v", r)
	}
	a.mu.Lock()
	_, inboxData := a.rooms[a.inbox]
	a.mu.Unlock()
	if inboxData {
		t.Fatal("the inbox got a timeline")
	}

	a.onEvent(inboxMessage(t, 4, protocol.UserEvent{Type: protocol.UserRemoved, Room: "secret", Reason: protocol.RemovedKicked}))
	a.onEvent(client.Event{Kind: client.EventRemoved, Room: "dm-x1", Reason: protocol.RemovedLeft})
	if got, want := roomNames(a), []string{"general"}; !slices.Equal(got, want) {
		t.Fatalf("rooms after removals = %v, want %v", got, want)
	}
	if v := a.View("secret", time.Now(), time.UTC); v.Removed != protocol.RemovedKicked {
		t.Fatalf("view of the room kicked from: Removed = %q", v.Removed)
	}
	a.cache.settle()
	if c, err := a.cache.backend.load("me"); err != nil || len(c.Rooms) != 1 {
		t.Fatalf("cached room list = %v (%v), want general only", c.Rooms, err)
	}

	a.onEvent(client.Event{Kind: client.EventDisconnected})
	if a.InboxLive() {
		t.Fatal("the inbox is still live after a disconnect")
	}

	// Invited again: the room comes back and opens anew.
	a.onEvent(inboxMessage(t, 5, protocol.UserEvent{Type: protocol.UserInvited, Room: "secret", By: "ann", Kind: protocol.KindPrivate}))
	if v := a.View("secret", time.Now(), time.UTC); v.Removed != "" || !slices.Contains(roomNames(a), "secret") {
		t.Fatalf("after a new invitation: removed %q, rooms %v", v.Removed, roomNames(a))
	}
}

// TestInboxJoinedListsRoom: a public room the user joined on another
// tab or device (a joined event) is listed at once as a membership and
// watched; a room the list held keeps what the list said of it (its
// newer topic, an owner's role); a repeat event lists it once; a room
// the user left stays listed as one to join, not a membership, then
// comes back and its view opens anew.
func TestInboxJoinedListsRoom(t *testing.T) {
	kv := newMemKV()
	a := signedIn(t, kv)
	a.inbox = protocol.InboxRoom("me")
	a.roomList = []protocol.Room{
		{Name: "general", Kind: protocol.KindPublic, Topic: "newer", Head: 7, LastRead: 5},
		{Name: "mine", Kind: protocol.KindPublic, Role: protocol.RoleOwner},
	}
	joined := func(off int64, room, topic string) {
		a.onEvent(inboxMessage(t, off, protocol.UserEvent{Type: protocol.UserJoined, Room: room, Kind: protocol.KindPublic, Topic: topic}))
	}
	watched := func(room string) bool {
		a.mu.Lock()
		defer a.mu.Unlock()
		return a.watching[room]
	}

	joined(1, "general", "older")
	joined(2, "mine", "")
	joined(3, "club", "chess")
	joined(4, "club", "chess")
	if got, want := roomNames(a), []string{"general", "club", "mine"}; !slices.Equal(got, want) {
		t.Fatalf("rooms after joins = %v, want %v", got, want)
	}
	if r, _ := a.RoomInfo("general"); r.Role != protocol.RoleMember || r.Topic != "newer" || r.Head != 7 || r.LastRead != 5 {
		t.Fatalf("a listed room joined = %+v: want a membership that keeps the list's topic and counts", r)
	}
	if r, _ := a.RoomInfo("mine"); r.Role != protocol.RoleOwner {
		t.Fatalf("an owner's room after a joined event = %+v", r)
	}
	if r, _ := a.RoomInfo("club"); r.Role != protocol.RoleMember || r.Kind != protocol.KindPublic || r.Topic != "chess" {
		t.Fatalf("a new room joined = %+v", r)
	}
	for _, room := range []string{"general", "club"} {
		if !watched(room) {
			t.Fatalf("%s is not watched after the join", room)
		}
	}
	a.cache.settle()
	if c, err := a.cache.backend.load("me"); err != nil || !slices.ContainsFunc(c.Rooms, func(r protocol.Room) bool { return r.Name == "club" }) {
		t.Fatalf("cached room list = %v (%v), want club in it", c.Rooms, err)
	}

	// Left on another device, then joined again there.
	a.onEvent(inboxMessage(t, 5, protocol.UserEvent{Type: protocol.UserRemoved, Room: "club", Reason: protocol.RemovedLeft}))
	// A public room stays listed, as one to join, as the node lists it.
	if v := a.View("club", time.Now(), time.UTC); v.Removed != protocol.RemovedLeft || watched("club") {
		t.Fatalf("after leaving: removed %q, watched %v", v.Removed, watched("club"))
	}
	if r, ok := a.RoomInfo("club"); !ok || r.Role != "" {
		t.Fatalf("after leaving, the list holds club as %+v (listed %v), want it with no role", r, ok)
	}
	if _, open := splitRooms(a.roomList); len(open) != 1 || open[0].Name != "club" {
		t.Fatalf("the rooms to join after leaving club: %v", open)
	}
	joined(6, "club", "chess")
	if v := a.View("club", time.Now(), time.UTC); v.Removed != "" || !slices.Contains(roomNames(a), "club") || !watched("club") {
		t.Fatalf("after joining again: removed %q, rooms %v, watched %v", v.Removed, roomNames(a), watched("club"))
	}
}

// TestDirectRoomLabels: a direct room is named by its other people, a
// pair's from an older node by its peer, any other room by its name.
func TestDirectRoomLabels(t *testing.T) {
	for _, tc := range []struct {
		r          protocol.Room
		label, ref string
	}{
		{protocol.Room{Name: "dm-1", Kind: protocol.KindDirect, Peer: "bob", Peers: []string{"bob"}}, "bob", "@bob"},
		{protocol.Room{Name: "dm-2", Kind: protocol.KindDirect, Peers: []string{"Bob", "carol"}}, "Bob and carol", "@Bob, @carol"},
		{protocol.Room{Name: "dm-3", Kind: protocol.KindDirect, Peers: []string{"Bob", "carol", "dave"}}, "Bob, carol and dave", "@Bob, @carol, @dave"},
		{protocol.Room{Name: "dm-4", Kind: protocol.KindDirect, Peer: "bob"}, "bob", "@bob"},
		{protocol.Room{Name: "dm-5", Kind: protocol.KindDirect}, "dm-5", "#dm-5"},
		{protocol.Room{Name: "club", Kind: protocol.KindPrivate, Peers: []string{"x"}}, "club", "#club"},
	} {
		if got := roomLabel(tc.r); got != tc.label {
			t.Errorf("roomLabel(%+v) = %q, want %q", tc.r, got, tc.label)
		}
		if got := roomRef(tc.r); got != tc.ref {
			t.Errorf("roomRef(%+v) = %q, want %q", tc.r, got, tc.ref)
		}
	}
}

// TestLostRoomsListed: a public room the user left or was kicked from
// stays listed as one to join (no role, no unread counts), as the node
// lists it; a public room banned from, a deleted one and a private one
// leave the list. The sidebar parts the list into the user's rooms and
// the public rooms to join.
func TestLostRoomsListed(t *testing.T) {
	a := signedIn(t, newMemKV())
	pub := func(name string) protocol.Room {
		return protocol.Room{Name: name, Kind: protocol.KindPublic, Role: protocol.RoleMember, LastRead: 2, Unread: 3, Mentions: 1}
	}
	a.roomList = []protocol.Room{pub("banned"), pub("deleted"), pub("kicked"), pub("left"),
		{Name: "open", Kind: protocol.KindPublic}, {Name: "secret", Kind: protocol.KindPrivate, Role: protocol.RoleMember}, pub("stay")}
	a.removed("banned", protocol.RemovedBanned)
	a.removed("deleted", protocol.RemovedDeleted)
	a.removed("kicked", protocol.RemovedKicked)
	a.removed("left", protocol.RemovedLeft)
	a.removed("secret", protocol.RemovedLeft)
	if got, want := roomNames(a), []string{"kicked", "left", "open", "stay"}; !slices.Equal(got, want) {
		t.Fatalf("rooms after the losses = %v, want %v", got, want)
	}
	for _, name := range []string{"kicked", "left"} {
		if r, _ := a.RoomInfo(name); r.Role != "" || r.LastRead != 0 || r.Unread != 0 || r.Mentions != 0 {
			t.Errorf("%s is listed as %+v, want no role and no counts", name, r)
		}
	}
	mine, open := splitRooms(a.roomList)
	names := func(rs []protocol.Room) []string {
		var out []string
		for _, r := range rs {
			out = append(out, r.Name)
		}
		return out
	}
	if got := names(mine); !slices.Equal(got, []string{"stay"}) {
		t.Errorf("the user's rooms = %v, want [stay]", got)
	}
	if got := names(open); !slices.Equal(got, []string{"kicked", "left", "open"}) {
		t.Errorf("the rooms to join = %v, want [kicked left open]", got)
	}
}

// TestLeaveIgnoresOlderJoin: opening a public room joins it, and its
// joined event can reach the inbox after this tab's leave has been
// answered. That older event must not list the room as a membership
// again (nor watch it, which would join it once more); a join after the
// leave's removed event is a new one and counts.
func TestLeaveIgnoresOlderJoin(t *testing.T) {
	kv := newMemKV()
	a := signedIn(t, kv)
	a.inbox = protocol.InboxRoom("me")
	a.roomList = []protocol.Room{{Name: "club", Kind: protocol.KindPublic, Role: protocol.RoleMember}}
	member := func() bool {
		r, ok := a.RoomInfo("club")
		return ok && r.Role != ""
	}
	watched := func() bool {
		a.mu.Lock()
		defer a.mu.Unlock()
		return a.watching["club"]
	}
	a.setLeaving("club", leaveAsked)
	a.leftRoom("club", true)
	if member() {
		t.Fatal("club is still a membership right after the leave")
	}
	a.onEvent(inboxMessage(t, 1, protocol.UserEvent{Type: protocol.UserJoined, Room: "club", Kind: protocol.KindPublic}))
	if member() || watched() {
		t.Fatalf("the joined event from before the leave listed club again: member %v, watched %v", member(), watched())
	}
	a.onEvent(inboxMessage(t, 2, protocol.UserEvent{Type: protocol.UserRemoved, Room: "club", Reason: protocol.RemovedLeft}))
	if member() {
		t.Fatal("club is a membership after its removed event")
	}
	a.onEvent(inboxMessage(t, 3, protocol.UserEvent{Type: protocol.UserJoined, Room: "club", Kind: protocol.KindPublic}))
	if !member() || !watched() {
		t.Fatalf("a join after the leave's removed event: member %v, watched %v", member(), watched())
	}
}

// TestLeaveAnsweredAfterItsRemoval: the inbox can bring the leave's
// removed event before the leave's answer. Every older joined event
// came before it then, so nothing is left to ignore: a join on another
// device after that still lists the room.
func TestLeaveAnsweredAfterItsRemoval(t *testing.T) {
	kv := newMemKV()
	a := signedIn(t, kv)
	a.inbox = protocol.InboxRoom("me")
	a.roomList = []protocol.Room{{Name: "club", Kind: protocol.KindPublic, Role: protocol.RoleMember}}
	a.setLeaving("club", leaveAsked)
	a.onEvent(inboxMessage(t, 1, protocol.UserEvent{Type: protocol.UserRemoved, Room: "club", Reason: protocol.RemovedLeft}))
	a.leftRoom("club", true)
	a.onEvent(inboxMessage(t, 2, protocol.UserEvent{Type: protocol.UserJoined, Room: "club", Kind: protocol.KindPublic}))
	if r, ok := a.RoomInfo("club"); !ok || r.Role == "" {
		t.Fatalf("a join after the leave's removed event: club listed %v as %+v, want a membership", ok, r)
	}
}
