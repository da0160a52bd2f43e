// Package brokertest is the conformance suite of broker.Broker: Run checks
// one node, RunCluster checks several nodes sharing a backend (delivery to
// every subscribed node exactly once, and recovery after the backend
// restarts). Every implementation runs it from its own tests.
package brokertest

import (
	"bytes"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"
)

// waitTimeout bounds every wait of the suite.
const waitTimeout = 15 * time.Second

// Recorder is a broker.Handler that keeps everything it is given.
type Recorder struct {
	mu          sync.Mutex
	changed     chan struct{} // closed and replaced on every call
	payloads    map[string][][]byte
	interrupted [][]string
}

// NewRecorder returns an empty Recorder.
func NewRecorder() *Recorder {
	return &Recorder{changed: make(chan struct{}), payloads: make(map[string][][]byte)}
}

// Deliver implements broker.Handler; it keeps a copy of payload.
func (r *Recorder) Deliver(room string, payload []byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.payloads[room] = append(r.payloads[room], bytes.Clone(payload))
	r.notify()
}

// Interrupted implements broker.Handler.
func (r *Recorder) Interrupted(rooms []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.interrupted = append(r.interrupted, slices.Clone(rooms))
	r.notify()
}

func (r *Recorder) notify() {
	close(r.changed)
	r.changed = make(chan struct{})
}

func (r *Recorder) changedChan() <-chan struct{} {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.changed
}

// Payloads returns the payloads delivered for room so far.
func (r *Recorder) Payloads(room string) [][]byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.payloads[room])
}

// Interruptions returns the room lists passed to Interrupted so far.
func (r *Recorder) Interruptions() [][]string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.interrupted)
}

// WaitFor waits until cond (called with the recorder locked) holds, or
// fails the test after waitTimeout with what.
func (r *Recorder) WaitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.NewTimer(waitTimeout)
	defer deadline.Stop()
	for {
		r.mu.Lock()
		ok := cond()
		ch := r.changed
		r.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-ch:
		case <-deadline.C:
			t.Fatalf("timed out after %v waiting for %s", waitTimeout, what)
		}
	}
}

// WaitPayloads waits until room has at least n payloads and returns them.
func (r *Recorder) WaitPayloads(t testing.TB, room string, n int) [][]byte {
	t.Helper()
	r.WaitFor(t, fmt.Sprintf("%d payloads in room %q", n, room), func() bool {
		return len(r.payloads[room]) >= n
	})
	return r.Payloads(room)
}

// WaitInterrupted waits until an Interrupted call listed every room of
// want (and maybe more).
func (r *Recorder) WaitInterrupted(t testing.TB, want ...string) {
	t.Helper()
	r.WaitFor(t, fmt.Sprintf("Interrupted(%v)", want), func() bool {
		for _, got := range r.interrupted {
			if containsAll(got, want) {
				return true
			}
		}
		return false
	})
}

func containsAll(have, want []string) bool {
	for _, w := range want {
		if !slices.Contains(have, w) {
			return false
		}
	}
	return true
}
