package ui

import (
	"time"

	"testing"

	"github.com/parleychat/parley/shared/client"
	"github.com/parleychat/parley/shared/protocol"
)

// TestWatchedAndRoomEvents: a watched room's new message raises its
// count (and its mention count) once; a room event sets the topic and
// moves the room's rev, and counts as nothing unread.
func TestWatchedAndRoomEvents(t *testing.T) {
	a := signedIn(t, newMemKV())
	a.roomList = []protocol.Room{
		{Name: "club", Kind: protocol.KindPrivate, Role: protocol.RoleMember, Head: 4, LastRead: 4},
		{Name: "side", Kind: protocol.KindPrivate, Role: protocol.RoleMember, Head: 2, LastRead: 2},
	}
	msg := &protocol.Message{Room: "side", Offset: 3, Author: "ann", Body: "hi @me"}
	a.onEvent(client.Event{Kind: client.EventWatched, Room: "side", Msg: msg, Offset: 3})
	a.onEvent(client.Event{Kind: client.EventWatched, Room: "side", Msg: msg, Offset: 3}) // seen before
	if r, _ := a.RoomInfo("side"); r.Unread != 1 || r.Mentions != 1 || r.Head != 3 {
		t.Fatalf("side after a watched message = %+v, want 1 unread, 1 mention, head 3", r)
	}

	before := a.View("club", time.Now(), time.UTC).Rev
	ev := &protocol.Message{Room: "club", Offset: 5, Author: "ann", Kind: protocol.MsgRoom, Body: `{"what":"topic","by":"ann","topic":"saturday"}`}
	a.onEvent(client.Event{Kind: client.EventMessage, Room: "club", Msg: ev, Offset: 5})
	r, _ := a.RoomInfo("club")
	if r.Topic != "saturday" || r.Unread != 0 {
		t.Fatalf("club after a topic event = %+v, want the topic and nothing unread", r)
	}
	if rev := a.View("club", time.Now(), time.UTC).Rev; rev != before+1 {
		t.Fatalf("rev %d after a room event, want %d", rev, before+1)
	}
}

// TestPollAfterFailedLoad: with watches the room list reloads rarely,
// but a failed load (the node could not answer) is retried as often as
// without them, so a list that never loaded does not wait minutes.
func TestPollAfterFailedLoad(t *testing.T) {
	for _, c := range []struct {
		watching, failed bool
		want             time.Duration
	}{
		{false, false, roomPollEvery},
		{false, true, roomPollEvery},
		{true, false, roomPollWatching},
		{true, true, roomPollEvery},
	} {
		if got := pollInterval(c.watching, c.failed); got != c.want {
			t.Errorf("pollInterval(watching %v, failed %v) = %v, want %v", c.watching, c.failed, got, c.want)
		}
	}
}
