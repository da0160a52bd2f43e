//go:build !js

package client

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/parleychat/parley/shared/client/internal/peer"
)

// A *slog.Logger is a Logger, as Config.Logger documents.
var _ Logger = (*slog.Logger)(nil)

// recorder collects the events a Client emits.
type recorder struct {
	mu  sync.Mutex
	evs []Event
}

func (r *recorder) on(ev Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.evs = append(r.evs, ev)
}

func (r *recorder) all() []Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Event(nil), r.evs...)
}

func (r *recorder) kind(k EventKind) []Event {
	var out []Event
	for _, ev := range r.all() {
		if ev.Kind == k {
			out = append(out, ev)
		}
	}
	return out
}

// offsets returns the offsets of the message events of room, in order.
func (r *recorder) offsets(room string) []int64 {
	var out []int64
	for _, ev := range r.kind(EventMessage) {
		if ev.Room == room {
			out = append(out, ev.Offset)
		}
	}
	return out
}

// roundTrip is a barrier: it asks for a history page and waits for the
// answer (an error frame will do). The peer reads a connection's frames in
// order and answers each before the next, so when roundTrip returns, the
// peer has seen every frame the client wrote before, and the client has
// handled every frame the peer sent before the answer. Tests use it to
// check that something did not happen, instead of sleeping.
func roundTrip(t *testing.T, c *Client) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	_, _, err := c.History(ctx, "general", 0, 1)
	var se *ServerError
	if err != nil && !errors.As(err, &se) {
		t.Fatalf("round trip: %v", err)
	}
}

// testConfig is a fast configuration for tests against p.
func testConfig(p *peer.Peer, rec *recorder) Config {
	return Config{
		URL:          p.WSURL(),
		Token:        func(context.Context) (string, error) { return "tok", nil },
		OnEvent:      rec.on,
		MinBackoff:   5 * time.Millisecond,
		MaxBackoff:   50 * time.Millisecond,
		DrainJitter:  20 * time.Millisecond,
		PingInterval: time.Minute,
	}
}

// running is a Client whose Run goroutine the test owns.
type running struct {
	*Client
	cancel context.CancelFunc
	done   chan error
}

// start runs c until the test ends (or stop is called).
func start(t *testing.T, c *Client) *running {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{Client: c, cancel: cancel, done: make(chan error, 1)}
	go func() { r.done <- c.Run(ctx) }()
	t.Cleanup(func() { r.stop(t) })
	return r
}

// stop cancels Run and waits for it to return.
func (r *running) stop(t *testing.T) error {
	t.Helper()
	r.cancel()
	select {
	case err := <-r.done:
		r.done <- err // keep it for a second call
		return err
	case <-time.After(waitTimeout):
		t.Fatal("Run did not return after cancel")
		return nil
	}
}

// wait waits for Run to return on its own.
func (r *running) wait(t *testing.T) error {
	t.Helper()
	select {
	case err := <-r.done:
		r.done <- err
		return err
	case <-time.After(waitTimeout):
		t.Fatal("Run did not return")
		return nil
	}
}

func equalOffsets(a, b []int64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func seq(from, to int64) []int64 {
	var out []int64
	for i := from; i <= to; i++ {
		out = append(out, i)
	}
	return out
}
