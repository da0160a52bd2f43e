package client

import (
	"time"

	"github.com/parleychat/parley/shared/protocol"
)

// handle decodes one frame from the node and acts on it. It runs on the
// reader (the Run goroutine), which is also where events are emitted.
func (c *Client) handle(cn *conn, data []byte) {
	f, err := decodeNodeFrame(data)
	if err == nil {
		err = protocol.ValidateServer(f)
	}
	if err != nil {
		c.cfg.Logger.Warn("ignoring invalid frame", "err", err)
		return
	}
	switch f.Type {
	case protocol.TypeMsg:
		c.onMsg(cn, f.Msg)
	case protocol.TypeAck:
		c.onAck(cn, f)
	case protocol.TypeSubscribed:
		c.onSubscribed(cn, f)
	case protocol.TypeHistory:
		c.onHistory(cn, f)
	case protocol.TypePresence:
		c.emitIfSubscribed(Event{Kind: EventPresence, Room: f.Room, Users: f.Users, Count: max(f.Count, len(f.Users))})
	case protocol.TypePresenceDelta:
		c.emitIfSubscribed(Event{Kind: EventPresence, Room: f.Room, Delta: true, Joined: f.Joined, Left: f.Left, Count: f.Count})
	case protocol.TypeTyping:
		if f.User != cn.user {
			c.emitIfSubscribed(Event{Kind: EventTyping, Room: f.Room, User: f.User})
		}
	case protocol.TypeResync:
		c.onResync(cn, f)
	case protocol.TypeReauth:
		cn.signal(cn.reauth)
	case protocol.TypeError:
		c.onError(cn, f)
	case protocol.TypeRemoved:
		c.onRemoved(f)
	case protocol.TypeWatching:
		c.emit(Event{Kind: EventWatching, Room: f.Room, Head: f.Head})
	case protocol.TypePong, protocol.TypeWelcome:
	}
}

func (c *Client) onMsg(cn *conn, m *protocol.Message) {
	c.mu.Lock()
	rs := c.rooms[m.Room]
	if rs == nil {
		_, watched := c.watched[m.Room]
		c.mu.Unlock()
		if watched && !m.IsEvent() {
			c.emit(Event{Kind: EventWatched, Room: m.Room, Msg: m, Offset: m.Offset, CID: m.CID, TS: m.TS})
		}
		return
	}
	ours := m.CID != "" && m.Author == cn.user && c.stored(cn, m.CID)
	evs, fetch := rs.accept(m, c.cfg.MaxGap, c.evbuf[:0])
	if fetch {
		c.fetchGap(cn, rs)
	}
	c.mu.Unlock()
	if ours {
		cn.signal(cn.kick) // the send window has room again
	}
	c.emitAll(evs)
}

func (c *Client) onAck(cn *conn, f protocol.Frame) {
	c.mu.Lock()
	if c.stored(cn, f.CID) {
		cn.signal(cn.kick) // the send window has room again
	}
	c.mu.Unlock()
	c.emit(Event{Kind: EventAck, Room: f.Room, CID: f.CID, Offset: f.Offset, TS: f.TS})
}

// onRemoved forgets a room the user was removed from: resubscribing
// after a reconnect would only be refused.
func (c *Client) onRemoved(f protocol.Frame) {
	c.mu.Lock()
	_, ok := c.rooms[f.Room]
	delete(c.rooms, f.Room)
	delete(c.retrying, f.Room)
	c.mu.Unlock()
	if ok {
		c.emit(Event{Kind: EventRemoved, Room: f.Room, Reason: f.Code})
	}
}

func (c *Client) onSubscribed(cn *conn, f protocol.Frame) {
	c.mu.Lock()
	rs := c.rooms[f.Room]
	if rs == nil {
		c.mu.Unlock()
		return
	}
	reset, fetch := rs.subscribed(f.Epoch, f.Since, f.Head)
	if fetch {
		c.fetchGap(cn, rs)
	}
	c.mu.Unlock()
	c.emit(Event{Kind: EventSubscribed, Room: f.Room, Epoch: f.Epoch, Head: f.Head, Reset: reset})
}

func (c *Client) onResync(cn *conn, f protocol.Frame) {
	c.mu.Lock()
	rs := c.rooms[f.Room]
	if rs == nil {
		c.mu.Unlock()
		return
	}
	rs.disconnected()
	rs.subscribing = true
	since := rs.last
	c.mu.Unlock()
	cn.enqueue(subscribeFrame(f.Room, since), false)
	c.emit(Event{Kind: EventResync, Room: f.Room, Epoch: f.Epoch, Head: f.Head})
}

// onHistory routes a history reply to the History call or the gap fetch
// that asked for it.
func (c *Client) onHistory(cn *conn, f protocol.Frame) {
	c.mu.Lock()
	req := cn.pending[f.ID]
	if req == nil {
		c.mu.Unlock()
		return
	}
	if req.reply != nil {
		c.mu.Unlock()
		deliver(req, f)
		return
	}
	delete(cn.pending, f.ID)
	var evs []Event
	if rs := c.rooms[req.room]; rs != nil {
		var fetch bool
		evs, fetch = rs.fill(f.ID, f.Messages, c.cfg.MaxGap, c.evbuf[:0])
		if fetch {
			c.fetchGap(cn, rs)
		}
	}
	c.mu.Unlock()
	c.emitAll(evs)
}

// onError routes an error frame: to the History call or gap fetch it
// answers, to the outbox entry it refuses, or to OnEvent.
func (c *Client) onError(cn *conn, f protocol.Frame) {
	if f.Code == protocol.ErrSessionEnded {
		// The close 4502 that follows may reach a browser client only as
		// "closed": end the connection with it now.
		cn.fail(sessionEnded(f))
		return
	}
	se := serverError(f)
	if f.Ref != "" {
		c.mu.Lock()
		req := cn.pending[f.Ref]
		if req != nil && req.reply != nil {
			c.mu.Unlock()
			deliver(req, f)
			return
		}
		if req != nil {
			delete(cn.pending, f.Ref)
			var evs []Event
			if rs := c.rooms[req.room]; rs != nil {
				if se.retryable() && f.Ref == rs.gapID {
					evs = append(c.evbuf[:0], c.gapRefused(rs, se, time.Now()))
					cn.signal(cn.kick)
				} else {
					evs = rs.fetchFailed(f.Ref, c.evbuf[:0])
				}
			}
			c.mu.Unlock()
			c.emitAll(evs)
			return
		}
		c.mu.Unlock()
		ev, emit, handled := c.sendFailed(cn, f.Ref, se)
		if handled {
			cn.signal(cn.kick)
			if emit {
				c.emit(ev)
			}
			return
		}
		if ev, ok := c.roomRefused(cn, f.Ref, se); ok {
			c.emit(ev)
			return
		}
	}
	ev := Event{Kind: EventError, Room: f.Room, Ref: f.Ref, Err: se}
	if ev.Room == "" && protocol.ValidRoomName(f.Ref) {
		ev.Room = f.Ref // a failed subscribe or typing names its room
	}
	c.emit(ev)
}

// roomRefused handles an error frame that answers the subscribe in flight
// for room ref: a retryable one schedules the retry (EventRoomRetry); a
// permanent one ends the attempt and is reported as EventError by the
// caller.
func (c *Client) roomRefused(cn *conn, ref string, se *ServerError) (Event, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	rs := c.rooms[ref]
	if rs == nil || !rs.subscribing || c.cur != cn {
		return Event{}, false
	}
	if !se.retryable() {
		rs.subscribing = false
		return Event{}, false
	}
	ev := c.subscribeRefused(rs, se, time.Now())
	cn.signal(cn.kick)
	return ev, true
}

// fetchGap asks for the newest part of rs's open gap. Callers hold mu. If
// the queue is full the connection fails, and the resubscribe after the
// reconnect replays the gap anyway.
func (c *Client) fetchGap(cn *conn, rs *roomState) {
	before, limit := rs.gapRequest()
	id := c.newID("g")
	rs.gapID = id
	cn.pending[id] = &request{room: rs.name}
	cn.enqueue(encode(protocol.Frame{Type: protocol.TypeHistory, ID: id, Room: rs.name, Before: before, Limit: limit}), false)
}

// deliver hands a reply to a History call; its channel holds one reply, so
// a duplicate from a confused node is dropped rather than blocking.
func deliver(req *request, f protocol.Frame) {
	select {
	case req.reply <- f:
	default:
	}
}

func (c *Client) emitIfSubscribed(ev Event) {
	c.mu.Lock()
	_, ok := c.rooms[ev.Room]
	c.mu.Unlock()
	if ok {
		c.emit(ev)
	}
}

func (c *Client) emit(ev Event) { c.cfg.OnEvent(ev) }

// emitAll emits evs and keeps their backing array for the next frame.
func (c *Client) emitAll(evs []Event) {
	for i := range evs {
		c.cfg.OnEvent(evs[i])
		evs[i] = Event{}
	}
	c.evbuf = evs[:0]
}
