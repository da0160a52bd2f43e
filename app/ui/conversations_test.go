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
