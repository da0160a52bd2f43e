package ui

import (
	"strings"
	"testing"
	"time"

	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"github.com/parleychat/parley/shared/client"
	"github.com/parleychat/parley/shared/protocol"
)

// TestUnreadCounts: live messages of the open room count until read,
// the user's own never; a read (here or from the inbox) clears what it
// covers and only moves forward; a fresh list that lags behind a read
// this tab made keeps the read; the total is the title's.
func TestUnreadCounts(t *testing.T) {
	a := signedIn(t, newMemKV())
	a.inbox = protocol.InboxRoom("me")
	a.roomList = []protocol.Room{
		{Name: "general", Kind: protocol.KindPublic, Head: 4, LastRead: 2, Unread: 2},
		{Name: "team", Kind: protocol.KindPrivate, Head: 1, LastRead: 1},
	}
	msg := func(off int64, author, body string) client.Event {
		return client.Event{Kind: client.EventMessage, Room: "team", Offset: off,
			Msg: &protocol.Message{Room: "team", Offset: off, Author: author, Body: body, TS: time.Now().UnixMilli()}}
	}
	a.onEvent(msg(2, "ann", "hi @me"))
	a.onEvent(msg(3, "Me", "my own"))
	a.onEvent(msg(4, "ann", "more"))
	a.onEvent(msg(4, "ann", "more")) // a duplicate counts once
	team := func() protocol.Room { r, _ := a.RoomInfo("team"); return r }
	if r := team(); r.Unread != 2 || r.Mentions != 1 || r.Head != 4 {
		t.Fatalf("team after live messages: %+v; want 2 unread, 1 mention, head 4", r)
	}
	if n := a.UnreadTotal(); n != 4 {
		t.Fatalf("total = %d, want 4", n)
	}
	a.MarkRead("team", 4)
	if r := team(); r.Unread != 0 || r.Mentions != 0 || r.LastRead != 4 {
		t.Fatalf("team after reading: %+v", r)
	}
	a.onEvent(inboxMessage(t, 1, protocol.UserEvent{Type: protocol.UserRead, Room: "general", Offset: 4}))
	a.onEvent(inboxMessage(t, 2, protocol.UserEvent{Type: protocol.UserRead, Room: "general", Offset: 3}))
	if r, _ := a.RoomInfo("general"); r.Unread != 0 || r.LastRead != 4 {
		t.Fatalf("general after a read from another tab: %+v", r)
	}
	fresh := []protocol.Room{{Name: "team", Head: 4, LastRead: 1, Unread: 2, Mentions: 1}, {Name: "new", Head: 3, Unread: 3}}
	keepReads(a.roomList, fresh)
	if fresh[0].LastRead != 4 || fresh[0].Unread != 0 || fresh[1].Unread != 3 {
		t.Fatalf("a lagging list after keepReads: %+v", fresh)
	}
	if got := pageTitle("Parley", 3); got != "(3) Parley" {
		t.Fatalf("title = %q", got)
	}
	if got := pageTitle("Parley", 0); got != "Parley" {
		t.Fatalf("title without unread = %q", got)
	}
}

// TestUnreadBadge: the badge shows the count, is the mention kind when a
// mention is unread, and reads "3 unread, 1 mention" to screen readers.
func TestUnreadBadge(t *testing.T) {
	for _, tc := range []struct {
		r     protocol.Room
		label string
		cls   string
	}{
		{protocol.Room{Unread: 3, Mentions: 1}, "3 unread, 1 mention", "badge mention"},
		{protocol.Room{Unread: 2}, "2 unread", "badge"},
		{protocol.Room{Unread: protocol.UnreadCap, Mentions: 5}, "999+ unread, 5 mentions", "badge mention"},
	} {
		if got := unreadLabel(tc.r); got != tc.label {
			t.Errorf("unreadLabel(%+v) = %q, want %q", tc.r, got, tc.label)
		}
		html := app.HTMLString(unreadBadge(tc.r))
		if !strings.Contains(html, `class="`+tc.cls+`"`) || !strings.Contains(html, tc.label) || !strings.Contains(html, `aria-hidden`) {
			t.Errorf("badge of %+v = %s", tc.r, html)
		}
	}
	if unreadBadge(protocol.Room{}) != nil {
		t.Error("a room with nothing unread has a badge")
	}
}
