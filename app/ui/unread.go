package ui

import (
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"github.com/parleychat/parley/app/state"
	"github.com/parleychat/parley/shared/protocol"
)

// roomPollEvery is how often the app reloads the room list (one query on
// the node, whatever the number of rooms) to learn of messages in rooms
// that are not open: only the open room and the inbox are subscribed,
// because a subscription is presence (see app/README.md, Unread).
const roomPollEvery = 15 * time.Second

// UnreadTotal is the number of unread messages over every room, for the
// tab's title.
func (a *App) UnreadTotal() int64 {
	a.mu.Lock()
	defer a.mu.Unlock()
	var n int64
	for _, r := range a.roomList {
		n += r.Unread
	}
	return n
}

// MarkRead records that the user has read room up to offset: the room
// list's counts drop at once and the node is told (it tells the user's
// other tabs and devices through the inbox). Only a forward move does
// anything.
func (a *App) MarkRead(room string, offset int64) {
	a.mu.Lock()
	moved := a.readLocked(room, offset)
	cl := a.cl
	a.mu.Unlock()
	if !moved {
		return
	}
	if cl != nil {
		cl.MarkRead(room, offset)
	}
	a.notify()
}

// readEvent applies a read marker from the inbox (another tab or device,
// or this one's own read coming back).
func (a *App) readEvent(room string, offset int64) {
	a.mu.Lock()
	moved := a.readLocked(room, offset)
	i := slices.IndexFunc(a.roomList, func(r protocol.Room) bool { return r.Name == room })
	behind := i >= 0 && a.roomList[i].LastRead < a.roomList[i].Head
	a.mu.Unlock()
	if behind {
		// Some messages after the marker are still unread: only the node
		// can count them.
		go a.RefreshRooms()
	}
	if moved {
		a.notify()
	}
}

// readLocked moves room's marker in the list forward to offset and
// reports whether it moved. Read up to the head, nothing is unread.
// a.mu must be held.
func (a *App) readLocked(room string, offset int64) bool {
	i := slices.IndexFunc(a.roomList, func(r protocol.Room) bool { return r.Name == room })
	if i < 0 || offset <= a.roomList[i].LastRead {
		return false
	}
	r := &a.roomList[i]
	r.LastRead = offset
	if offset >= r.Head {
		r.Head, r.Unread, r.Mentions = offset, 0, 0
	}
	return true
}

// countMessage counts a live message of a subscribed room (the open one)
// in the list, until the user reads it. a.mu must be held.
func (a *App) countMessageLocked(m *protocol.Message, me string) {
	i := slices.IndexFunc(a.roomList, func(r protocol.Room) bool { return r.Name == m.Room })
	if i < 0 {
		return
	}
	r := &a.roomList[i]
	if m.Offset <= r.Head {
		return // counted by the node already, or seen before
	}
	r.Head = m.Offset
	if m.Offset <= r.LastRead || strings.EqualFold(m.Author, me) {
		return
	}
	r.Unread = min(r.Unread+1, protocol.UnreadCap)
	if state.Mentions(m.Body, me) {
		r.Mentions = min(r.Mentions+1, protocol.UnreadCap)
	}
}

// keepReads carries markers this tab moved past what a fresh list says
// (a read the node had not stored when it answered) into fresh.
func keepReads(old, fresh []protocol.Room) {
	for i := range fresh {
		j := slices.IndexFunc(old, func(r protocol.Room) bool { return r.Name == fresh[i].Name })
		if j < 0 || old[j].LastRead <= fresh[i].LastRead {
			continue
		}
		fresh[i].LastRead = old[j].LastRead
		if fresh[i].LastRead >= fresh[i].Head {
			fresh[i].Unread, fresh[i].Mentions = 0, 0
		}
	}
}

// unreadBadge shows a room's unread count ("mention" styled when some
// mention the user); screen readers read unreadLabel instead of the
// digits.
func unreadBadge(r protocol.Room) app.UI {
	if r.Unread <= 0 {
		return nil
	}
	cls := "badge"
	if r.Mentions > 0 {
		cls += " mention"
	}
	return app.Span().Class(cls).DataSet("unread", r.Unread).DataSet("mentions", r.Mentions).Body(
		app.Span().Aria("hidden", "true").Text(countText(r.Unread)),
		app.Span().Class("sr-only").Text(unreadLabel(r)),
	)
}

// unreadLabel is a room's badge's accessible name: "3 unread, 1 mention".
func unreadLabel(r protocol.Room) string {
	s := countText(r.Unread) + " unread"
	switch {
	case r.Mentions == 1:
		s += ", 1 mention"
	case r.Mentions > 1:
		s += ", " + countText(r.Mentions) + " mentions"
	}
	return s
}

// countText writes a count, "999+" at the cap.
func countText(n int64) string {
	if n >= protocol.UnreadCap {
		return strconv.Itoa(protocol.UnreadCap) + "+"
	}
	return strconv.FormatInt(n, 10)
}

// pageTitle is the tab's title: the total unread count first.
func pageTitle(title string, unread int64) string {
	if unread <= 0 {
		return title
	}
	return "(" + countText(unread) + ") " + title
}
