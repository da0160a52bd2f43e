package ws

import (
	"context"
	"slices"

	"github.com/parleychat/parley/server/hub"
	"github.com/parleychat/parley/shared/protocol"
)

// watcher is one watch of a room (protocol.TypeWatch) by a connection:
// a hub.Watcher of its own, so the room actor tells it apart from the
// connection's subscription to the same room.
type watcher struct{ c *conn }

var (
	_ hub.Watcher         = (*watcher)(nil)
	_ hub.Remover         = (*watcher)(nil)
	_ hub.BatchSubscriber = (*watcher)(nil)
	_ hub.BatchSubscriber = (*conn)(nil)
)

// User implements hub.Subscriber.
func (w *watcher) User() string { return w.c.user }

// Send implements hub.Subscriber: the frame goes to the connection.
func (w *watcher) Send(frame []byte, droppable bool) bool { return w.c.Send(frame, droppable) }

// SendAll implements hub.BatchSubscriber: the frames go to the
// connection.
func (w *watcher) SendAll(frames [][]byte) bool { return w.c.SendAll(frames) }

// Owner implements hub.Watcher.
func (w *watcher) Owner() hub.Subscriber { return w.c }

// Removed implements hub.Remover: the user lost the room's membership,
// the room actor dropped the watch. Releasing it needs the actor, which
// is calling, so it runs on a goroutine serve waits for (as for a
// subscription).
func (w *watcher) Removed(room string) {
	c := w.c
	c.roomsMu.Lock()
	defer c.roomsMu.Unlock()
	if c.watches[room] != w {
		return // the reader is already ending it
	}
	delete(c.watches, room)
	c.unwatches = slices.DeleteFunc(c.unwatches, closed) // bounded by the releases under way
	done := make(chan struct{})
	c.unwatches = append(c.unwatches, done)
	go func() {
		defer close(done)
		c.s.cfg.Hub.Unwatch(w, room)
	}()
}

// watch starts watching a room the user may read (answered watching),
// or restarts a watch the connection has.
func (c *conn) watch(ctx context.Context, f protocol.Frame) {
	if !c.watchOK.Load() {
		c.replyError(protocol.ErrBadRequest, f.Room, "watch needs the watch feature")
		return
	}
	if err := c.authorize(ctx, f.Room, false); err != nil {
		c.storeError(f.Room, "watch", err)
		return
	}
	c.roomsMu.Lock()
	old := c.watches[f.Room]
	full := old == nil && len(c.watches) >= protocol.MaxWatches
	w := &watcher{c: c}
	if !full {
		c.watches = putIn(c.watches, f.Room, w)
	}
	c.roomsMu.Unlock()
	if full {
		c.replyError(protocol.ErrBadRequest, f.Room, "too many watches")
		return
	}
	if old != nil {
		c.s.cfg.Hub.Unwatch(old, f.Room)
	}
	if err := c.s.cfg.Hub.Watch(ctx, w, f.Room); err != nil {
		c.takeWatch(f.Room, w)
		c.storeError(f.Room, "watch", err)
	}
}

// unwatch ends the connection's watch of a room, if it has one.
func (c *conn) unwatch(room string) {
	c.roomsMu.Lock()
	w := c.watches[room]
	c.roomsMu.Unlock()
	if w != nil && c.takeWatch(room, w) {
		c.s.cfg.Hub.Unwatch(w, room)
	}
}

// takeWatch forgets w, the watch of room, and reports whether it was
// still the connection's (and so must be unwatched by the caller).
func (c *conn) takeWatch(room string, w *watcher) bool {
	c.roomsMu.Lock()
	defer c.roomsMu.Unlock()
	if c.watches[room] != w {
		return false
	}
	delete(c.watches, room)
	return true
}

// endWatches ends every watch, when the connection ends, and waits for
// the releases a removal started.
func (c *conn) endWatches() {
	c.roomsMu.Lock()
	watches := c.watches
	c.watches = nil
	pending := c.unwatches
	c.unwatches = nil
	c.roomsMu.Unlock()
	for room, w := range watches {
		c.s.cfg.Hub.Unwatch(w, room)
	}
	for _, done := range pending {
		<-done
	}
}

// closed reports whether done is closed.
func closed(done chan struct{}) bool {
	select {
	case <-done:
		return true
	default:
		return false
	}
}
