package loadgen

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/coder/websocket"

	"github.com/parleychat/parley/shared/client"
	"github.com/parleychat/parley/shared/protocol"
)

// Bounds of one connection's steps, as shared/client has them.
const (
	dialTimeout    = 15 * time.Second
	welcomeTimeout = 2 * protocol.AuthTimeout
	writeTimeout   = 10 * time.Second
	readLimit      = 8 << 20
)

// run keeps m connected and subscribed until ctx ends, reconnecting with
// backoff (100 ms doubling to 5 s) and subscribing from the last offset
// it saw, so the node replays what it missed (at most
// protocol.MaxBacklog; it does not page back with history: a member
// that far behind reports the rest as lost).
func (m *member) run(ctx context.Context, hc *http.Client) {
	backoff := 100 * time.Millisecond
	session := m.session
	if m.centrifugo() {
		session = m.cfSession
	}
	for ctx.Err() == nil {
		welcomed, err := session(ctx, hc)
		if ctx.Err() != nil {
			return
		}
		if welcomed {
			m.reconnects.Add(1)
			backoff = 100 * time.Millisecond
		} else if err != nil {
			m.errs.Add(1)
		}
		sleep(ctx, backoff)
		backoff = min(2*backoff, 5*time.Second)
	}
}

// session is one connection: dial, auth, subscribe, then read until it
// ends. Its pinger is stopped and waited for before it returns.
func (m *member) session(ctx context.Context, hc *http.Client) (welcomed bool, err error) {
	ws, welcome, err := m.dial(ctx, hc)
	if err != nil {
		return false, err
	}
	sctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer func() {
		cancel()
		wg.Wait()
		if ctx.Err() != nil {
			_ = ws.Close(websocket.StatusNormalClosure, "bench over")
		} else {
			_ = ws.CloseNow()
		}
	}()
	sub, err := protocol.Encode(protocol.Frame{Type: protocol.TypeSubscribe, Room: m.spec.Room, Since: m.last})
	if err != nil {
		return true, err
	}
	if err := write(sctx, ws, sub); err != nil {
		return true, err
	}
	m.attach(sctx, ws)
	defer m.attach(sctx, nil)
	every := max(time.Duration(welcome.Heartbeat)*time.Millisecond, time.Second)
	wg.Add(1)
	go func() {
		defer wg.Done()
		ping(sctx, ws, every)
	}()
	return true, m.read(sctx, ws)
}

// dial connects from the member's source address, sends auth asking for
// the features shared/client asks for (so the node treats it as it would
// the app) and waits for welcome.
func (m *member) dial(ctx context.Context, hc *http.Client) (*websocket.Conn, protocol.Frame, error) {
	dctx, cancel := context.WithTimeout(ctx, dialTimeout)
	defer cancel()
	origin := strings.Replace(strings.TrimSuffix(m.spec.URL, "/ws"), "ws://", "http://", 1)
	ws, _, err := websocket.Dial(dctx, m.spec.URL, &websocket.DialOptions{HTTPClient: hc, HTTPHeader: http.Header{"Origin": {origin}}})
	if err != nil {
		return nil, protocol.Frame{}, fmt.Errorf("dial %s: %w", m.spec.URL, err)
	}
	ws.SetReadLimit(readLimit)
	welcome, err := handshake(ctx, ws, m.spec.Token)
	if err != nil {
		_ = ws.CloseNow()
		return nil, protocol.Frame{}, err
	}
	return ws, welcome, nil
}

func handshake(ctx context.Context, ws *websocket.Conn, token string) (protocol.Frame, error) {
	hctx, cancel := context.WithTimeout(ctx, welcomeTimeout)
	defer cancel()
	auth, err := protocol.Encode(protocol.Frame{Type: protocol.TypeAuth, Token: token, Features: client.Features()})
	if err != nil {
		return protocol.Frame{}, err
	}
	if err := write(hctx, ws, auth); err != nil {
		return protocol.Frame{}, fmt.Errorf("send auth: %w", err)
	}
	_, data, err := ws.Read(hctx)
	if err != nil {
		return protocol.Frame{}, fmt.Errorf("wait for welcome: %w", err)
	}
	// The welcome is the first frame a node sends; its subscription
	// has not been asked for yet, so nothing of the room follows it.
	frame, _ := protocol.NextFrame(data)
	f, err := protocol.Decode(frame)
	switch {
	case err != nil:
		return protocol.Frame{}, fmt.Errorf("decode welcome: %w", err)
	case f.Type == protocol.TypeError:
		return protocol.Frame{}, fmt.Errorf("auth refused: %s: %s", f.Code, f.Message)
	case f.Type != protocol.TypeWelcome:
		return protocol.Frame{}, fmt.Errorf("got %q before welcome", f.Type)
	}
	return f, nil
}

// attach makes ws the connection sends go to (nil: none) and resends
// every unanswered send on it: the node keys a message by author and cid,
// so one that was stored already is acknowledged, not stored again. A
// Centrifugo publish has no such key, so a Centrifugo member drops its
// unanswered publishes instead (they are not acknowledged, so nobody
// expects them).
func (m *member) attach(ctx context.Context, ws *websocket.Conn) {
	m.mu.Lock()
	m.ws = ws
	resend := make([][]byte, 0, len(m.pending))
	for _, o := range m.pending {
		resend = append(resend, o.frame)
	}
	if m.centrifugo() {
		resend, m.pending = nil, nil
	}
	m.mu.Unlock()
	if ws == nil {
		return
	}
	for _, f := range resend {
		if write(ctx, ws, f) != nil {
			return // the reader sees the connection end
		}
	}
}

// send writes a send frame for body and keeps it until it is answered.
// A Centrifugo member publishes instead, its command id for the cid.
func (m *member) send(ctx context.Context, cid, body string) error {
	var f []byte
	var err error
	if m.centrifugo() {
		id := m.nextID()
		cid = strconv.FormatUint(uint64(id), 10)
		f, err = publishCommand(id, m.spec.Room, body)
	} else {
		f, err = protocol.Encode(protocol.Frame{Type: protocol.TypeSend, Room: m.spec.Room, CID: cid, Body: body})
	}
	if err != nil {
		return err
	}
	m.mu.Lock()
	m.pending = append(m.pending, outgoing{cid: cid, frame: f})
	ws := m.ws
	m.mu.Unlock()
	if ws != nil {
		// A failed write ends the connection; the next one resends.
		_ = write(ctx, ws, f)
	}
	return nil
}

// read reads messages until the connection ends, splits each into its
// frames and hands them to handle, reusing one buffer.
func (m *member) read(ctx context.Context, ws *websocket.Conn) error {
	for {
		typ, r, err := ws.Reader(ctx)
		if err != nil {
			return fmt.Errorf("read message: %w", err)
		}
		if m.buf, err = readAll(r, m.buf[:0]); err != nil {
			return fmt.Errorf("read message: %w", err)
		}
		if typ != websocket.MessageText {
			m.errs.Add(1)
			continue
		}
		now := time.Now().UnixNano()
		m.messages++
		if m.centrifugo() {
			for reply, rest := nextReply(m.buf); reply != nil; reply, rest = nextReply(rest) {
				m.frames++
				if m.cfHandle(reply, now) {
					// A failed pong ends the connection; the reader sees it.
					_ = write(ctx, ws, cfPong)
				}
			}
			continue
		}
		for frame, rest := protocol.NextFrame(m.buf); frame != nil; frame, rest = protocol.NextFrame(rest) {
			m.frames++
			m.handle(frame, now)
		}
	}
}

// readAll appends what r holds to buf, growing it only when full.
func readAll(r io.Reader, buf []byte) ([]byte, error) {
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if errors.Is(err, io.EOF) {
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
	}
}

// ping sends a ping frame every interval until ctx ends: the node closes
// a connection it has not heard from for a while.
func ping(ctx context.Context, ws *websocket.Conn, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		f, _ := protocol.Encode(protocol.Frame{Type: protocol.TypePing, ID: "p"})
		if write(ctx, ws, f) != nil {
			return
		}
	}
}

func write(ctx context.Context, ws *websocket.Conn, frame []byte) error {
	ctx, cancel := context.WithTimeout(ctx, writeTimeout)
	defer cancel()
	if err := ws.Write(ctx, websocket.MessageText, frame); err != nil {
		return fmt.Errorf("write frame: %w", err)
	}
	return nil
}
