//go:build !(js && wasm)

package ui

import (
	"slices"
	"testing"
	"time"

	"github.com/parleychat/parley/shared/protocol"
)

// TestInboxDeletedDropsRoom: a deleted event in the inbox takes the room
// out of the list and the cache (its window too), and its view says it
// was deleted.
func TestInboxDeletedDropsRoom(t *testing.T) {
	a := signedIn(t, newMemKV())
	a.inbox = protocol.InboxRoom("me")
	a.roomList = []protocol.Room{{Name: "general", Kind: protocol.KindPublic}, {Name: "club", Kind: protocol.KindPrivate, Role: protocol.RoleMember}}
	a.cache.write("me", &cacheBatch{Rooms: a.roomList, SetRooms: true,
		Timelines: []cachedTimeline{{Room: "club", Epoch: 1, Messages: msgs(1, 3)}}}, nil)
	a.mu.Lock()
	a.room("club").tl.Messages = msgs(1, 3)
	a.mu.Unlock()
	a.cache.settle()
	if c, err := a.cache.backend.load("me"); err != nil || len(c.Timelines["club"].Messages) != 3 {
		t.Fatalf("club's cached window before = %+v (%v)", c.Timelines["club"], err)
	}

	a.onEvent(inboxMessage(t, 1, protocol.UserEvent{Type: protocol.UserDeleted, Room: "club", By: "ann", Kind: protocol.KindPrivate}))
	if got, want := roomNames(a), []string{"general"}; !slices.Equal(got, want) {
		t.Fatalf("rooms after the deletion = %v, want %v", got, want)
	}
	if v := a.View("club", time.Now(), time.UTC); v.Removed != protocol.RemovedDeleted {
		t.Fatalf("view of the deleted room: Removed = %q", v.Removed)
	}
	a.mu.Lock()
	held := len(a.room("club").tl.Messages)
	a.mu.Unlock()
	if held != 0 {
		t.Fatalf("the deleted room's timeline still holds %d messages in memory", held)
	}
	if got := removedTitle(protocol.RemovedDeleted); got != "This room was deleted" {
		t.Fatalf("title of a deleted room = %q", got)
	}
	a.cache.settle()
	c, err := a.cache.backend.load("me")
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := c.Timelines["club"]; ok || len(c.Rooms) != 1 {
		t.Fatalf("cache after the deletion: rooms %v, club's window %v", c.Rooms, c.Timelines["club"])
	}
}

// TestCanDelete: only an owner of a public or private room other than
// the default one is offered to delete it.
func TestCanDelete(t *testing.T) {
	for _, tc := range []struct {
		room protocol.Room
		want bool
	}{
		{protocol.Room{Name: "club", Kind: protocol.KindPrivate, Role: protocol.RoleOwner}, true},
		{protocol.Room{Name: "plaza", Kind: protocol.KindPublic, Role: protocol.RoleOwner}, true},
		{protocol.Room{Name: "club", Kind: protocol.KindPrivate, Role: protocol.RoleModerator}, false},
		{protocol.Room{Name: "plaza", Kind: protocol.KindPublic}, false},
		{protocol.Room{Name: "dm-x", Kind: protocol.KindDirect, Role: protocol.RoleOwner}, false},
		{protocol.Room{Name: protocol.DefaultRoom, Kind: protocol.KindPublic, Role: protocol.RoleOwner}, false},
	} {
		if got := canDelete(tc.room); got != tc.want {
			t.Errorf("canDelete(%+v) = %v, want %v", tc.room, got, tc.want)
		}
	}
}
