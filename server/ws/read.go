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
	joined, err := c.s.cfg.Store.Join(ctx, f.Room, c.user)
	if joined {
		c.announceJoin(ctx, f.Room)
	}
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
	// The marker is stored: should the event fail, the room list shows
	// it and other tabs learn it at their next list.
	c.announce(ctx, protocol.UserEvent{Type: protocol.UserRead, Room: f.Room, Offset: marker})
}

// announceJoin tells every tab and device of the user, on every node,
// that the user just joined the public room (protocol.UserJoined): a
// subscribe or read made them a new member. The membership is stored:
// should the event fail, other tabs see the room at their next list.
func (c *conn) announceJoin(ctx context.Context, room string) {
	r, err := c.s.cfg.Store.Room(ctx, room)
	if err != nil {
		c.s.log.Warn("read joined room", "user", c.user, "room", room, "err", err)
		return
	}
	c.announce(ctx, protocol.UserEvent{Type: protocol.UserJoined, Room: room, Kind: r.Kind, Topic: r.Topic})
}

// announce appends ev to the user's inbox and publishes it, as the API
// does with the events it makes; a failure is logged, the change it
// tells of being stored already.
func (c *conn) announce(ctx context.Context, ev protocol.UserEvent) {
	m, err := store.AppendUserEvent(ctx, c.s.cfg.Store, c.user, ev)
	if err != nil {
		c.s.log.Warn("append user event", "user", c.user, "type", ev.Type, "room", ev.Room, "err", err)
		return
	}
	if err := c.s.cfg.Hub.PublishMessage(ctx, m); err != nil {
		c.s.log.Warn("publish user event", "user", c.user, "type", ev.Type, "err", err)
	}
}
