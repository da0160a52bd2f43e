package presence_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/parleychat/parley/server/presence"
)

// TestMemoryCloseEndsRun: Close ends Run, as it does for Redis, and a
// closed Memory refuses Join and Leave.
func TestMemoryCloseEndsRun(t *testing.T) {
	m := presence.NewMemory()
	done := make(chan error, 1)
	go func() { done <- m.Run(context.Background(), func([]string) {}) }()
	if err := m.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	select {
	case err := <-done:
		// ErrClosed: Close came before Run's goroutine started.
		if err != nil && !errors.Is(err, presence.ErrClosed) {
			t.Fatalf("run: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Run did not return after Close")
	}
	if err := m.Join(context.Background(), "room", "zoe"); !errors.Is(err, presence.ErrClosed) {
		t.Fatalf("join after close: %v, want ErrClosed", err)
	}
	if err := m.Leave(context.Background(), "room", "zoe"); !errors.Is(err, presence.ErrClosed) {
		t.Fatalf("leave after close: %v, want ErrClosed", err)
	}
}
