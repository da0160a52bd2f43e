package client

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/parleychat/parley/shared/protocol"
)

// typingEvery is the least time between two typing frames for one room.
const typingEvery = 2 * time.Second

// Client is a Parley WebSocket client. Create it with New, start it with
// Run; every other method is safe for concurrent use, before, during and
// between runs. Subscriptions, offsets and the outbox outlive connections
// and runs.
type Client struct {
	cfg     Config
	running atomic.Bool
	nextID  atomic.Uint64
	// wake cuts Run's wait before the next connection attempt (RetryNow).
	wake chan struct{}

	// mu guards the fields below, every roomState and each conn's pending
	// and flow. OnEvent is called with it released. Lock order: mu →
	// conn.failMu (server/README.md lists every lock).
	mu     sync.Mutex
	rooms  map[string]*roomState
	outbox []*outEntry
	cur    *conn  // nil while not connected
	gen    uint64 // generation of the last connection
	user   string
	typed  map[string]time.Time
	// marked is the largest offset MarkRead was given per room;
	// unsentReads those not sent yet (no connection, or a full queue).
	marked      map[string]int64
	unsentReads map[string]int64
	// retrying names the rooms with a refused subscribe or gap fetch
	// waiting for its retry (see retry.go).
	retrying map[string]struct{}
	// watched names the rooms to watch (see Watch).
	watched map[string]struct{}

	evbuf []Event // events being emitted; used only by the Run goroutine
}

// New returns a Client for cfg; zero fields take their defaults.
func New(cfg Config) *Client {
	return &Client{
		cfg:         cfg.withDefaults(),
		rooms:       make(map[string]*roomState),
		typed:       make(map[string]time.Time),
		marked:      make(map[string]int64),
		unsentReads: make(map[string]int64),
		retrying:    make(map[string]struct{}),
		watched:     make(map[string]struct{}),
		wake:        make(chan struct{}, 1),
	}
}

// RetryNow ends Run's wait before its next connection attempt, if it is
// waiting: the user asked to retry, or the browser says the network is
// back. The backoff goes on growing from where it was, so a node that is
// still down is not hammered. It never blocks.
func (c *Client) RetryNow() {
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// Subscribe asks for room's events after offset since and remembers the
// subscription: every (re)connect renews it from the last offset
// delivered. since is the last offset the caller already has; the node
// replays what follows it (at most protocol.MaxBacklog, see EventGap). With
// since 0 the node starts live, without backlog: show the latest page with
// History and subscribe from its last offset instead, so nothing is missed
// in between. Subscribing to a room already subscribed only moves its
// offset forward.
func (c *Client) Subscribe(room string, since int64) error {
	return c.SubscribeEpoch(room, 0, since)
}

// SubscribeEpoch is Subscribe for a caller that cached the room's history
// under epoch: if the node reports another epoch, the offset starts again
// and EventSubscribed has Reset set.
func (c *Client) SubscribeEpoch(room string, epoch, since int64) error {
	if err := protocol.CheckRoomName(room); err != nil {
		return fmt.Errorf("subscribe: %w", err)
	}
	since = max(since, 0)
	c.mu.Lock()
	if rs := c.rooms[room]; rs != nil {
		if since > rs.last {
			rs.last, rs.fresh = since, false
		}
		c.mu.Unlock()
		return nil
	}
	if len(c.rooms) >= protocol.MaxSubscriptions {
		c.mu.Unlock()
		return fmt.Errorf("subscribe %s: %w", room, ErrTooManyRooms)
	}
	rs := newRoomState(room, epoch, since)
	c.rooms[room] = rs
	cn := c.cur
	if cn != nil {
		rs.subscribing = true
	}
	c.mu.Unlock()
	if cn != nil {
		cn.enqueue(subscribeFrame(room, since), false)
	}
	return nil
}

// Unsubscribe forgets room: no more events are delivered for it.
func (c *Client) Unsubscribe(room string) {
	c.mu.Lock()
	_, ok := c.rooms[room]
	delete(c.rooms, room)
	delete(c.retrying, room)
	cn := c.cur
	c.mu.Unlock()
	if ok && cn != nil {
		cn.enqueue(encode(protocol.Frame{Type: protocol.TypeUnsubscribe, Room: room}), false)
	}
}

// Subscriptions returns the subscribed rooms and the last offset delivered
// in each; persist them to resume after a restart.
func (c *Client) Subscriptions() map[string]int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[string]int64, len(c.rooms))
	for name, rs := range c.rooms {
		out[name] = rs.last
	}
	return out
}

// Offset returns the last offset delivered for room (0 when none or not
// subscribed).
func (c *Client) Offset(room string) int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	if rs := c.rooms[room]; rs != nil {
		return rs.last
	}
	return 0
}

// Connected reports whether an authenticated connection is up.
func (c *Client) Connected() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.cur != nil
}

// User returns the user name the last welcome frame carried.
func (c *Client) User() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.user
}

// Typing tells room's members that the user is typing. It is best-effort:
// dropped when offline, for a room not subscribed or when the send queue
// is full, and sent at most once per 2 seconds per room.
func (c *Client) Typing(room string) {
	if !protocol.ValidRoomName(room) {
		return
	}
	now := time.Now()
	c.mu.Lock()
	cn := c.cur
	if cn == nil || c.rooms[room] == nil || now.Sub(c.typed[room]) < typingEvery {
		c.mu.Unlock()
		return
	}
	c.typed[room] = now
	c.mu.Unlock()
	cn.enqueue(encode(protocol.Frame{Type: protocol.TypeTyping, Room: room}), true)
}

// RefreshPresence asks the node for room's full presence list; it arrives
// as an EventPresence without Delta. It does nothing without a live
// connection or for a room not subscribed (a new connection sends the
// list of every room anyway).
func (c *Client) RefreshPresence(room string) {
	c.mu.Lock()
	cn := c.cur
	ok := cn != nil && c.rooms[room] != nil
	c.mu.Unlock()
	if ok {
		cn.enqueue(encode(protocol.Frame{Type: protocol.TypePresence, Room: room}), true)
	}
}

// History fetches up to limit messages of room older than offset before
// (0: the newest), oldest first; more reports that older ones exist. It
// needs a live connection and fails at once with ErrNotConnected without
// one. Do not call it from OnEvent.
func (c *Client) History(ctx context.Context, room string, before int64, limit int) (msgs []protocol.Message, more bool, err error) {
	id := c.newID("h")
	f := protocol.Frame{Type: protocol.TypeHistory, ID: id, Room: room, Before: before, Limit: limit}
	if err := protocol.ValidateClient(f); err != nil {
		return nil, false, fmt.Errorf("history: %w", err)
	}
	req := &request{reply: make(chan protocol.Frame, 1)}
	c.mu.Lock()
	cn := c.cur
	if cn == nil {
		c.mu.Unlock()
		return nil, false, fmt.Errorf("history: %w", ErrNotConnected)
	}
	cn.pending[id] = req
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		delete(cn.pending, id)
		c.mu.Unlock()
	}()
	if !cn.enqueue(encode(f), true) {
		return nil, false, fmt.Errorf("history: %w", ErrSendQueueFull)
	}
	select {
	case r := <-req.reply:
		if r.Type == protocol.TypeError {
			return nil, false, fmt.Errorf("history: %w", serverError(r))
		}
		return r.Messages, r.More, nil
	case <-cn.done:
		return nil, false, fmt.Errorf("history: connection lost: %w", ErrNotConnected)
	case <-ctx.Done():
		return nil, false, fmt.Errorf("history: %w", ctx.Err())
	}
}

// newID returns a request id unique within this client.
func (c *Client) newID(prefix string) string {
	return prefix + strconv.FormatUint(c.nextID.Add(1), 36)
}

func subscribeFrame(room string, since int64) []byte {
	return encode(protocol.Frame{Type: protocol.TypeSubscribe, Room: room, Since: since})
}

// encode marshals a frame the client built. Frames are plain structs of
// strings and numbers, so marshalling cannot fail.
func encode(f protocol.Frame) []byte {
	b, err := protocol.Encode(f)
	if err != nil {
		panic(fmt.Sprintf("encode %s frame: %v", f.Type, err))
	}
	return b
}
