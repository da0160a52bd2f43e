package ui

import (
	"slices"
	"testing"
	"time"

	"github.com/parleychat/parley/shared/client"
	"github.com/parleychat/parley/shared/protocol"
)

// feedMessage is the client event of one message of the room feed.
func feedMessage(off int64, body string) client.Event {
	return client.Event{Kind: client.EventMessage, Room: protocol.RoomFeed, Offset: off,
		Msg: &protocol.Message{Room: protocol.RoomFeed, Offset: off, Author: "ann", Body: body, TS: time.Now().UnixMilli()}}
}

// TestFeedUpdatesRoomList: a public room created by someone else joins
// the list at once, a listed room keeps what the list says of it, a
// public room's topic shows at once; an event naming a private room, or
// of a type the app does not know, changes nothing, and the feed itself
// never becomes a room of the list or a timeline.
func TestFeedUpdatesRoomList(t *testing.T) {
	a := signedIn(t, newMemKV())
	a.roomList = []protocol.Room{{Name: "general", Kind: protocol.KindPublic, Role: protocol.RoleMember, Unread: 3, LastRead: 2, Head: 5}}
	a.onEvent(client.Event{Kind: client.EventSubscribed, Room: protocol.RoomFeed, Epoch: 1})
	if !a.FeedLive() {
		t.Fatal("the feed is not live after its subscribed event")
	}
	a.onEvent(feedMessage(1, `{"type":"created","room":"lobby","kind":"public","by":"ann"}`))
	a.onEvent(feedMessage(2, `{"type":"created","room":"general","kind":"public","by":"ann"}`))
	a.onEvent(feedMessage(3, `{"type":"created","room":"secret","kind":"private","by":"ann"}`))
	a.onEvent(feedMessage(4, `{"type":"renamed","room":"plaza","by":"ann"}`))
	a.onEvent(feedMessage(5, `{"type":"topic","room":"lobby","by":"ann","topic":"all welcome"}`))
	a.onEvent(feedMessage(6, `{"type":"topic","room":"elsewhere","by":"ann","topic":"unlisted"}`))
	if got, want := roomNames(a), []string{"general", "lobby"}; !slices.Equal(got, want) {
		t.Fatalf("rooms = %v, want %v", got, want)
	}
	if r, _ := a.RoomInfo("lobby"); r.Kind != protocol.KindPublic || r.Role != "" || r.CreatedBy != "ann" || r.Topic != "all welcome" {
		t.Fatalf("lobby = %+v, want public, not joined, by ann, with its topic", r)
	}
	if r, _ := a.RoomInfo("general"); r.Role != protocol.RoleMember || r.Unread != 3 || r.Head != 5 {
		t.Fatalf("general = %+v: the feed changed what the list said", r)
	}
	a.mu.Lock()
	_, feedData := a.rooms[protocol.RoomFeed]
	a.mu.Unlock()
	if feedData {
		t.Fatal("the feed got a timeline")
	}
	a.cache.settle()
	if c, err := a.cache.backend.load("me"); err != nil || len(c.Rooms) != 2 {
		t.Fatalf("cached room list = %v (%v), want general and lobby", c.Rooms, err)
	}
	a.onEvent(client.Event{Kind: client.EventDisconnected})
	if a.FeedLive() {
		t.Fatal("the feed is still live after a disconnect")
	}
}
