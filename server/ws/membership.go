package ws

import (
	"context"
	"errors"
	"fmt"

	"github.com/parleychat/parley/server/store"
	"github.com/parleychat/parley/shared/protocol"
)

// Removed implements hub.Remover: the user lost room's membership, the
// room actor dropped this connection and sent it the removed frame. The
// connection forgets the room and releases the subscription (references,
// presence) on a goroutine of its own, because the actor that calls
// Removed is the one Hub.Unsubscribe talks to. serve waits for it.
func (c *conn) Removed(room string) {
	c.roomsMu.Lock()
	defer c.roomsMu.Unlock()
	if !c.rooms[room] {
		return // the reader is already leaving it
	}
	delete(c.rooms, room)
	done := make(chan struct{})
	c.removals = putIn(c.removals, room, done)
	go func() {
		defer close(done)
		c.s.cfg.Hub.Unsubscribe(c, room)
		c.roomsMu.Lock()
		if c.removals[room] == done {
			delete(c.removals, room)
		}
		c.roomsMu.Unlock()
	}()
}

// awaitRemoval waits until a removal from room still under way is done,
// so that a new subscription is not undone by the old one's release.
func (c *conn) awaitRemoval(room string) {
	c.roomsMu.Lock()
	done := c.removals[room]
	c.roomsMu.Unlock()
	if done != nil {
		<-done
	}
}

// awaitRemovals waits for every removal under way.
func (c *conn) awaitRemovals() {
	c.roomsMu.Lock()
	pending := make([]chan struct{}, 0, len(c.removals))
	for _, done := range c.removals {
		pending = append(pending, done)
	}
	c.roomsMu.Unlock()
	for _, done := range pending {
		<-done
	}
}

// inRoom reports whether the connection is subscribed to room.
func (c *conn) inRoom(room string) bool {
	c.roomsMu.Lock()
	defer c.roomsMu.Unlock()
	return c.rooms[room]
}

// subscriptions counts the rooms the connection is subscribed to.
func (c *conn) subscriptions() int {
	c.roomsMu.Lock()
	defer c.roomsMu.Unlock()
	return len(c.rooms)
}

// markRoom records a subscription before the hub makes it, so that a
// removal arriving as soon as it is made finds it.
func (c *conn) markRoom(room string) {
	c.roomsMu.Lock()
	defer c.roomsMu.Unlock()
	c.rooms = putIn(c.rooms, room, true)
}

// takeRoom forgets room and reports whether the connection was subscribed
// to it (and so must call Hub.Unsubscribe).
func (c *conn) takeRoom(room string) bool {
	c.roomsMu.Lock()
	defer c.roomsMu.Unlock()
	was := c.rooms[room]
	delete(c.rooms, room)
	return was
}

// takeRooms forgets every room and returns them.
func (c *conn) takeRooms() []string {
	c.roomsMu.Lock()
	defer c.roomsMu.Unlock()
	rooms := make([]string, 0, len(c.rooms))
	for room := range c.rooms {
		rooms = append(rooms, room)
	}
	clear(c.rooms)
	return rooms
}

// errNoAccess wraps the store's verdict that the user may not use a room:
// store.ErrNotFound (the room does not exist, or is private or direct and
// the user is not a member: the same answer) or store.ErrBanned.
func errNoAccess(room string, a store.Access) error {
	if a.Banned && a.Kind == protocol.KindPublic {
		return fmt.Errorf("room %s: %w", room, store.ErrBanned)
	}
	return fmt.Errorf("room %s: %w", room, store.ErrNotFound)
}

// errReadOnly: a send to a room only nodes write (an inbox, the room
// feed).
var errReadOnly = errors.New("only nodes write to this room")

// authorize checks that the user may read room and, with send, send to it
// (see store.Access). Its error is what storeError answers.
func (c *conn) authorize(ctx context.Context, room string, send bool) error {
	_, err := c.access(ctx, room, send)
	return err
}

// access is authorize that also returns the user's access to room.
func (c *conn) access(ctx context.Context, room string, send bool) (store.Access, error) {
	a, err := c.s.cfg.Store.Access(ctx, room, c.user)
	if err != nil {
		return a, err
	}
	if !a.CanRead() {
		return a, errNoAccess(room, a)
	}
	if send && !a.CanSend() {
		return a, fmt.Errorf("room %s: %w", room, errReadOnly)
	}
	return a, nil
}

// denied reports whether err says the user may not use the room (as
// opposed to the store failing).
func denied(err error) bool {
	return errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrBanned) || errors.Is(err, errReadOnly)
}

// putIn sets m[k] = v, making m first when it is nil: a connection's maps
// are made at their first entry.
func putIn[V any](m map[string]V, k string, v V) map[string]V {
	if m == nil {
		m = make(map[string]V, 1)
	}
	m[k] = v
	return m
}
