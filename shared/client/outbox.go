package client

import (
	"fmt"
	"time"

	"github.com/parleychat/parley/shared/protocol"
)

// Outgoing is a message in the outbox: accepted by Send, not yet
// acknowledged by a node.
type Outgoing struct {
	Room, CID, Body string
	// Kind is empty for a message, protocol.MsgEdit or MsgDelete for an
	// edit or deletion of the message at offset Target (Edit, Delete),
	// protocol.MsgReact or MsgUnreact for adding or removing the reaction
	// Body on it (React).
	Kind   string
	Target int64
	// Queued is when Send accepted it.
	Queued time.Time
	// Written counts the times it was written to a connection.
	Written int
}

// outEntry is an outbox slot. gen is the generation of the connection it
// is in flight on (0: not yet written, or to be resent); gap is the time
// between its last write and the outbox write before it; internal counts
// internal_error answers. Guarded by Client.mu.
//
// Entries are written in outbox order and an entry is only ever unmarked
// together with every later one, so the entries in flight on the current
// connection are always a prefix of the outbox.
type outEntry struct {
	Outgoing
	gen      uint64
	gap      time.Duration
	internal int
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
// same id after every reconnect, and after every rate_limited or
// unavailable answer, until a node acknowledges it, so it is stored once
// and never lost to a rate limit. Only a permanent refusal (bad_request,
// too_large, not_found, forbidden…, or repeated internal_error) drops it,
// with an EventError that names its cid. See the package doc for the order
// in which messages are stored. Send fails when the room name or body is
// invalid or the outbox is full.
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
	return c.queue(Outgoing{Room: room, CID: cid, Body: body})
}

// Edit queues an edit of the message at offset target in room: its body
// becomes body. It goes through the outbox like a message (in order with
// sends, resent with the same cid until acknowledged, so stored once):
// EventAck names the edit's cid and the offset of the edit event, and a
// refusal (forbidden: not the author; conflict: the message was deleted;
// not_found: no such message) is an EventError naming the cid.
func (c *Client) Edit(room string, target int64, body string) (cid string, err error) {
	cid = NewCID()
	if err := c.queue(Outgoing{Room: room, CID: cid, Body: body, Kind: protocol.MsgEdit, Target: target}); err != nil {
		return "", err
	}
	return cid, nil
}

// Delete queues the deletion of the message at offset target in room,
// like Edit. Its author may delete it, and so may the room's owners and
// moderators.
func (c *Client) Delete(room string, target int64) (cid string, err error) {
	cid = NewCID()
	if err := c.queue(Outgoing{Room: room, CID: cid, Kind: protocol.MsgDelete, Target: target}); err != nil {
		return "", err
	}
	return cid, nil
}

// React queues adding (add) or removing the user's reaction emoji (one
// of protocol.Reactions) on the message at offset target in room, like
// Edit. EventAck names the cid and the offset of the reaction event, or
// the target's offset when the reaction changed nothing (it was already
// there, or not there to remove); a refusal (not_found, conflict: the
// message was deleted) is an EventError naming the cid.
func (c *Client) React(room string, target int64, emoji string, add bool) (cid string, err error) {
	cid = NewCID()
	kind := protocol.MsgUnreact
	if add {
		kind = protocol.MsgReact
	}
	if err := c.queue(Outgoing{Room: room, CID: cid, Body: emoji, Kind: kind, Target: target}); err != nil {
		return "", err
	}
	return cid, nil
}

// queue adds o to the outbox unless its cid is there already.
func (c *Client) queue(o Outgoing) error {
	cid := o.CID
	if err := protocol.ValidateClient(o.frame()); err != nil {
		return fmt.Errorf("%s: %w", o.frame().Type, err)
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
	o.Queued = time.Now()
	c.outbox = append(c.outbox, &outEntry{Outgoing: o})
	cn := c.cur
	c.mu.Unlock()
	if cn != nil {
		cn.signal(cn.kick)
	}
	return nil
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

// stored drops cid from the outbox after the node stored it (its ack, or
// its own msg seen first) and reports whether it was there. Callers hold
// mu.
func (c *Client) stored(cn *conn, cid string) bool {
	if !c.removeOutgoing(cid) {
		return false
	}
	cn.flow.acked(len(c.outbox) == 0)
	return true
}

// nextOutgoing returns the send frame of the oldest entry not yet written
// on cn and marks it in flight. It returns no frame when the outbox has
// nothing to write or the window is full (an answer opens it), and the
// time to wait when writing is paused after a refusal.
func (c *Client) nextOutgoing(cn *conn) (frame []byte, wait time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	next := 0 // the entries in flight are a prefix: next counts them
	for next < len(c.outbox) && c.outbox[next].gen == cn.gen {
		next++
	}
	if next == len(c.outbox) || next >= cn.flow.window() {
		return nil, 0
	}
	now := time.Now()
	if d := cn.flow.resume.Sub(now); d > 0 {
		return nil, d
	}
	e := c.outbox[next]
	e.gen = cn.gen
	e.Written++
	e.gap = cn.flow.wrote(now)
	return encode(e.frame()), 0
}

// frame is the frame that writes o: send, edit, delete, react or unreact.
func (o *Outgoing) frame() protocol.Frame {
	f := protocol.Frame{Type: protocol.TypeSend, Room: o.Room, CID: o.CID, Body: o.Body}
	switch o.Kind {
	case protocol.MsgEdit:
		f.Type, f.Target = protocol.TypeEdit, o.Target
	case protocol.MsgDelete:
		f.Type, f.Target = protocol.TypeDelete, o.Target
	case protocol.MsgReact:
		f.Type, f.Target = protocol.TypeReact, o.Target
	case protocol.MsgUnreact:
		f.Type, f.Target = protocol.TypeUnreact, o.Target
	}
	return f
}

// sendFailed handles an error frame on cn that answers the outbox entry
// cid. It returns the event to emit, if any, and whether the error was
// about an outbox entry at all.
//
// A permanent error drops the entry. A retryable one (rate_limited,
// unavailable, internal_error) unmarks it and every later entry in flight
// (the node refuses those too, or takes them out of order: nothing can be
// done about that) and throttles cn, so they are all resent from the
// refused one, in order, when the pause is over. A refusal of an entry
// already unmarked is the echo of an earlier one and changes nothing.
func (c *Client) sendFailed(cn *conn, cid string, se *ServerError) (ev Event, emit, handled bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	i := c.outboxIndex(cid)
	if i < 0 {
		return Event{}, false, false
	}
	e := c.outbox[i]
	drop := !se.retryable()
	if !drop && e.gen != cn.gen {
		return Event{}, false, true
	}
	if se.Code == protocol.ErrInternal {
		e.internal++
		drop = e.internal >= maxInternalFailures
	}
	if drop {
		c.removeOutgoing(cid)
		return Event{Kind: EventError, Room: e.Room, CID: cid, Ref: cid, Err: se}, true, true
	}
	for _, next := range c.outbox[i:] {
		if next.gen == cn.gen {
			next.gen = 0
		}
	}
	cn.flow.refused(se, e.gap, time.Now(), c.cfg.MinBackoff, c.cfg.MaxBackoff)
	return Event{}, false, true
}
