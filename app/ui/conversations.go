package ui

import (
	"context"
	"slices"

	"github.com/parleychat/parley/shared/client"
	"github.com/parleychat/parley/shared/protocol"
)

// OpenDirect returns the name of the direct room with users (one person,
// or a group), creating it if needed, and adds it to the list. It
// blocks: run it from ctx.Async.
func (a *App) OpenDirect(ctx context.Context, users ...string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, requestTimeout)
	defer cancel()
	var room protocol.Room
	err := a.withToken(ctx, a.generation(), func(tok string) (err error) {
		if len(users) == 1 {
			room, err = a.api.DirectRoom(ctx, tok, users[0])
		} else {
			room, err = a.api.DirectGroup(ctx, tok, users...)
		}
		return err
	})
	if err != nil {
		return "", err
	}
	a.addRoom(room)
	return room.Name, nil
}

// Members lists room's members. It blocks.
func (a *App) Members(ctx context.Context, room string) ([]protocol.Member, error) {
	ctx, cancel := context.WithTimeout(ctx, requestTimeout)
	defer cancel()
	var list []protocol.Member
	err := a.withToken(ctx, a.generation(), func(tok string) (err error) {
		list, err = a.api.Members(ctx, tok, room)
		return err
	})
	return list, err
}

// Invite adds user to room as a member. It blocks.
func (a *App) Invite(ctx context.Context, room, user string) error {
	ctx, cancel := context.WithTimeout(ctx, requestTimeout)
	defer cancel()
	return a.withToken(ctx, a.generation(), func(tok string) error {
		return a.api.Invite(ctx, tok, room, user, "")
	})
}

// Remove kicks user from room, or leaves it when user is the user
// signed in (the room then leaves the list at once). It blocks.
func (a *App) Remove(ctx context.Context, room, user string) error {
	ctx, cancel := context.WithTimeout(ctx, requestTimeout)
	defer cancel()
	self := user == a.User()
	if self {
		a.setLeaving(room, leaveAsked)
	}
	err := a.withToken(ctx, a.generation(), func(tok string) error {
		_, err := a.api.Remove(ctx, tok, room, user)
		return err
	})
	if self {
		a.leftRoom(room, err == nil)
	}
	return err
}

// leaveState is where this tab's own leave of a room is (App.leaving).
type leaveState int

const (
	leaveAsked    leaveState = iota + 1 // on its way, no removed event for the room seen since
	leaveRemoved                        // on its way, and the inbox's removed event came already
	leaveAnswered                       // answered, the removed event not come yet: older joined events are ignored
)

func (a *App) setLeaving(room string, s leaveState) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.leaving == nil {
		a.leaving = make(map[string]leaveState)
	}
	a.leaving[room] = s
}

// leftRoom ends this tab's leave of room: when it succeeded, the room
// leaves the list at once and, unless the inbox already brought the
// leave's removed event (inbox events come in order, so every older
// joined event came before it), the inbox's joined events for it are
// ignored until that removed event arrives.
func (a *App) leftRoom(room string, ok bool) {
	a.mu.Lock()
	if ok && a.leaving[room] == leaveAsked {
		a.leaving[room] = leaveAnswered
	} else {
		delete(a.leaving, room)
	}
	a.mu.Unlock()
	if ok {
		a.withRoom(room, false, func(rd *roomData, _ string) { rd.leftHere = true })
		a.removed(room, protocol.RemovedLeft)
	}
}

// TakeLeft reports, once, whether this tab left room (Remove of the
// user signed in succeeded): its view then goes back to the list.
func (a *App) TakeLeft(room string) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	rd := a.rooms[room]
	if rd == nil || !rd.leftHere {
		return false
	}
	rd.leftHere = false
	return true
}

// InboxLive reports whether invitations and removals arrive live (the
// inbox subscription is confirmed on the current connection).
func (a *App) InboxLive() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.inboxLive
}

// RoomInfo returns what the room list says of room.
func (a *App) RoomInfo(room string) (protocol.Room, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.roomInfoLocked(room)
}

func (a *App) roomInfoLocked(room string) (protocol.Room, bool) {
	i := slices.IndexFunc(a.roomList, func(r protocol.Room) bool { return r.Name == room })
	if i < 0 {
		return protocol.Room{Name: room}, false
	}
	return a.roomList[i], true
}

// stillOpen reports whether a room of kind the user lost for why stays
// listed, as the node's list shows it: a public room left or kicked
// from, which the user may join again, listed with no role.
func stillOpen(kind, why string) bool {
	return kind == protocol.KindPublic && (why == protocol.RemovedLeft || why == protocol.RemovedKicked)
}

// removed forgets room after the user lost its membership (why: a
// protocol.Removed* code): it leaves the list (a public room one may
// join again stays, as no membership: stillOpen), its subscription and its
// cache (and, deleted, the history held in memory), and an open view
// says so instead of showing a dead room.
func (a *App) removed(room, why string) {
	a.mu.Lock()
	if i := slices.IndexFunc(a.roomList, func(r protocol.Room) bool { return r.Name == room }); i >= 0 {
		if r := &a.roomList[i]; stillOpen(r.Kind, why) {
			r.Role, r.LastRead, r.Unread, r.Mentions = "", 0, 0, 0
		} else {
			a.roomList = slices.Delete(a.roomList, i, i+1)
		}
	}
	rd := a.room(room)
	rd.removed, rd.subscribed, rd.present = why, false, nil
	rd.people.Reset()
	if why == protocol.RemovedDeleted {
		// Its history is gone from the node: a room made later under
		// the name must not open on it.
		rd.tl.Reset(0)
		rd.held, rd.ready = nil, false
	}
	cl := a.cl
	delete(a.dirty, room)
	delete(a.watching, room)
	delete(a.watchLive, room)
	if a.sess.User != "" {
		a.cache.write(a.sess.User, &cacheBatch{Rooms: slices.Clone(a.roomList), SetRooms: true, Drop: []string{room}}, logCacheError)
	}
	a.mu.Unlock()
	if cl != nil {
		cl.Unsubscribe(room)
		cl.Unwatch(room)
	}
	a.notify()
}

// inboxEvent applies one event of the user's inbox: an invitation adds
// the room to the list at once (then the list is fetched again for the
// details), a public room joined on another tab or device too (from
// what the event says), a removal or deletion takes it out (and its
// cache). Unknown types are a newer node's and are skipped.
func (a *App) inboxEvent(ev client.Event) {
	switch {
	case ev.Kind == client.EventSubscribed:
		a.mu.Lock()
		a.inboxLive = true
		a.mu.Unlock()
		a.notify()
		return
	case ev.Kind != client.EventMessage || ev.Msg == nil:
		return
	}
	ue, err := protocol.ParseUserEvent(ev.Msg.Body)
	if err != nil {
		return
	}
	switch ue.Type {
	case protocol.UserInvited:
		r := protocol.Room{Name: ue.Room, Kind: ue.Kind, Role: protocol.RoleMember}
		if ue.Kind == protocol.KindDirect {
			r.Peer = ue.By
		}
		a.addRoom(r)
		go a.RefreshRooms()
	case protocol.UserJoined:
		a.mu.Lock()
		stale := a.leaving[ue.Room] == leaveAnswered
		a.mu.Unlock()
		if !stale {
			a.joinedRoom(protocol.Room{Name: ue.Room, Kind: ue.Kind, Topic: ue.Topic, Role: protocol.RoleMember})
		}
	case protocol.UserRemoved:
		a.mu.Lock()
		switch a.leaving[ue.Room] {
		case leaveAsked:
			a.leaving[ue.Room] = leaveRemoved
		case leaveAnswered:
			delete(a.leaving, ue.Room)
		}
		a.mu.Unlock()
		a.removed(ue.Room, ue.Reason)
	case protocol.UserDeleted:
		a.removed(ue.Room, protocol.RemovedDeleted)
	case protocol.UserRole:
		go a.RefreshRooms()
	case protocol.UserRead:
		a.readEvent(ue.Room, ue.Offset)
	}
}

// joinedRoom lists room, a public room the user joined on some tab or
// device (protocol.UserJoined), as a membership: a room the list holds
// keeps what the list says of it (counts, a newer topic) and gets the
// role, a room the user had left comes back and opens anew. It is
// watched from now on, as every membership is; the watch's head brings
// the rest of the list's details. The list is not fetched again: the
// tab that joined gets the event too.
func (a *App) joinedRoom(room protocol.Room) {
	a.mu.Lock()
	if known, ok := a.roomInfoLocked(room.Name); ok {
		if known.Role == "" {
			known.Role = room.Role
		}
		room = known
	}
	a.mu.Unlock()
	a.addRoom(room)
	a.mu.Lock()
	a.syncWatchesLocked()
	a.mu.Unlock()
}

// SetRole makes user a moderator or a plain member of room (owners
// only). It blocks.
func (a *App) SetRole(ctx context.Context, room, user, role string) error {
	ctx, cancel := context.WithTimeout(ctx, requestTimeout)
	defer cancel()
	return a.withToken(ctx, a.generation(), func(tok string) error {
		return a.api.Invite(ctx, tok, room, user, role)
	})
}

// Ban removes user from room and keeps them out. It blocks.
func (a *App) Ban(ctx context.Context, room, user string) error {
	ctx, cancel := context.WithTimeout(ctx, requestTimeout)
	defer cancel()
	return a.withToken(ctx, a.generation(), func(tok string) error {
		return a.api.Ban(ctx, tok, room, user)
	})
}

// Unban lets user into room again (by invitation). It blocks.
func (a *App) Unban(ctx context.Context, room, user string) error {
	ctx, cancel := context.WithTimeout(ctx, requestTimeout)
	defer cancel()
	return a.withToken(ctx, a.generation(), func(tok string) error {
		return a.api.Unban(ctx, tok, room, user)
	})
}

// Bans lists who is banned from room (owners and moderators). It blocks.
func (a *App) Bans(ctx context.Context, room string) ([]protocol.Ban, error) {
	ctx, cancel := context.WithTimeout(ctx, requestTimeout)
	defer cancel()
	var list []protocol.Ban
	err := a.withToken(ctx, a.generation(), func(tok string) (err error) {
		list, err = a.api.Bans(ctx, tok, room)
		return err
	})
	return list, err
}

// SetTopic sets room's topic ("" clears it) and shows it at once. It
// blocks.
func (a *App) SetTopic(ctx context.Context, room, topic string) error {
	ctx, cancel := context.WithTimeout(ctx, requestTimeout)
	defer cancel()
	var r protocol.Room
	err := a.withToken(ctx, a.generation(), func(tok string) (err error) {
		r, err = a.api.SetTopic(ctx, tok, room, topic)
		return err
	})
	if err != nil {
		return err
	}
	a.setTopic(room, r.Topic)
	return nil
}

// DeleteRoom deletes room (owners only) and forgets it at once, as
// its inbox event will say again. It blocks.
func (a *App) DeleteRoom(ctx context.Context, room string) error {
	ctx, cancel := context.WithTimeout(ctx, requestTimeout)
	defer cancel()
	err := a.withToken(ctx, a.generation(), func(tok string) error {
		return a.api.DeleteRoom(ctx, tok, room)
	})
	if err == nil {
		a.removed(room, protocol.RemovedDeleted)
	}
	return err
}

// setTopic changes what the room list says of room's topic.
func (a *App) setTopic(room, topic string) {
	a.mu.Lock()
	i := slices.IndexFunc(a.roomList, func(r protocol.Room) bool { return r.Name == room })
	if i < 0 || a.roomList[i].Topic == topic {
		a.mu.Unlock()
		return
	}
	a.roomList[i].Topic = topic
	a.saveRoomsLocked()
	a.mu.Unlock()
	a.notify()
}
