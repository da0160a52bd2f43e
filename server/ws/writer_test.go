package ws

// The tests in this file run real connections: a coder/websocket client
// dials the Server through an http.Server over net.Pipe, and the Server's
// own reader and writer goroutines serve it. Each runs inside a
// testing/synctest bubble, so the writer's timers run on the bubble's fake
// clock, which jumps to the next timer whenever every goroutine in the
// bubble is waiting: deadlines minutes away pass at once, and when a frame
// or close arrives is exact. A time.Sleep in a bubble advances that clock;
// it takes no real time.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/coder/websocket"
	"github.com/parleychat/parley/shared/protocol"
)

// verifyTestToken accepts tokens "user ttl" (e.g. "alice 2m"), which are
// for user and expire ttl after they are verified.
func verifyTestToken(_ context.Context, token string) (Identity, error) {
	user, ttl, ok := strings.Cut(token, " ")
	d, err := time.ParseDuration(ttl)
	if !ok || user == "" || err != nil {
		return Identity{}, fmt.Errorf("verify token %q: want \"user ttl\"", token)
	}
	return Identity{User: user, Session: "sid-" + user, Expires: time.Now().Add(d)}, nil
}

// pipeListener is an in-memory net.Listener: dial hands one end of a
// net.Pipe to Accept.
type pipeListener struct {
	conns chan net.Conn
	done  chan struct{}
	once  sync.Once
}

func newPipeListener() *pipeListener {
	return &pipeListener{conns: make(chan net.Conn), done: make(chan struct{})}
}

func (l *pipeListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

func (l *pipeListener) Close() error {
	l.once.Do(func() { close(l.done) })
	return nil
}

func (l *pipeListener) Addr() net.Addr { return pipeAddr{} }

func (l *pipeListener) dial(ctx context.Context, _, _ string) (net.Conn, error) {
	client, server := net.Pipe()
	select {
	case l.conns <- server:
		return client, nil
	case <-l.done:
		return nil, fmt.Errorf("dial pipe: %w", net.ErrClosed)
	case <-ctx.Done():
		return nil, fmt.Errorf("dial pipe: %w", ctx.Err())
	}
}

type pipeAddr struct{}

func (pipeAddr) Network() string { return "pipe" }
func (pipeAddr) String() string  { return "pipe" }

// pipeServer is a Server behind an http.Server on a pipeListener.
type pipeServer struct {
	*Server
	http *http.Client
}

// startPipeServer starts cfg's Server (tokens checked by verifyTestToken
// unless cfg says otherwise) in the calling bubble. Cleanup drains it and
// stops the http.Server; it runs before the bubble ends, after the
// cleanups of the connections dialled later.
func startPipeServer(t *testing.T, cfg Config) *pipeServer {
	t.Helper()
	if cfg.Verify == nil {
		cfg.Verify = verifyTestToken
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	s := New(cfg)
	l := newPipeListener()
	hs := &http.Server{Handler: s}
	served := make(chan error, 1)
	go func() { served <- hs.Serve(l) }()
	tr := &http.Transport{DialContext: l.dial}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := s.Drain(ctx); err != nil {
			t.Errorf("drain: %v", err)
		}
		if err := hs.Close(); err != nil {
			t.Errorf("close http server: %v", err)
		}
		if err := <-served; !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("serve: %v", err)
		}
		tr.CloseIdleConnections()
	})
	return &pipeServer{Server: s, http: &http.Client{Transport: tr}}
}

// only returns the Server's one connection.
func (p *pipeServer) only(t *testing.T) *conn {
	t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	for c := range p.conns {
		if len(p.conns) == 1 {
			return c
		}
	}
	t.Fatalf("server has %d connections, want 1", len(p.conns))
	return nil
}

// testClient is the client end of one connection.
type testClient struct {
	ws *websocket.Conn
	t  *testing.T
}

func (p *pipeServer) dial(t *testing.T) *testClient {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c, _, err := websocket.Dial(ctx, "ws://parley.test"+protocol.PathWS, &websocket.DialOptions{HTTPClient: p.http})
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { _ = c.CloseNow() })
	return &testClient{ws: c, t: t}
}

func (c *testClient) send(f protocol.Frame) {
	c.t.Helper()
	b, err := protocol.Encode(f)
	if err != nil {
		c.t.Fatal(err)
	}
	if err := c.ws.Write(context.Background(), websocket.MessageText, b); err != nil {
		c.t.Fatalf("write %s frame: %v", f.Type, err)
	}
}

// read returns the next frame, or the error that ended the connection.
func (c *testClient) read() (protocol.Frame, error) {
	var f protocol.Frame
	_, b, err := c.ws.Read(context.Background())
	if err != nil {
		return f, fmt.Errorf("read frame: %w", err)
	}
	if err := json.Unmarshal(b, &f); err != nil {
		return f, fmt.Errorf("decode frame %q: %w", b, err)
	}
	return f, nil
}

// expect reads the next frame and checks its type and when it came.
func (c *testClient) expect(typ string, at time.Time) protocol.Frame {
	c.t.Helper()
	f, err := c.read()
	if err != nil {
		c.t.Fatalf("want a %s frame: %v", typ, err)
	}
	if f.Type != typ {
		c.t.Fatalf("got %+v, want a %s frame", f, typ)
	}
	if now := time.Now(); !now.Equal(at) {
		c.t.Fatalf("%s frame came at %v, want %v", typ, now, at)
	}
	return f
}

// expectClose reads the server's close and checks its code and when it
// came.
func (c *testClient) expectClose(code protocol.CloseCode, at time.Time) {
	c.t.Helper()
	f, err := c.read()
	if err == nil {
		c.t.Fatalf("got %+v, want close %d", f, code)
	}
	if got := websocket.CloseStatus(err); got != websocket.StatusCode(code) {
		c.t.Fatalf("connection ended with %v (code %d), want close %d", err, got, code)
	}
	if now := time.Now(); !now.Equal(at) {
		c.t.Fatalf("close %d came at %v, want %v", code, now, at)
	}
}

func TestConnAuthTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		c := startPipeServer(t, Config{}).dial(t)
		c.expectClose(protocol.CloseAuthTimeout, start.Add(protocol.AuthTimeout))
	})
}

// TestConnIdleTimeout: the idle timeout runs from the auth frame, and any
// frame starts it again.
func TestConnIdleTimeout(t *testing.T) {
	t.Run("silent after auth", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			c := startPipeServer(t, Config{}).dial(t)
			time.Sleep(protocol.AuthTimeout / 2)
			authAt := time.Now()
			c.send(protocol.Frame{Type: protocol.TypeAuth, Token: "alice 24h"})
			c.expect(protocol.TypeWelcome, authAt)
			c.expectClose(protocol.CloseIdle, authAt.Add(protocol.IdleTimeout))
		})
	})
	t.Run("ping half way", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			start := time.Now()
			c := startPipeServer(t, Config{}).dial(t)
			c.send(protocol.Frame{Type: protocol.TypeAuth, Token: "alice 24h"})
			c.expect(protocol.TypeWelcome, start)
			time.Sleep(protocol.IdleTimeout / 2)
			c.send(protocol.Frame{Type: protocol.TypePing, ID: "p"})
			if f := c.expect(protocol.TypePong, start.Add(protocol.IdleTimeout/2)); f.ID != "p" {
				t.Fatalf("pong = %+v, want id p", f)
			}
			c.expectClose(protocol.CloseIdle, start.Add(protocol.IdleTimeout/2+protocol.IdleTimeout))
		})
	})
}

// TestConnReauthThenExpiry: the node asks for a new token ReauthBefore the
// token expires and closes when it does.
func TestConnReauthThenExpiry(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		s := startPipeServer(t, Config{IdleTimeout: 24 * time.Hour, ReauthBefore: time.Minute})
		c := s.dial(t)
		c.send(protocol.Frame{Type: protocol.TypeAuth, Token: "alice 3m"})
		c.expect(protocol.TypeWelcome, start)
		c.expect(protocol.TypeReauth, start.Add(2*time.Minute))
		c.expectClose(protocol.CloseTokenExpired, start.Add(3*time.Minute))
	})
}

// TestConnReauthRightAfterAuth: a token that is already within
// ReauthBefore of its expiry gets a reauth frame right after the welcome,
// not when the auth timer would have fired.
func TestConnReauthRightAfterAuth(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		c := startPipeServer(t, Config{ReauthBefore: time.Minute}).dial(t)
		c.send(protocol.Frame{Type: protocol.TypeAuth, Token: "alice 30s"})
		c.expect(protocol.TypeWelcome, start)
		c.expect(protocol.TypeReauth, start.Add(10*time.Millisecond)) // nextDeadline's shortest wait
		c.expectClose(protocol.CloseTokenExpired, start.Add(30*time.Second))
	})
}

// TestConnTokenRefreshOutlivesFirstExpiry: a token frame answering reauth
// moves the expiry, and the next reauth, to the new token's at once; a
// token for another user is refused and moves nothing.
func TestConnTokenRefreshOutlivesFirstExpiry(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		s := startPipeServer(t, Config{IdleTimeout: 24 * time.Hour, ReauthBefore: time.Minute})
		c := s.dial(t)
		c.send(protocol.Frame{Type: protocol.TypeAuth, Token: "alice 3m"})
		c.expect(protocol.TypeWelcome, start)
		c.expect(protocol.TypeReauth, start.Add(2*time.Minute))

		c.send(protocol.Frame{Type: protocol.TypeToken, Token: "mallory 10h"})
		if f := c.expect(protocol.TypeError, start.Add(2*time.Minute)); f.Code != protocol.ErrUnauthorized {
			t.Fatalf("another user's token: %+v, want %s", f, protocol.ErrUnauthorized)
		}
		// Expires at start+3m30s: its reauth is due before the writer's
		// timer (set for the first expiry at start+3m) fires.
		c.send(protocol.Frame{Type: protocol.TypeToken, Token: "alice 90s"})
		c.expect(protocol.TypeReauth, start.Add(2*time.Minute+30*time.Second))
		// Expires at start+1h2m30s: no close at start+3m or 3m30s.
		c.send(protocol.Frame{Type: protocol.TypeToken, Token: "alice 1h"})
		c.expect(protocol.TypeReauth, start.Add(time.Hour+time.Minute+30*time.Second))
		c.expectClose(protocol.CloseTokenExpired, start.Add(time.Hour+2*time.Minute+30*time.Second))
	})
}

// TestConnSlowConsumerClosed: while the writer is stuck on a client that
// does not read, messages fill the queue, a typing frame is dropped, and
// the next message closes the connection with CloseSlowConsumer once the
// writer gets to it; nothing that was queued arrives out of order.
func TestConnSlowConsumerClosed(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const queued = 4
		s := startPipeServer(t, Config{QueueFrames: queued})
		c := s.dial(t)
		c.send(protocol.Frame{Type: protocol.TypeAuth, Token: "alice 24h"})
		c.expect(protocol.TypeWelcome, time.Now())
		sc := s.only(t)
		msg := func(i int) []byte {
			b, err := protocol.Encode(protocol.Frame{Type: protocol.TypePong, ID: fmt.Sprint("m", i)})
			if err != nil {
				t.Fatal(err)
			}
			return b
		}
		if !sc.Send(msg(0), false) {
			t.Fatal("Send refused the first message")
		}
		synctest.Wait() // the writer holds m0, blocked on the pipe
		for i := 1; i <= queued; i++ {
			if !sc.Send(msg(i), false) {
				t.Fatalf("Send refused m%d with the queue not full", i)
			}
		}
		if sc.Send([]byte(`{"v":1,"type":"typing","room":"r","user":"bob"}`), true) {
			t.Fatal("Send queued a typing frame into a full queue")
		}
		if sc.Send(msg(queued+1), false) {
			t.Fatal("Send queued a message into a full queue")
		}
		for i := 0; ; i++ {
			f, err := c.read()
			if err != nil {
				if got := websocket.CloseStatus(err); got != websocket.StatusCode(protocol.CloseSlowConsumer) || i == 0 {
					t.Fatalf("after %d messages: %v (code %d), want close %d after m0", i, err, got, protocol.CloseSlowConsumer)
				}
				return
			}
			if want := fmt.Sprint("m", i); f.ID != want || i > queued {
				t.Fatalf("frame %d = %+v, want %s", i, f, want)
			}
		}
	})
}

// dialAuthed starts a pipe server with the default Config and returns a
// client authenticated as alice (welcomed) and the server's side of it.
func dialAuthed(t *testing.T) (*testClient, *conn) {
	t.Helper()
	p := startPipeServer(t, Config{})
	c := p.dial(t)
	c.send(protocol.Frame{Type: protocol.TypeAuth, Token: "alice 24h"})
	c.expect(protocol.TypeWelcome, time.Now())
	return c, p.only(t)
}
