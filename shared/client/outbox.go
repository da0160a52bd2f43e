package client

import (
	"fmt"
	"time"

	"github.com/parleychat/parley/shared/protocol"
)

// maxSendAttempts bounds how often a message is resent after the node
// answered it with a retryable error (rate_limited, unavailable,
// internal_error). Resends after a reconnect do not count.
const maxSendAttempts = 5

// Outgoing is a message in the outbox: accepted by Send, not yet
// acknowledged by a node.
type Outgoing struct {
	Room, CID, Body string
	// Queued is when Send accepted it.
	Queued time.Time
	// Written counts the times it was written to a connection.
	Written int
}

// outEntry is an outbox slot. gen is the connection generation it was last
// written on (0: not yet, or to be resent); failures counts retryable error
// answers. Guarded by Client.mu.
type outEntry struct {
	Outgoing
	gen      uint64
	failures int
}

// Pending returns a copy of the outbox, oldest first: the messages that
// wait for their ack.
func (c *Client) Pending() []Outgoing {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]Outgoing, len(c.outbox))
	for i, e := range c.outbox {
		out[i] = e.Outgoing
	}
	return out
}

// Send queues body for room under a new client id and returns the id. The
// message is written as soon as a connection is up and resent with the
// same id after every reconnect until a node acknowledges it, so it is
// stored once. It fails when the room name or body is invalid or the
// outbox is full.
func (c *Client) Send(room, body string) (cid string, err error) {
	cid = NewCID()
	if err := c.SendWithCID(room, cid, body); err != nil {
		return "", err
	}
	return cid, nil
}

// SendWithCID is Send with a caller-chosen client id, for callers that keep
// their own durable outbox (the offline app). A cid already in the outbox
// is not queued twice.
func (c *Client) SendWithCID(room, cid, body string) error {
	if err := checkSend(room, cid, body); err != nil {
		return fmt.Errorf("send: %w", err)
	}
	c.mu.Lock()
	if c.outboxIndex(cid) >= 0 {
		c.mu.Unlock()
		return nil
	}
	if len(c.outbox) >= c.cfg.OutboxSize {
		c.mu.Unlock()
		return fmt.Errorf("send: %w (%d messages wait for their ack)", ErrOutboxFull, c.cfg.OutboxSize)
	}
	c.outbox = append(c.outbox, &outEntry{Outgoing: Outgoing{Room: room, CID: cid, Body: body, Queued: time.Now()}})
	cn := c.cur
	c.mu.Unlock()
	if cn != nil {
		cn.signal(cn.kick)
	}
	return nil
}

func checkSend(room, cid, body string) error {
	if err := protocol.CheckRoomName(room); err != nil {
		return err
	}
	f := protocol.Frame{Type: protocol.TypeSend, Room: room, CID: cid, Body: body}
	return protocol.ValidateClient(f)
}

// outboxIndex returns the index of cid in the outbox, or -1. Callers hold mu.
func (c *Client) outboxIndex(cid string) int {
	for i, e := range c.outbox {
		if e.CID == cid {
			return i
		}
	}
	return -1
}

// removeOutgoing drops cid from the outbox. Callers hold mu.
func (c *Client) removeOutgoing(cid string) bool {
	i := c.outboxIndex(cid)
	if i < 0 {
		return false
	}
	c.outbox = append(c.outbox[:i], c.outbox[i+1:]...)
	return true
}

// nextOutgoing returns the send frame of the oldest entry not yet written
// on cn and marks it written, or the time to wait while sending is paused
// after a rate limit.
func (c *Client) nextOutgoing(cn *conn) (frame []byte, wait time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if d := time.Until(c.pausedUntil); d > 0 {
		return nil, d
	}
	for _, e := range c.outbox {
		if e.gen == cn.gen {
			continue
		}
		e.gen = cn.gen
		e.Written++
		return encode(protocol.Frame{Type: protocol.TypeSend, Room: e.Room, CID: e.CID, Body: e.Body}), 0
	}
	return nil, 0
}

// sendFailed handles an error frame that answers the outbox entry cid. It
// returns the event to emit, if any, and whether the error was about an
// outbox entry at all.
func (c *Client) sendFailed(cid string, se *ServerError) (ev Event, emit, handled bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	i := c.outboxIndex(cid)
	if i < 0 {
		return Event{}, false, false
	}
	e := c.outbox[i]
	e.failures++
	if se.retryable() && e.failures < maxSendAttempts {
		e.gen = 0
		pause := se.RetryAfter
		if pause < c.cfg.MinBackoff {
			pause = c.cfg.MinBackoff
		}
		c.pausedUntil = time.Now().Add(pause)
		return Event{}, false, true
	}
	c.removeOutgoing(cid)
	return Event{Kind: EventError, Room: e.Room, CID: cid, Ref: cid, Err: se}, true, true
}
