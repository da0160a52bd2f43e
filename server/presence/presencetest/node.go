package presencetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parleychat/parley/server/presence"
)

// Recorder is a Run callback that keeps the room lists it is given and
// checks how it is called: one call at a time, never after Run returned,
// each list non-empty, sorted and without duplicates.
type Recorder struct {
	// calls is counted without synchronization on purpose: Run promises
	// to call Expired from its own goroutine, so calls are ordered one
	// after another, and the race detector reports two that are not, such
	// as overlapping calls from goroutines Run started. (It may miss
	// calls from fresh goroutines that never overlap.)
	calls  int
	inCall atomic.Int32

	mu       sync.Mutex // guards the fields below
	reports  [][]string
	returned bool     // Run has returned
	problems []string // broken promises, reported when the test ends
}

// Expired is the callback to pass to Run.
func (r *Recorder) Expired(rooms []string) {
	r.calls++ // before anything that synchronizes
	if r.inCall.Add(1) > 1 {
		r.problem("expired called while another call was running")
	}
	defer r.inCall.Add(-1)
	r.mu.Lock()
	defer r.mu.Unlock()
	switch {
	case r.returned:
		r.problemLocked(fmt.Sprintf("expired(%q) called after Run returned", rooms))
	case len(rooms) == 0:
		r.problemLocked("expired called with no rooms")
	case !slices.IsSorted(rooms) || len(slices.Compact(slices.Clone(rooms))) != len(rooms):
		r.problemLocked(fmt.Sprintf("expired(%q): rooms not sorted or duplicated", rooms))
	}
	r.reports = append(r.reports, slices.Clone(rooms))
}

// Reports returns the room lists passed to Expired so far.
func (r *Recorder) Reports() [][]string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.reports)
}

// Reported reports whether some call to Expired listed room.
func (r *Recorder) Reported(room string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.ContainsFunc(r.reports, func(rooms []string) bool { return slices.Contains(rooms, room) })
}

func (r *Recorder) problem(msg string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.problemLocked(msg)
}

func (r *Recorder) problemLocked(msg string) { r.problems = append(r.problems, msg) }

func (r *Recorder) runReturned() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.returned = true
}

// check fails the test for every broken promise seen.
func (r *Recorder) check(t testing.TB) {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, p := range r.problems {
		t.Error(p)
	}
}

// Node is a Presence whose Run the suite started, with what Run reported.
type Node struct {
	presence.Presence
	*Recorder

	cancel context.CancelFunc
	exited chan struct{} // closed when Run has returned
	err    error         // Run's result, set before exited is closed
}

// Start runs p with a new Recorder until the test ends; then it closes p,
// checks that Run returned nil (or ErrClosed, if Close came before Run
// started) and that the callback was called as Run promises.
func Start(t testing.TB, p presence.Presence) *Node {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	n := &Node{Presence: p, Recorder: &Recorder{}, cancel: cancel, exited: make(chan struct{})}
	go func() {
		n.err = p.Run(ctx, n.Expired)
		n.runReturned()
		close(n.exited)
	}()
	t.Cleanup(func() {
		defer cancel()
		if err := p.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
		if err := n.wait(); err != nil {
			t.Error(err)
		} else if n.err != nil && !errors.Is(n.err, presence.ErrClosed) {
			t.Errorf("run: %v", n.err)
		}
		n.check(t)
	})
	return n
}

// Crash stops n's Run without Close, as if the node died: its entries are
// no longer renewed, and Run must return nil.
func (n *Node) Crash(t testing.TB) {
	t.Helper()
	n.cancel()
	if err := n.wait(); err != nil {
		t.Fatal(err)
	}
	if n.err != nil {
		t.Fatalf("run after cancel: %v", n.err)
	}
}

func (n *Node) wait() error {
	return waitClosed(n.exited, "Run to return")
}

// waitClosed waits until ch is closed; the deadline only guards against
// a hang.
func waitClosed(ch <-chan struct{}, what string) error {
	timer := time.NewTimer(waitTimeout)
	defer timer.Stop()
	select {
	case <-ch:
		return nil
	case <-timer.C:
		return fmt.Errorf("waited %v for %s", waitTimeout, what)
	}
}
