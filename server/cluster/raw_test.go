package cluster_test

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/coder/websocket"

	"github.com/parleychat/parley/shared/protocol"
)

// rawClient speaks the protocol directly over a coder/websocket
// connection, with none of the Go client's recovery: what it reads is
// exactly what the node sent. It is also light enough for the benchmark's
// thousand connections.
type rawClient struct {
	ws   *websocket.Conn
	user string
	node string
}

// dialRaw connects to wsURL, authenticates with token and waits for the
// welcome frame.
func dialRaw(ctx context.Context, wsURL, token string, hc *http.Client) (*rawClient, error) {
	return dialRawWith(ctx, wsURL, token, hc, nil)
}

// dialRawWith is dialRaw asking for the protocol features given.
func dialRawWith(ctx context.Context, wsURL, token string, hc *http.Client, features []string) (*rawClient, error) {
	ws, _, err := websocket.Dial(ctx, wsURL, &websocket.DialOptions{HTTPClient: hc})
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", wsURL, err)
	}
	ws.SetReadLimit(8 << 20)
	r := &rawClient{ws: ws}
	if err := r.write(ctx, protocol.Frame{Type: protocol.TypeAuth, Token: token, Features: features}); err != nil {
		_ = ws.CloseNow()
		return nil, err
	}
	for {
		f, err := r.read(ctx)
		if err != nil {
			_ = ws.CloseNow()
			return nil, fmt.Errorf("wait for welcome: %w", err)
		}
		switch f.Type {
		case protocol.TypeWelcome:
			r.user, r.node = f.User, f.Node
			return r, nil
		case protocol.TypeError:
			_ = ws.CloseNow()
			return nil, fmt.Errorf("auth refused: %s: %s", f.Code, f.Message)
		}
	}
}

// write sends one frame; it is safe for concurrent use.
func (r *rawClient) write(ctx context.Context, f protocol.Frame) error {
	b, err := protocol.Encode(f)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := r.ws.Write(ctx, websocket.MessageText, b); err != nil {
		return fmt.Errorf("write %s frame: %w", f.Type, err)
	}
	return nil
}

// read returns the next frame; only one goroutine may read.
func (r *rawClient) read(ctx context.Context) (protocol.Frame, error) {
	_, data, err := r.ws.Read(ctx)
	if err != nil {
		return protocol.Frame{}, fmt.Errorf("read frame: %w", err)
	}
	f, err := protocol.Decode(data)
	if err == nil {
		err = protocol.ValidateServer(f)
	}
	if err != nil {
		return protocol.Frame{}, fmt.Errorf("node sent an invalid frame %q: %w", data, err)
	}
	return f, nil
}

func (r *rawClient) close() { _ = r.ws.Close(websocket.StatusNormalClosure, "bye") }

// wireWatcher reads a rawClient's frames in its own goroutine and checks
// the node's promise on the wire itself: per room, msg frames carry offsets
// 1, 2, 3… with no gap, no duplicate and nothing out of order. It records
// acks and errors.
type wireWatcher struct {
	rc   *rawClient
	done chan struct{}
	quit chan struct{} // stops the pinger
	once sync.Once     // stop may be called twice (by the test and its cleanup)

	mu         sync.Mutex
	msgs       map[string][]protocol.Message
	subscribed map[string]bool
	acks       map[string]int64
	problems   []string
	readErr    error
	stopping   bool // the test closed the connection
}

func watch(rc *rawClient) *wireWatcher {
	w := &wireWatcher{
		rc:         rc,
		done:       make(chan struct{}),
		quit:       make(chan struct{}),
		msgs:       make(map[string][]protocol.Message),
		subscribed: make(map[string]bool),
		acks:       make(map[string]int64),
	}
	go w.loop()
	go w.ping()
	return w
}

// stop closes the connection and waits for the reader.
func (w *wireWatcher) stop() {
	w.once.Do(func() {
		w.mu.Lock()
		w.stopping = true
		w.mu.Unlock()
		close(w.quit)
		w.rc.close()
	})
	<-w.done
}

// ping keeps the connection from being closed as idle while the test
// watches it, as every client does.
func (w *wireWatcher) ping() {
	t := time.NewTicker(protocol.PingInterval)
	defer t.Stop()
	for {
		select {
		case <-w.quit:
			return
		case <-t.C:
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			_ = w.rc.write(ctx, protocol.Frame{Type: protocol.TypePing, ID: "keepalive"})
			cancel()
		}
	}
}

func (w *wireWatcher) loop() {
	defer close(w.done)
	for {
		f, err := w.rc.read(context.Background())
		if err != nil {
			w.mu.Lock()
			w.readErr = err
			w.mu.Unlock()
			return
		}
		w.mu.Lock()
		w.frame(f)
		w.mu.Unlock()
	}
}

// frame records one frame; callers hold mu.
func (w *wireWatcher) frame(f protocol.Frame) {
	switch f.Type {
	case protocol.TypeSubscribed:
		w.subscribed[f.Room] = true
	case protocol.TypeMsg:
		m := *f.Msg
		list := w.msgs[m.Room]
		want := int64(1)
		if len(list) > 0 {
			want = list[len(list)-1].Offset + 1
		}
		if m.Offset != want {
			w.problems = append(w.problems, fmt.Sprintf("room %s: node sent offset %d, want %d", m.Room, m.Offset, want))
		}
		w.msgs[m.Room] = append(list, m)
	case protocol.TypeAck:
		w.acks[f.CID] = f.Offset
	case protocol.TypeError:
		w.problems = append(w.problems, fmt.Sprintf("error frame: %s (ref %s): %s", f.Code, f.Ref, f.Message))
	case protocol.TypeResync:
		w.problems = append(w.problems, fmt.Sprintf("unexpected resync of %s", f.Room))
	}
}

func (w *wireWatcher) count(room string) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.msgs[room])
}

func (w *wireWatcher) messages(room string) []protocol.Message {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]protocol.Message(nil), w.msgs[room]...)
}

func (w *wireWatcher) acked(cids []string) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, c := range cids {
		if _, ok := w.acks[c]; !ok {
			return fmt.Errorf("%s: no ack for %s", w.rc.user, c)
		}
	}
	return nil
}

func (w *wireWatcher) isSubscribed(rooms ...string) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, r := range rooms {
		if !w.subscribed[r] {
			return fmt.Errorf("%s: not subscribed to %s", w.rc.user, r)
		}
	}
	if w.readErr != nil {
		return w.readErr
	}
	return nil
}

// failures returns what went wrong on the wire, including a read error
// other than the close the test asked for.
func (w *wireWatcher) failures() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := append([]string(nil), w.problems...)
	if w.readErr != nil && !w.stopping {
		out = append(out, "connection ended: "+w.readErr.Error())
	}
	return out
}
