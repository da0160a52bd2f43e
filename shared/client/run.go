package client

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/coder/websocket"

	"github.com/parleychat/parley/shared/protocol"
)

// Run connects and keeps the client connected until ctx ends or a node
// refuses the credentials. Each connection authenticates with the first
// frame, waits for welcome, renews every subscription from its last
// offset and resends the unacknowledged outbox in order; then it reads
// until the connection ends. Between connections Run waits with
// exponential backoff and full jitter (Backoff), restarted after a
// connection that lived StableAfter; after CloseGoingAway it waits a
// random delay within DrainJitter instead.
//
// Run returns ctx.Err() when ctx ends, a *CloseError when the node closed
// with a terminal code (errors.Is(err, ErrUnauthorized) for
// CloseUnauthorized, ErrSessionEnded for CloseSessionEnded or the
// session_ended error frame a node sends before it: in a browser that
// frame is all the client sees), or the Token error when it matches
// ErrUnauthorized.
// Every goroutine Run started has stopped when it returns. Only one Run may
// be active at a time.
func (c *Client) Run(ctx context.Context) error {
	if c.cfg.URL == "" || c.cfg.Token == nil {
		return errors.New("run client: Config.URL and Config.Token are required")
	}
	if !c.running.CompareAndSwap(false, true) {
		return fmt.Errorf("run client: %w", ErrAlreadyRunning)
	}
	defer c.running.Store(false)
	attempt := 0
	for {
		res := c.session(ctx)
		ev := Event{Kind: EventDisconnected, Err: res.err, Code: res.code}
		if ctx.Err() != nil {
			ev.Err = ctx.Err()
			c.emit(ev)
			return ctx.Err()
		}
		if terminal(res.err) {
			c.emit(ev)
			return fmt.Errorf("run client: %w", res.err)
		}
		if res.lived >= c.cfg.StableAfter {
			attempt = 0
		}
		ev.Retry = Backoff(attempt, c.cfg.MinBackoff, c.cfg.MaxBackoff)
		attempt++
		if res.code == protocol.CloseGoingAway {
			ev.Retry = jitter(c.cfg.DrainJitter)
		}
		c.cfg.Logger.Debug("disconnected", "err", res.err, "code", int(res.code), "retry", ev.Retry)
		// A RetryNow from before this event was meant for an earlier wait.
		select {
		case <-c.wake:
		default:
		}
		c.emit(ev)
		if err := c.wait(ctx, ev.Retry); err != nil {
			return err
		}
	}
}

// wait sleeps d, or less when RetryNow is called.
func (c *Client) wait(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	case <-c.wake:
		return nil
	}
}

// terminal reports whether err means: do not reconnect.
func terminal(err error) bool {
	var ce *CloseError
	return errors.As(err, &ce) || errors.Is(err, ErrUnauthorized)
}

// result is how one connection attempt ended. lived is how long it was
// authenticated (0 if it never was).
type result struct {
	err   error
	code  protocol.CloseCode
	lived time.Duration
}

// session runs one connection from dial to teardown.
func (c *Client) session(ctx context.Context) result {
	ws, welcome, rest, err := c.connect(ctx)
	if err != nil {
		return closeResult(err, 0)
	}
	start := time.Now()
	cn, subs := c.attach(ws, welcome)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		c.writeLoop(ctx, cn, subs)
	}()
	c.emit(Event{Kind: EventConnected, User: cn.user, Node: cn.node})
	c.handleMessage(cn, rest)

	err = c.readLoop(cn)
	close(cn.stop)
	wg.Wait()
	_ = ws.CloseNow()
	c.detach(cn)
	if ferr := cn.failure(); ferr != nil {
		err = ferr
	}
	return closeResult(err, time.Since(start))
}

// closeResult classifies how a connection ended: terminal close codes
// become a *CloseError.
func closeResult(err error, lived time.Duration) result {
	res := result{err: err, lived: lived}
	var te *CloseError
	if errors.As(err, &te) { // a session_ended frame said so already
		res.code, res.err = te.Code, te
		return res
	}
	var ce websocket.CloseError
	if !errors.As(err, &ce) {
		return res
	}
	res.code = protocol.CloseCode(ce.Code)
	if ce.Code >= 4000 && ce.Code <= 4999 && !res.code.Reconnect() {
		res.err = &CloseError{Code: res.code, Reason: ce.Reason}
	}
	return res
}

// connect dials, authenticates and waits for the welcome frame; it also
// returns what followed the welcome in its message.
func (c *Client) connect(ctx context.Context) (*websocket.Conn, protocol.Frame, []byte, error) {
	tok, err := c.cfg.Token(ctx)
	if err != nil {
		return nil, protocol.Frame{}, nil, fmt.Errorf("get token: %w", err)
	}
	dctx, cancel := context.WithTimeout(ctx, dialTimeout)
	defer cancel()
	ws, _, err := websocket.Dial(dctx, c.cfg.URL, c.dialOptions())
	if err != nil {
		return nil, protocol.Frame{}, nil, fmt.Errorf("dial: %w", err)
	}
	ws.SetReadLimit(readLimit)
	welcome, rest, err := c.handshake(ctx, ws, tok)
	if err != nil {
		_ = ws.CloseNow()
		return nil, protocol.Frame{}, nil, err
	}
	return ws, welcome, rest, nil
}

// features are the optional protocol features this client asks for.
// With protocol.FeatureEdits, EventMessage also carries edits and
// deletions, with protocol.FeatureReactions reaction events, with
// protocol.FeatureRoomEvents room events (Msg.Kind set).
var features = []string{protocol.FeatureBatch, protocol.FeaturePresenceDelta, protocol.FeatureEdits,
	protocol.FeatureRoomEvents, protocol.FeatureWatch, protocol.FeatureReactions}

// Features returns the optional protocol features this client asks for
// (a copy), so that another speaker of the protocol, such as the load
// generator's lean connections, can look the same to a node.
func Features() []string { return slices.Clone(features) }

// handshake sends the auth frame and reads until welcome. An error frame
// before it is kept, so a failure says why when the node then closes.
// Frames that came in the same message after the welcome are returned, to
// be handled once the connection is attached.
func (c *Client) handshake(ctx context.Context, ws *websocket.Conn, tok string) (protocol.Frame, []byte, error) {
	hctx, cancel := context.WithTimeout(ctx, welcomeTimeout)
	defer cancel()
	if err := ws.Write(hctx, websocket.MessageText, encode(protocol.Frame{Type: protocol.TypeAuth, Token: tok, Features: features})); err != nil {
		return protocol.Frame{}, nil, fmt.Errorf("send auth: %w", err)
	}
	var refused error
	for {
		_, data, err := ws.Read(hctx)
		if err != nil {
			if refused != nil {
				err = fmt.Errorf("%w (after %v)", err, refused)
			}
			return protocol.Frame{}, nil, fmt.Errorf("wait for welcome: %w", err)
		}
		for frame, rest := protocol.NextFrame(data); frame != nil; frame, rest = protocol.NextFrame(rest) {
			f, err := decodeNodeFrame(frame)
			if err == nil {
				err = protocol.ValidateServer(f)
			}
			switch {
			case err != nil:
				c.cfg.Logger.Warn("invalid frame before welcome", "err", err)
			case f.Type == protocol.TypeWelcome:
				return f, rest, nil
			case f.Type == protocol.TypeError && f.Code == protocol.ErrSessionEnded:
				return protocol.Frame{}, nil, sessionEnded(f)
			case f.Type == protocol.TypeError:
				refused = serverError(f)
			}
		}
	}
}

// attach makes cn the current connection and returns the subscribe frames
// that renew every room from its last offset. Doing both under one lock
// means a concurrent Subscribe is either in the list or queued on cn.
func (c *Client) attach(ws *websocket.Conn, welcome protocol.Frame) (*conn, [][]byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	cn := newConn(ws, c.gen, welcome, c.cfg.PingInterval, c.cfg.SendQueue)
	c.cur = cn
	c.user = cn.user
	subs := make([][]byte, 0, len(c.rooms))
	for name, rs := range c.rooms {
		rs.subscribing = true
		subs = append(subs, subscribeFrame(name, rs.last))
	}
	subs = append(subs, c.takeUnsentReads()...)
	if cn.watch {
		for name := range c.watched {
			subs = append(subs, encode(protocol.Frame{Type: protocol.TypeWatch, Room: name}))
		}
	}
	return cn, subs
}

// detach forgets cn: requests waiting on it fail, gap fetches in flight
// are dropped (the next subscribe replays them).
func (c *Client) detach(cn *conn) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cur == cn {
		c.cur = nil
	}
	for _, rs := range c.rooms {
		rs.disconnected()
	}
	clear(c.retrying)
	close(cn.done)
}

// readLoop reads frames until the connection ends.
func (c *Client) readLoop(cn *conn) error {
	rctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	for {
		cn.readStart.Store(time.Now().UnixNano())
		typ, data, err := cn.ws.Read(rctx)
		cn.readStart.Store(0)
		if err != nil {
			return fmt.Errorf("read frame: %w", err)
		}
		if typ != websocket.MessageText {
			c.cfg.Logger.Warn("ignoring binary frame")
			continue
		}
		c.handleMessage(cn, data)
	}
}

// handleMessage handles every frame of one WebSocket message: a node that
// confirmed protocol.FeatureBatch may send several, separated by
// newlines; others send one, which splitting leaves whole.
func (c *Client) handleMessage(cn *conn, data []byte) {
	for frame, rest := protocol.NextFrame(data); frame != nil; frame, rest = protocol.NextFrame(rest) {
		c.handle(cn, frame)
	}
}
