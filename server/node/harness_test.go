package node_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/parleychat/parley/server/auth"
	"github.com/parleychat/parley/server/node"
	"github.com/parleychat/parley/shared/client"
	"github.com/parleychat/parley/shared/protocol"
	"github.com/parleychat/parley/shared/testenv"
)

// testNode is a real node serving on a free loopback port.
type testNode struct {
	URL    string
	Keys   *auth.Keyring
	Node   *node.Node
	cancel context.CancelFunc
	done   chan error
	once   sync.Once
}

// startNode runs a single node (SQLite in a temp dir, in-process broker)
// with a known JWT key, so tests can forge and expire tokens, and waits
// until it is ready.
func startNode(t *testing.T, mutate ...func(*node.Config)) *testNode {
	t.Helper()
	tn := launchNode(t, mutate...)
	testenv.Eventually(t, waitTimeout, "node ready", tn.status("/readyz", http.StatusOK))
	return tn
}

// status is a check for Eventually: GET path answers code.
func (tn *testNode) status(path string, code int) func() error {
	return func() error {
		resp, err := http.Get(tn.URL + path)
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != code {
			return fmt.Errorf("GET %s: %d, want %d", path, resp.StatusCode, code)
		}
		return nil
	}
}

// launchNode is startNode without waiting for the node to be ready.
func launchNode(t *testing.T, mutate ...func(*node.Config)) *testNode {
	t.Helper()
	key, err := auth.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := node.ParseFlags("test", []string{"--data", t.TempDir(), "--drain-delay", "0", "--drain-timeout", "5s", "--jwt-keys", auth.FormatKey(key)}, func(string) string { return "" }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	cfg.PasswordParams = auth.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}
	for _, m := range mutate {
		m(&cfg)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cfg.Addr = ln.Addr().String()
	logLevel := slog.LevelWarn
	if os.Getenv("PARLEY_TEST_LOG") != "" {
		logLevel = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: logLevel}))
	ctx, cancel := context.WithCancel(context.Background())
	n, err := node.New(ctx, cfg, log)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	tn := &testNode{URL: "http://" + cfg.Addr, Node: n, cancel: cancel, done: make(chan error, 1)}
	tn.Keys, _ = auth.NewKeyring(key)
	go func() { tn.done <- n.Serve(ctx, ln) }()
	t.Cleanup(func() { tn.stop(t) })
	return tn
}

// stop drains the node and waits for Serve to return.
func (tn *testNode) stop(t *testing.T) {
	tn.once.Do(func() {
		tn.cancel()
		select {
		case err := <-tn.done:
			if err != nil {
				t.Errorf("node serve: %v", err)
			}
		case <-time.After(waitTimeout):
			t.Error("node did not stop within 20s")
		}
	})
}

func signup(t *testing.T, base, user string) protocol.Session {
	t.Helper()
	s, err := client.NewAPI(base, nil).Signup(context.Background(), protocol.Credentials{Username: user, Password: "correct horse battery"})
	if err != nil {
		t.Fatalf("signup %s: %v", user, err)
	}
	return s
}

// chatter is a shared/client.Client with everything it receives recorded.
type chatter struct {
	*client.Client
	mu     sync.Mutex
	msgs   map[string][]protocol.Message
	acks   map[string]int64
	users  map[string]*client.Presence
	typing map[string][]string
	events []client.Event
	runErr chan error
}

func newChatter(t *testing.T, base string, s protocol.Session) *chatter {
	t.Helper()
	wsURL, err := client.WebSocketURL(base)
	if err != nil {
		t.Fatal(err)
	}
	ch := &chatter{msgs: map[string][]protocol.Message{}, acks: map[string]int64{}, users: map[string]*client.Presence{}, typing: map[string][]string{}, runErr: make(chan error, 1)}
	ch.Client = client.New(client.Config{
		URL:        wsURL,
		Origin:     base,
		Token:      func(context.Context) (string, error) { return s.AccessToken, nil },
		MinBackoff: 20 * time.Millisecond,
		MaxBackoff: 200 * time.Millisecond,
		OnEvent:    ch.record,
	})
	ctx, cancel := context.WithCancel(context.Background())
	go func() { ch.runErr <- ch.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-ch.runErr:
		case <-time.After(waitTimeout):
			t.Error("client Run did not return")
		}
	})
	return ch
}

func (ch *chatter) record(ev client.Event) {
	ch.mu.Lock()
	defer ch.mu.Unlock()
	ch.events = append(ch.events, ev)
	switch ev.Kind {
	case client.EventMessage:
		ch.msgs[ev.Room] = append(ch.msgs[ev.Room], *ev.Msg)
	case client.EventAck:
		ch.acks[ev.CID] = ev.Offset
	case client.EventPresence:
		if ch.users[ev.Room] == nil {
			ch.users[ev.Room] = new(client.Presence)
		}
		ch.users[ev.Room].Apply(ev)
	case client.EventTyping:
		ch.typing[ev.Room] = append(ch.typing[ev.Room], ev.User)
	}
}

func (ch *chatter) bodies(room string) []string {
	ch.mu.Lock()
	defer ch.mu.Unlock()
	var out []string
	for _, m := range ch.msgs[room] {
		out = append(out, m.Author+": "+m.Body)
	}
	return out
}

func (ch *chatter) presence(room string) string {
	ch.mu.Lock()
	defer ch.mu.Unlock()
	if p := ch.users[room]; p != nil {
		return strings.Join(p.Users(), ",")
	}
	return ""
}

// twoInGeneral signs up alice and bob and subscribes both to general,
// waiting until the node has confirmed both subscriptions.
func twoInGeneral(t *testing.T, n *testNode) (alice, bob *chatter) {
	t.Helper()
	alice = newChatter(t, n.URL, signup(t, n.URL, "alice"))
	bob = newChatter(t, n.URL, signup(t, n.URL, "bob"))
	for _, c := range []*chatter{alice, bob} {
		c.subscribe(t, protocol.DefaultRoom)
	}
	return alice, bob
}

// subscribe subscribes to room (live, since 0) and waits until the node
// confirmed it: Client.Subscribe only queues the request, and a message
// sent before the node handles it is not delivered live.
func (ch *chatter) subscribe(t *testing.T, room string) {
	t.Helper()
	if err := ch.Subscribe(room, 0); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, waitTimeout, "subscribed to "+room, func() error {
		ch.mu.Lock()
		defer ch.mu.Unlock()
		for _, ev := range ch.events {
			if ev.Kind == client.EventSubscribed && ev.Room == room {
				return nil
			}
		}
		return fmt.Errorf("no subscribed event for %s", room)
	})
}

// rawConn is a bare WebSocket speaking protocol frames, for bad input.
type rawConn struct {
	*websocket.Conn
	t *testing.T
}

func dialRaw(t *testing.T, base string, origin string) *rawConn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	h := http.Header{}
	h.Set("Origin", origin)
	c, resp, err := websocket.Dial(ctx, strings.Replace(base, "http", "ws", 1)+protocol.PathWS, &websocket.DialOptions{HTTPHeader: h})
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	if resp.Body != nil {
		resp.Body.Close()
	}
	c.SetReadLimit(1 << 20)
	t.Cleanup(func() { c.CloseNow() })
	return &rawConn{Conn: c, t: t}
}

func (c *rawConn) send(f protocol.Frame) {
	c.t.Helper()
	b, err := protocol.Encode(f)
	if err != nil {
		c.t.Fatal(err)
	}
	c.sendRaw(b)
}

func (c *rawConn) sendRaw(b []byte) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	if err := c.Write(ctx, websocket.MessageText, b); err != nil {
		c.t.Fatalf("write: %v", err)
	}
}

// next reads the next frame, skipping presence and typing noise.
func (c *rawConn) next() protocol.Frame {
	c.t.Helper()
	for {
		f, err := c.read(waitTimeout)
		if err != nil {
			c.t.Fatalf("read: %v", err)
		}
		if f.Type != protocol.TypePresence && f.Type != protocol.TypeTyping {
			return f
		}
	}
}

func (c *rawConn) read(d time.Duration) (protocol.Frame, error) {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	_, b, err := c.Read(ctx)
	if err != nil {
		return protocol.Frame{}, err
	}
	var f protocol.Frame
	if err := json.Unmarshal(b, &f); err != nil {
		return f, err
	}
	return f, nil
}

// closeCode reads until the connection ends and returns its close code.
func (c *rawConn) closeCode(d time.Duration) websocket.StatusCode {
	c.t.Helper()
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		_, err := c.read(time.Until(deadline))
		if err != nil {
			var ce websocket.CloseError
			if errors.As(err, &ce) {
				return ce.Code
			}
			return -1
		}
	}
	c.t.Fatal("connection still open")
	return 0
}

// expectClose fails the test unless the connection ends with code (within
// waitTimeout, a bound against hangs).
func (c *rawConn) expectClose(code websocket.StatusCode) {
	c.t.Helper()
	if got := c.closeCode(waitTimeout); got != code {
		c.t.Fatalf("close code = %d, want %d", got, code)
	}
}

func (c *rawConn) auth(token string) protocol.Frame {
	c.t.Helper()
	c.send(protocol.Frame{Type: protocol.TypeAuth, Token: token})
	return c.next()
}
