package broker

import (
	"context"
	"errors"
	"sync"
)

// ErrClosed is returned by a closed broker.
var ErrClosed = errors.New("broker closed")

// Memory is the in-process Broker of a single node: Publish hands the
// payload straight to the handler when the room is subscribed. Delivery is
// synchronous, on the publisher's goroutine, so concurrent publishers to one
// room may be delivered in either order (the hub sequences by offset).
type Memory struct {
	// mu guards the fields below. It is a leaf lock: the handler is
	// called after it is released.
	mu     sync.RWMutex
	h      Handler
	rooms  map[string]bool
	closed bool
	done   chan struct{}
}

var _ Broker = (*Memory)(nil)

// NewMemory returns an in-process broker.
func NewMemory() *Memory {
	return &Memory{rooms: make(map[string]bool), done: make(chan struct{})}
}

// Publish delivers payload to the handler if room is subscribed.
func (m *Memory) Publish(_ context.Context, room string, payload []byte) error {
	m.mu.RLock()
	closed, h, subscribed := m.closed, m.h, m.rooms[room]
	m.mu.RUnlock()
	if closed {
		return ErrClosed
	}
	// Deliver runs outside the lock: the handler may call Subscribe or
	// Unsubscribe meanwhile.
	if h != nil && subscribed {
		h.Deliver(room, payload)
	}
	return nil
}

// PublishAll delivers payloads in order if room is subscribed.
func (m *Memory) PublishAll(ctx context.Context, room string, payloads [][]byte) error {
	for _, p := range payloads {
		if err := m.Publish(ctx, room, p); err != nil {
			return err
		}
	}
	return nil
}

// Subscribe starts delivering room.
func (m *Memory) Subscribe(_ context.Context, room string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return ErrClosed
	}
	m.rooms[room] = true
	return nil
}

// Unsubscribe stops delivering room.
func (m *Memory) Unsubscribe(_ context.Context, room string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.rooms, room)
	return nil
}

// Run sets the handler and waits until ctx is done or Close is called.
func (m *Memory) Run(ctx context.Context, h Handler) error {
	m.mu.Lock()
	m.h = h
	m.mu.Unlock()
	select {
	case <-ctx.Done():
	case <-m.done:
	}
	m.mu.Lock()
	m.h = nil
	m.mu.Unlock()
	return nil
}

// Close stops the broker.
func (m *Memory) Close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.closed {
		m.closed = true
		close(m.done)
	}
	return nil
}
