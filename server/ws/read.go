package ws

import (
	"context"

	"github.com/parleychat/parley/server/store"
	"github.com/parleychat/parley/shared/protocol"
)

// read moves the user's read marker in a room (protocol.TypeRead) and,
// when it moved, announces it on the user's inbox, so every tab and
// device of the user, on every node, follows. A read costs the
// connection one send (its rate limit): it writes to the store.
func (c *conn) read(ctx context.Context, f protocol.Frame) {
	now := c.s.cfg.Now()
	if r := c.sendLim.ReserveN(now, 1); r.DelayFrom(now) > 0 {
		d := r.DelayFrom(now)
		r.CancelAt(now)
		c.reply(protocol.Frame{Type: protocol.TypeError, Code: protocol.ErrRateLimited, Ref: f.Room,
			Message: "marking read too fast", RetryAfter: max(d.Milliseconds(), 1)})
		return
	}
	if f.Room == protocol.InboxRoom(c.user) || f.Room == protocol.RoomFeed {
		c.replyError(protocol.ErrBadRequest, f.Room, "an inbox or the room feed has no read marker")
		return
	}
	// Join is the membership check, as for a subscribe: it joins a public
	// room and refuses (not_found) a room the user may not read.
	err := c.s.cfg.Store.Join(ctx, f.Room, c.user)
	var marker int64
	var moved bool
	if err == nil {
		marker, moved, err = c.s.cfg.Store.SetReadMarker(ctx, f.Room, c.user, f.Offset)
	}
	if err != nil {
		c.storeError(f.Room, "set read marker", err)
		return
	}
	if !moved {
		return
	}
	ev := protocol.UserEvent{Type: protocol.UserRead, Room: f.Room, Offset: marker}
	m, err := store.AppendUserEvent(ctx, c.s.cfg.Store, c.user, ev)
	if err != nil {
		// The marker is stored: the room list shows it; other tabs learn
		// it at their next list.
		c.s.log.Warn("append read event", "user", c.user, "room", f.Room, "err", err)
		return
	}
	if err := c.s.cfg.Hub.PublishMessage(ctx, m); err != nil {
		c.s.log.Warn("publish read event", "user", c.user, "err", err)
	}
}
