package loadgen

import (
	"context"
	"fmt"
	"net/http"
	"strconv"

	"github.com/coder/websocket"
)

// cfSession is one connection to a Centrifugo node: dial, connect,
// subscribe (recovering from the last offset it saw, when it has seen
// one), then read until it ends. It answers the node's pings from its
// reader, so it needs no pinger.
func (m *member) cfSession(ctx context.Context, hc *http.Client) (welcomed bool, err error) {
	ws, err := m.cfDial(ctx, hc)
	if err != nil {
		return false, err
	}
	sctx, cancel := context.WithCancel(ctx)
	defer func() {
		cancel()
		if ctx.Err() != nil {
			_ = ws.Close(websocket.StatusNormalClosure, "bench over")
		} else {
			_ = ws.CloseNow()
		}
	}()
	sub := &cfSubscribe{Channel: m.spec.Room}
	if m.epoch != "" {
		sub.Recover, sub.Offset, sub.Epoch = true, uint64(m.last), m.epoch
	}
	f, err := encodeCommand(cfCommand{ID: m.nextID(), Subscribe: sub})
	if err != nil {
		return true, err
	}
	if err := write(sctx, ws, f); err != nil {
		return true, err
	}
	m.attach(sctx, ws)
	defer m.attach(sctx, nil)
	return true, m.read(sctx, ws)
}

// cfDial connects and waits for the connect reply.
func (m *member) cfDial(ctx context.Context, hc *http.Client) (*websocket.Conn, error) {
	dctx, cancel := context.WithTimeout(ctx, dialTimeout)
	defer cancel()
	ws, _, err := websocket.Dial(dctx, m.spec.URL, &websocket.DialOptions{HTTPClient: hc})
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", m.spec.URL, err)
	}
	ws.SetReadLimit(readLimit)
	if err := m.cfConnect(ctx, ws); err != nil {
		_ = ws.CloseNow()
		return nil, err
	}
	return ws, nil
}

func (m *member) cfConnect(ctx context.Context, ws *websocket.Conn) error {
	hctx, cancel := context.WithTimeout(ctx, welcomeTimeout)
	defer cancel()
	id := m.nextID()
	f, err := encodeCommand(cfCommand{ID: id, Connect: &cfConnect{Token: m.spec.Token, Name: "parley-bench"}})
	if err != nil {
		return err
	}
	if err := write(hctx, ws, f); err != nil {
		return fmt.Errorf("send connect: %w", err)
	}
	_, data, err := ws.Read(hctx)
	if err != nil {
		return fmt.Errorf("wait for connect reply: %w", err)
	}
	first, _ := nextReply(data)
	r, err := decodeReply(first)
	switch {
	case err != nil:
		return err
	case r.Error != nil:
		return fmt.Errorf("connect refused: %w", r.Error)
	case r.ID != id || r.Connect == nil:
		return fmt.Errorf("got %.200q before the connect reply", first)
	}
	return nil
}

// nextID numbers the member's commands; a publish's id is its cid.
func (m *member) nextID() uint32 { return m.cmdID.Add(1) }

// cfHandle acts on one reply from a Centrifugo node, at now; ping
// reports the node's ping, which the reader answers.
func (m *member) cfHandle(reply []byte, now int64) (ping bool) {
	if string(reply) == "{}" {
		return true
	}
	if channel, data, offset, ok := scanPush(reply); ok {
		m.delivered(channel, offset, data, now)
		return false
	}
	m.decoded.Add(1)
	r, err := decodeReply(reply)
	if err != nil {
		m.errs.Add(1)
		return
	}
	switch {
	case r.Push != nil:
		if r.Push.Pub != nil {
			m.cfDelivered(r.Push.Channel, *r.Push.Pub, now)
		}
	case r.Subscribe != nil:
		m.cfSubscribed(r.Subscribe, now)
	case r.Publish != nil:
		if m.answered(strconv.FormatUint(uint64(r.ID), 10)) {
			m.acked.Add(1)
		}
	case r.Error != nil:
		m.errs.Add(1)
		if m.answered(strconv.FormatUint(uint64(r.ID), 10)) {
			m.refused.Add(1)
		}
	}
	return false
}

// cfSubscribed takes the subscribe reply: a first subscription starts at
// the stream's top, as a Parley subscription from 0 starts at the head; a
// recovered one delivers what it missed.
func (m *member) cfSubscribed(s *cfSubscribeReply, now int64) {
	if m.epoch == "" || !s.Recovered {
		m.last = max(m.last, int64(s.Offset))
	}
	m.epoch = s.Epoch
	for _, p := range s.Publications {
		m.cfDelivered(m.spec.Room, p, now)
	}
	m.subOnce.Do(func() { close(m.subscribed) })
}

// cfDelivered counts a publication as delivered counts a Parley message:
// by its offset in the channel's stream.
func (m *member) cfDelivered(channel string, p cfPublication, now int64) {
	body, ok := stringData(p.Data)
	if !ok {
		m.errs.Add(1)
		return
	}
	m.delivered([]byte(channel), int64(p.Offset), body, now)
}
