package testenv

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"
)

// Eventually polls check until it returns nil and fails the test with
// check's last error when within has passed. It is the one way tests wait
// for a condition: never sleep and hope. Deadlines are generous bounds on a
// slow, busy machine, not performance assertions; a passing check returns
// at once. Call it from the test goroutine (it calls t.Fatalf).
func Eventually(t testing.TB, within time.Duration, what string, check func() error) {
	t.Helper()
	if err := Poll(context.Background(), within, check); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// Poll calls check until it returns nil, ctx ends or within has passed;
// the gap between calls grows from 2ms to 50ms. The error says how long it
// waited and carries check's last error.
func Poll(ctx context.Context, within time.Duration, check func() error) error {
	start := time.Now()
	deadline := start.Add(within)
	pause := 2 * time.Millisecond
	for {
		err := check()
		if err == nil {
			return nil
		}
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("gave up after %v: %w", time.Since(start).Round(time.Millisecond), err)
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not true after %v: %w", within, err)
		}
		t := time.NewTimer(min(pause, time.Until(deadline)+time.Millisecond))
		select {
		case <-ctx.Done():
		case <-t.C:
		}
		t.Stop()
		pause = min(2*pause, 50*time.Millisecond)
	}
}

// Cond adapts a boolean condition to Eventually: the error it returns
// while cond is false is "not yet".
func Cond(cond func() bool) func() error {
	return func() error {
		if cond() {
			return nil
		}
		return errNotYet
	}
}

var errNotYet = errors.New("condition still false")
