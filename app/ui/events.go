package ui

import (
	"errors"
	"time"

	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"github.com/parleychat/parley/app/state"
	"github.com/parleychat/parley/shared/client"
	"github.com/parleychat/parley/shared/protocol"
)

// onEvent applies one client event. It runs on the client's Run goroutine,
// so it never blocks: requests it causes (history) run on new goroutines.
func (a *App) onEvent(ev client.Event) {
	if ev.Room != "" && ev.Room == a.inboxRoom() {
		a.inboxEvent(ev)
		return
	}
	if ev.Room == protocol.RoomFeed {
		a.feedEvent(ev)
		return
	}
	switch ev.Kind {
	case client.EventConnected:
		a.connected()
		return
	case client.EventDisconnected:
		a.disconnected(ev)
	case client.EventSubscribed:
		a.subscribed(ev)
	case client.EventMessage:
		a.message(ev)
	case client.EventAck:
		a.withRoom(ev.Room, true, func(rd *roomData, me string) {
			delete(a.amends, ev.CID)
			rd.tl.Ack(me, ev.Room, ev.CID, ev.Offset, ev.TS)
		})
		a.acked(ev.Room, ev.CID)
	case client.EventPresence:
		a.withRoom(ev.Room, false, func(rd *roomData, me string) {
			rd.people.Apply(ev)
			rd.present = state.Presence(rd.people.Users(), me)
		})
	case client.EventTyping:
		a.withRoom(ev.Room, false, func(rd *roomData, _ string) {
			rd.typing.Saw(ev.User, time.Now())
		})
		// Re-render when the indicator expires.
		time.AfterFunc(protocol.TypingTTL+50*time.Millisecond, a.notify)
	case client.EventError:
		a.serverError(ev)
	case client.EventRoomRetry:
		a.withRoom(ev.Room, false, func(rd *roomData, _ string) {
			rd.retrying = true
		})
	case client.EventRemoved:
		a.removed(ev.Room, ev.Reason)
		return
	case client.EventWatched:
		a.watched(ev)
		return
	case client.EventWatching:
		a.watchStarted(ev.Room, ev.Head)
	case client.EventGap:
		a.withRoom(ev.Room, true, func(rd *roomData, _ string) {
			rd.tl.DropBefore(ev.Offset)
		})
	default:
		return
	}
	a.notify()
}

// inboxRoom is the name of the signed-in user's inbox ("" signed out).
func (a *App) inboxRoom() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.inbox
}

// withRoom runs f on the data of room under the lock, and schedules the
// room's timeline to be saved when persist is set.
func (a *App) withRoom(room string, persist bool, f func(rd *roomData, me string)) {
	a.mu.Lock()
	f(a.room(room), a.sess.User)
	if persist {
		a.persistSoonLocked(room)
	}
	a.mu.Unlock()
}

func (a *App) connected() {
	a.mu.Lock()
	a.conn = Conn{State: ConnOnline}
	a.welcomed = true
	room := a.current
	again := a.connectedOnce
	a.connectedOnce = true
	a.mu.Unlock()
	if again {
		// A reconnect may follow a deploy: look for a new version.
		app.TryUpdate()
	}
	// Rooms may have changed while the connection was down.
	go func() {
		if room != "" {
			a.open(room)
		}
		a.RefreshRooms()
	}()
	a.notify()
}

func (a *App) disconnected(ev client.Event) {
	a.mu.Lock()
	defer a.mu.Unlock()
	// An attempt that never got its welcome may have been refused for an
	// ended session: browsers hide the close code (4502), so the next
	// attempt refreshes first, and a refused refresh signs the user out.
	if !a.welcomed {
		a.stale = true
	}
	a.welcomed, a.inboxLive, a.feedLive = false, false, false
	clear(a.watchLive)
	c := Conn{State: ConnReconnecting}
	// Who is where is unknown until the node says again.
	for _, rd := range a.rooms {
		rd.present = nil
		rd.people.Reset()
	}
	if ev.Err != nil {
		c.Err = ev.Err.Error()
	}
	if ev.Retry > 0 {
		c.RetryAt = time.Now().Add(ev.Retry)
	}
	a.conn = c
}

func (a *App) subscribed(ev client.Event) {
	a.mu.Lock()
	defer a.mu.Unlock()
	rd := a.room(ev.Room)
	rd.missing, rd.err, rd.retrying = false, "", false
	if ev.Reset {
		// The offsets start again: the room shows what it showed until
		// the new epoch's newest page replaces it, not an empty list.
		if rd.held == nil && len(rd.tl.Messages) > 0 {
			rd.held = rd.tl.Messages
		}
		rd.tl.Reset(ev.Epoch)
		rd.ready = false
		a.persistSoonLocked(ev.Room)
		if !rd.loading && a.cl != nil {
			rd.loading = true
			go a.fetchPage(a.gen, a.cl, ev.Room, 0)
		}
		return
	}
	if rd.tl.Epoch != ev.Epoch {
		rd.tl.Epoch = ev.Epoch
		a.persistSoonLocked(ev.Room)
	}
}

func (a *App) message(ev client.Event) {
	if ev.Msg == nil {
		return
	}
	a.withRoom(ev.Room, true, func(rd *roomData, me string) {
		rd.tl.Add(me, *ev.Msg)
		a.countMessageLocked(ev.Msg, me)
		rd.typing.Stop(ev.Msg.Author)
		rd.retrying = false // a gap that was refused has been filled
	})
	if ev.Msg.IsRoomEvent() {
		a.roomChanged(ev.Msg)
	}
	a.notifyMessage(ev.Msg)
}

// serverError routes an error frame: to the message it refused, to the
// room it concerns, or to the connection.
func (a *App) serverError(ev client.Event) {
	var se *client.ServerError
	code, msg := protocol.ErrInternal, ""
	if errors.As(ev.Err, &se) {
		code, msg = se.Code, se.Message
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if ev.CID != "" {
		if a.amendFailedLocked(ev.CID, code, msg) {
			return
		}
		for name, rd := range a.rooms {
			if rd.tl.Fail(ev.CID, state.RoomErrorText(code, msg)) {
				a.outboxWriteLocked(name, ev.CID, false)
				return
			}
		}
		return
	}
	if rd := a.rooms[ev.Ref]; rd != nil && protocol.ValidRoomName(ev.Ref) {
		rd.subscribed = false
		if code == protocol.ErrNotFound {
			rd.missing = true
			if cl := a.cl; cl != nil {
				go cl.Unsubscribe(ev.Ref)
			}
			return
		}
		rd.err = state.RoomErrorText(code, msg)
	}
}
