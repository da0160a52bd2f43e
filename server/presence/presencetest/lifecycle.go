package presencetest

import (
	"context"
	"errors"
	"testing"

	"github.com/parleychat/parley/server/presence"
)

var lifecycleTests = []test{
	{"CancelStopsRun", testCancelStopsRun},
	{"CloseStopsRun", testCloseStopsRun},
	{"CloseWithoutRun", testCloseWithoutRun},
}

// testCancelStopsRun: Run returns nil once its context is cancelled. On
// one node nobody else's entries can time out, so it reported nothing.
func testCancelStopsRun(t *testing.T, open Opener) {
	n := Start(t, open(t))
	Join(t, n, "room", "zoe")
	Leave(t, n, "room", "zoe")
	Join(t, n, "other", "al")
	n.Crash(t)
	if got := n.Reports(); len(got) != 0 {
		t.Fatalf("a lone node reported %q", got)
	}
}

// testCloseStopsRun: Close ends a running Run, which returns nil (or
// ErrClosed, if Close came before Run started), and the Presence refuses
// what follows.
func testCloseStopsRun(t *testing.T, open Opener) {
	p := open(t)
	rec := &Recorder{}
	exited := make(chan struct{})
	var runErr error
	go func() {
		runErr = p.Run(context.Background(), rec.Expired)
		rec.runReturned()
		close(exited)
	}()
	Join(t, p, "room", "zoe")
	if err := p.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	if err := waitClosed(exited, "Run to return after Close"); err != nil {
		t.Fatal(err)
	}
	if runErr != nil && !errors.Is(runErr, presence.ErrClosed) {
		t.Fatalf("run: %v", runErr)
	}
	rec.check(t)
	checkClosed(t, p)
}

// testCloseWithoutRun: a Presence that never ran closes cleanly, and Run
// after Close returns ErrClosed at once.
func testCloseWithoutRun(t *testing.T, open Opener) {
	p := open(t)
	Join(t, p, "room", "zoe")
	if err := p.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	checkClosed(t, p)
}

// checkClosed checks the promises of a closed Presence: Close again is
// nil, Join, Leave and Run return ErrClosed, Users an error.
func checkClosed(t *testing.T, p presence.Presence) {
	t.Helper()
	ctx := context.Background()
	if err := p.Close(); err != nil {
		t.Fatalf("second close: %v", err)
	}
	if err := p.Join(ctx, "room", "al"); !errors.Is(err, presence.ErrClosed) {
		t.Fatalf("join after close: %v, want ErrClosed", err)
	}
	if err := p.Leave(ctx, "room", "zoe"); !errors.Is(err, presence.ErrClosed) {
		t.Fatalf("leave after close: %v, want ErrClosed", err)
	}
	if got, err := p.Users(ctx, "room"); err == nil {
		t.Fatalf("users after close = %q, want an error", got)
	}
	exited := make(chan struct{})
	var runErr error
	go func() {
		runErr = p.Run(ctx, func([]string) { t.Error("expired called by a closed Presence") })
		close(exited)
	}()
	if err := waitClosed(exited, "Run after Close to return"); err != nil {
		t.Fatal(err)
	}
	if !errors.Is(runErr, presence.ErrClosed) {
		t.Fatalf("run after close: %v, want ErrClosed", runErr)
	}
}
