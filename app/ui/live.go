package ui

import (
	"maps"
	"strings"
	"time"

	"github.com/parleychat/parley/app/state"
	"github.com/parleychat/parley/shared/client"
	"github.com/parleychat/parley/shared/protocol"
)

// roomPollWatching is how often the room list reloads while the node
// confirmed watches: new messages in closed rooms arrive live then
// (watched), and public rooms others create through the room feed
// (feedEvent), so the poll only catches what a node from before the
// feed does not announce (and each reconnect reloads the list anyway).
const roomPollWatching = 2 * time.Minute

// pollEvery is the wait before the next reload of the room list.
func (a *App) pollEvery() time.Duration {
	a.mu.Lock()
	cl, failed := a.cl, a.roomsErr != ""
	a.mu.Unlock()
	return pollInterval(cl != nil && cl.Watching(), failed)
}

// pollInterval is the wait before the next reload of the room list:
// roomPollWatching while the node confirmed watches, unless the last
// load failed (the list, or its newest state, is missing: retry as
// often as without watches).
func pollInterval(watching, lastFailed bool) time.Duration {
	if watching && !lastFailed {
		return roomPollWatching
	}
	return roomPollEvery
}

// syncWatchesLocked watches every room of the list the user is a member
// of (a closed room's badge then rises live, without the user being
// present there) and ends the watches of rooms no longer listed. The
// client renews them after every reconnect. a.mu must be held.
func (a *App) syncWatchesLocked() {
	cl := a.cl
	if cl == nil {
		return
	}
	want := make(map[string]bool, len(a.roomList))
	for _, r := range a.roomList {
		if r.Role != "" {
			want[r.Name] = true
		}
	}
	for room := range a.watching {
		if !want[room] {
			delete(a.watching, room)
			delete(a.watchLive, room)
			cl.Unwatch(room)
		}
	}
	for room := range want {
		if !a.watching[room] {
			a.watching[room] = true
			_ = cl.Watch(room) // only too many rooms fails: those stay polled
		}
	}
}

// watched counts a new message of a room that is not open in the list
// and raises its notification.
func (a *App) watched(ev client.Event) {
	if ev.Msg == nil {
		return
	}
	a.mu.Lock()
	a.countMessageLocked(ev.Msg, a.sess.User)
	a.mu.Unlock()
	a.notifyMessage(ev.Msg)
	a.notify()
}

// roomChanged applies a room event (protocol.MsgRoom) of a subscribed
// room: a new topic shows at once, and the member panel reads the list
// again (rev moves); a change of the user's own role reloads the room
// list, which holds it.
func (a *App) roomChanged(m *protocol.Message) {
	ev, err := protocol.ParseRoomEvent(m.Body)
	if err != nil {
		return
	}
	a.mu.Lock()
	a.room(m.Room).rev++
	me := a.sess.User
	a.mu.Unlock()
	switch {
	case ev.What == protocol.RoomTopic:
		a.setTopic(m.Room, ev.Topic)
	case ev.What == protocol.RoomRole && strings.EqualFold(ev.User, me):
		go a.RefreshRooms()
	}
}

// notifyMessage raises a system notification for m when the tab is
// hidden and notifications are on, and m either mentions the user or is
// in a direct room. Tabs showing the same message replace each other's
// notification (same tag).
func (a *App) notifyMessage(m *protocol.Message) {
	a.mu.Lock()
	me, on := a.sess.User, a.notifyOn
	info, _ := a.roomInfoLocked(m.Room)
	a.mu.Unlock()
	if !on || m.IsEvent() || strings.EqualFold(m.Author, me) || !pageHidden() || notificationPermission() != "granted" {
		return
	}
	title := "#" + m.Room + " · " + m.Author
	switch {
	case info.Kind == protocol.KindDirect:
		title = m.Author
	case !state.Mentions(m.Body, me):
		return
	}
	showNotification(title, m.Body, notificationTag(m), RoomPath(m.Room))
}

// watchStarted records that room's watch is live from head on. Messages
// stored after the room list was read and before head were sent to
// nobody here: the list is read again to count them.
func (a *App) watchStarted(room string, head int64) {
	a.mu.Lock()
	if !a.watching[room] {
		a.mu.Unlock()
		return
	}
	a.watchLive[room] = true
	info, _ := a.roomInfoLocked(room)
	a.mu.Unlock()
	if head > info.Head {
		go a.RefreshRooms()
	}
}

// WatchedRooms returns the rooms whose watch is live (their badges rise
// as messages arrive).
func (a *App) WatchedRooms() map[string]bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return maps.Clone(a.watchLive)
}
