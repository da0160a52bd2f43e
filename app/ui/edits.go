package ui

import (
	"github.com/parleychat/parley/app/state"
	"github.com/parleychat/parley/shared/client"
	"github.com/parleychat/parley/shared/protocol"
)

// Edit replaces the body of the user's message at offset in room. The
// change shows once the node's edit event arrives; a refusal shows as
// the room's error.
func (a *App) Edit(room string, offset int64, body string) error {
	if err := protocol.CheckBody(body); err != nil {
		return err
	}
	return a.amend(room, func(cl *client.Client) (string, error) { return cl.Edit(room, offset, body) })
}

// Delete deletes the message at offset in room: the user's own, or
// anyone's for an owner or moderator.
func (a *App) Delete(room string, offset int64) error {
	return a.amend(room, func(cl *client.Client) (string, error) { return cl.Delete(room, offset) })
}

// amend queues an edit or delete with the client and remembers its cid,
// so that a refusal is shown in its room.
func (a *App) amend(room string, queue func(*client.Client) (string, error)) error {
	a.mu.Lock()
	cl := a.cl
	a.mu.Unlock()
	if cl == nil {
		return client.ErrUnauthorized
	}
	cid, err := queue(cl)
	if err != nil {
		return err
	}
	a.mu.Lock()
	if a.amends == nil {
		a.amends = make(map[string]string)
	}
	a.amends[cid] = room
	a.mu.Unlock()
	return nil
}

// amendFailedLocked shows the refusal of an edit or delete cid in its
// room; it reports whether cid was one. Callers hold mu.
func (a *App) amendFailedLocked(cid, code, msg string) bool {
	room, ok := a.amends[cid]
	if !ok {
		return false
	}
	delete(a.amends, cid)
	if rd := a.rooms[room]; rd != nil {
		rd.err = state.RoomErrorText(code, msg)
	}
	return true
}

// canModerate reports whether the user may delete others' messages in a
// room described by info: an owner or moderator of a public or private
// room.
func canModerate(info protocol.Room) bool {
	return info.Kind != protocol.KindDirect && (info.Role == protocol.RoleOwner || info.Role == protocol.RoleModerator)
}
