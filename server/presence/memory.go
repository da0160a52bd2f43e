package presence

import (
	"context"
	"sort"
	"sync"
)

// Memory is the single-node Presence.
type Memory struct {
	done chan struct{} // closed by Close

	mu     sync.Mutex                // guards the fields below; a leaf lock
	rooms  map[string]map[string]int // room → user → joins
	closed bool
}

var _ Presence = (*Memory)(nil)

// NewMemory returns an empty in-process Presence.
func NewMemory() *Memory {
	return &Memory{rooms: make(map[string]map[string]int), done: make(chan struct{})}
}

// Join records user in room. Joins are counted: a user joined twice
// stays until the second Leave.
func (m *Memory) Join(_ context.Context, room, user string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return ErrClosed
	}
	users := m.rooms[room]
	if users == nil {
		users = make(map[string]int)
		m.rooms[room] = users
	}
	users[user]++
	return nil
}

// Leave removes one Join of user in room.
func (m *Memory) Leave(_ context.Context, room, user string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return ErrClosed
	}
	users := m.rooms[room]
	if users[user] <= 1 {
		delete(users, user)
	} else {
		users[user]--
	}
	if len(users) == 0 {
		delete(m.rooms, room)
	}
	return nil
}

// Users lists the users in room, sorted.
func (m *Memory) Users(_ context.Context, room string) ([]string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil, ErrClosed
	}
	out := make([]string, 0, len(m.rooms[room]))
	for u := range m.rooms[room] {
		out = append(out, u)
	}
	sort.Strings(out)
	return out, nil
}

// Run waits for ctx or Close: nothing on one node expires.
func (m *Memory) Run(ctx context.Context, _ func([]string)) error {
	m.mu.Lock()
	closed := m.closed
	m.mu.Unlock()
	if closed {
		return ErrClosed
	}
	select {
	case <-ctx.Done():
	case <-m.done:
	}
	return nil
}

// Close ends Run and forgets every entry; later calls return ErrClosed.
func (m *Memory) Close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.closed {
		m.closed = true
		m.rooms = nil
		close(m.done)
	}
	return nil
}
