package client

import (
	"fmt"

	"github.com/parleychat/parley/shared/protocol"
)

// Watch asks for room's new messages without subscribing to it
// (protocol.TypeWatch): the user does not appear in the room, and each
// new message arrives as EventWatched while the client is not
// subscribed to the room (a subscription delivers it as EventMessage
// instead). The watch is renewed on every connection to a node that
// offers protocol.FeatureWatch (EventWatching says it is live; an older
// node never confirms it: read the room list instead). Watching a
// watched room does nothing.
func (c *Client) Watch(room string) error {
	if err := protocol.CheckRoomName(room); err != nil {
		return fmt.Errorf("watch: %w", err)
	}
	c.mu.Lock()
	if _, ok := c.watched[room]; ok {
		c.mu.Unlock()
		return nil
	}
	if len(c.watched) >= protocol.MaxWatches {
		c.mu.Unlock()
		return fmt.Errorf("watch %s: %w", room, ErrTooManyRooms)
	}
	c.watched[room] = struct{}{}
	cn := c.cur
	c.mu.Unlock()
	if cn != nil && cn.watch {
		cn.enqueue(encode(protocol.Frame{Type: protocol.TypeWatch, Room: room}), false)
	}
	return nil
}

// Unwatch ends a watch of room.
func (c *Client) Unwatch(room string) {
	c.mu.Lock()
	_, ok := c.watched[room]
	delete(c.watched, room)
	cn := c.cur
	c.mu.Unlock()
	if ok && cn != nil && cn.watch {
		cn.enqueue(encode(protocol.Frame{Type: protocol.TypeUnwatch, Room: room}), false)
	}
}

// Watching reports whether the current connection's node delivers
// watches (it confirmed protocol.FeatureWatch); false while not
// connected.
func (c *Client) Watching() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.cur != nil && c.cur.watch
}
