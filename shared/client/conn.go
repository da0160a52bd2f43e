package client

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"

	"github.com/parleychat/parley/shared/protocol"
)

// minPing is the shortest ping interval, whatever the config or the node
// says.
const minPing = 5 * time.Millisecond

// conn is one authenticated connection. Its reader is the Run goroutine;
// its writer goroutine is the only one that writes to ws.
type conn struct {
	ws   *websocket.Conn
	gen  uint64
	user string
	node string
	ping time.Duration
	// watch: the node confirmed protocol.FeatureWatch.
	watch bool

	out    chan []byte   // bounded send queue, drained by the writer
	kick   chan struct{} // outbox has something new
	reauth chan struct{} // the node asked for a fresh token
	stop   chan struct{} // closed when the reader has returned
	done   chan struct{} // closed after the connection is torn down

	// readStart is when the reader began waiting for a frame (Unix nanos),
	// 0 while it handles one; the writer uses it to detect a dead peer.
	readStart atomic.Int64

	failMu  sync.Mutex // guards failErr; a leaf lock, taken under Client.mu
	failErr error

	// pending maps request ids to waiters and flow paces the outbox.
	// Guarded by Client.mu.
	pending map[string]*request
	flow    flow
}

// request waits for the answer to a history request: reply for History
// callers, room for gap fetches.
type request struct {
	reply chan protocol.Frame
	room  string
}

func newConn(ws *websocket.Conn, gen uint64, welcome protocol.Frame, ping time.Duration, queue int) *conn {
	if hb := time.Duration(welcome.Heartbeat) * time.Millisecond; hb > 0 && hb < ping {
		ping = hb
	}
	ping = max(ping, minPing)
	return &conn{
		ws:      ws,
		gen:     gen,
		user:    welcome.User,
		node:    welcome.Node,
		watch:   protocol.HasFeature(welcome.Features, protocol.FeatureWatch),
		ping:    ping,
		out:     make(chan []byte, queue),
		kick:    make(chan struct{}, 1),
		reauth:  make(chan struct{}, 1),
		stop:    make(chan struct{}),
		done:    make(chan struct{}),
		pending: make(map[string]*request),
	}
}

// enqueue queues a frame for the writer without blocking. When the queue is
// full a droppable frame is dropped; any other frame fails the connection,
// which reconnects and renews everything from the client's state.
func (cn *conn) enqueue(frame []byte, droppable bool) bool {
	select {
	case cn.out <- frame:
		return true
	default:
	}
	if !droppable {
		cn.fail(ErrSendQueueFull)
	}
	return false
}

// signal wakes the writer through ch without blocking.
func (cn *conn) signal(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}

// fail records why the connection must end (the first reason wins) and
// closes it, which ends the reader.
func (cn *conn) fail(err error) {
	cn.failMu.Lock()
	if cn.failErr == nil {
		cn.failErr = err
	}
	cn.failMu.Unlock()
	if cn.ws != nil {
		_ = cn.ws.CloseNow()
	}
}

func (cn *conn) failure() error {
	cn.failMu.Lock()
	defer cn.failMu.Unlock()
	return cn.failErr
}

func (cn *conn) write(ctx context.Context, frame []byte) error {
	ctx, cancel := context.WithTimeout(ctx, writeTimeout)
	defer cancel()
	if err := cn.ws.Write(ctx, websocket.MessageText, frame); err != nil {
		return fmt.Errorf("write frame: %w", err)
	}
	return nil
}

// heartbeat is the writer's record of the pings it sent while the reader
// waited: the first ping of the reader's current wait (identified by its
// readStart) is the question a live peer answers with a frame.
type heartbeat struct {
	wait     int64     // the readStart the ping was sent in; 0: none yet
	pingedAt time.Time // when that ping was written
}

// pinged records a ping written at at while the reader's wait was start
// (0: the reader was handling a frame, so the ping asks nothing new).
func (hb *heartbeat) pinged(start int64, at time.Time) {
	if start != 0 && start != hb.wait {
		hb.wait, hb.pingedAt = start, at
	}
}

// dead reports whether the peer is dead: the reader has waited longer than
// 2.5 ping intervals for a frame, and a ping sent during that wait has
// gone unanswered for longer than 1.5 intervals. The second half matters
// when the writer ran late (a starved machine, a throttled browser tab):
// a long silence that no ping asked to end says nothing about the peer.
func (cn *conn) dead(now time.Time, hb *heartbeat) bool {
	start := cn.readStart.Load()
	return start != 0 && start == hb.wait &&
		now.Sub(time.Unix(0, start)) > 2*cn.ping+cn.ping/2 &&
		now.Sub(hb.pingedAt) > cn.ping+cn.ping/2
}

// writeLoop owns every write on cn: first the subscriptions, then queued
// frames before outbox messages, retries of refused subscribes and gap
// fetches when they are due, pings every ping interval and token frames on
// reauth. When ctx ends it closes the connection cleanly; when
// the reader stops it returns.
func (c *Client) writeLoop(ctx context.Context, cn *conn, subs [][]byte) {
	err := c.writeFrames(ctx, cn, subs)
	switch {
	case err == nil:
	case ctx.Err() != nil:
		_ = cn.ws.Close(websocket.StatusNormalClosure, "client closing")
	default:
		cn.fail(err)
	}
}

func (c *Client) writeFrames(ctx context.Context, cn *conn, subs [][]byte) error {
	for _, f := range subs {
		if err := cn.write(ctx, f); err != nil {
			return err
		}
	}
	tick := time.NewTicker(cn.ping / 2)
	defer tick.Stop()
	var retry <-chan time.Time
	// rooms fires when a refused subscribe or gap fetch is due again.
	rooms := time.NewTimer(time.Hour)
	rooms.Stop()
	defer rooms.Stop()
	ticks, pings := 0, 0
	var hb heartbeat
	for {
		select {
		case f := <-cn.out:
			if err := cn.write(ctx, f); err != nil {
				return err
			}
			continue
		default:
		}
		f, wait := c.nextOutgoing(cn)
		if f != nil {
			if err := cn.write(ctx, f); err != nil {
				return err
			}
			continue
		}
		if wait > 0 && retry == nil {
			retry = time.After(wait)
		}
		if d := c.dueRooms(cn, time.Now()); d > 0 {
			rooms.Reset(d)
		} else {
			rooms.Stop()
		}
		if len(cn.out) > 0 {
			continue // dueRooms queued retries
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-cn.stop:
			return nil
		case f := <-cn.out:
			if err := cn.write(ctx, f); err != nil {
				return err
			}
		case <-cn.kick:
		case <-rooms.C:
		case <-retry:
			retry = nil
		case <-cn.reauth:
			if err := c.sendToken(ctx, cn); err != nil {
				return err
			}
		case now := <-tick.C:
			if cn.dead(now, &hb) {
				return ErrHeartbeatTimeout
			}
			if ticks++; ticks%2 == 0 {
				pings++
				ping := encode(protocol.Frame{Type: protocol.TypePing, ID: "p" + strconv.Itoa(pings)})
				start, at := cn.readStart.Load(), time.Now()
				if err := cn.write(ctx, ping); err != nil {
					return err
				}
				hb.pinged(start, at)
			}
		}
	}
}

// sendToken answers a reauth frame. A token that cannot be had is logged:
// the node then closes with CloseTokenExpired and Run reconnects.
func (c *Client) sendToken(ctx context.Context, cn *conn) error {
	tok, err := c.cfg.Token(ctx)
	if err != nil {
		if errors.Is(err, ErrUnauthorized) {
			return fmt.Errorf("refresh token: %w", err)
		}
		c.cfg.Logger.Warn("refresh token for reauth", "err", err)
		return nil
	}
	return cn.write(ctx, encode(protocol.Frame{Type: protocol.TypeToken, Token: tok}))
}
