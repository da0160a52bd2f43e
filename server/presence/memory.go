package presence

import (
	"context"
	"sort"
	"sync"
)

// Memory is the single-node Presence.
type Memory struct {
	mu    sync.Mutex                // guards rooms; a leaf lock
	rooms map[string]map[string]int // room → user → joins
}

var _ Presence = (*Memory)(nil)

// NewMemory returns an empty in-process Presence.
func NewMemory() *Memory {
	return &Memory{rooms: make(map[string]map[string]int)}
}

// Join records user in room.
func (m *Memory) Join(_ context.Context, room, user string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
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
	out := make([]string, 0, len(m.rooms[room]))
	for u := range m.rooms[room] {
		out = append(out, u)
	}
	sort.Strings(out)
	return out, nil
}

// Run waits for ctx: nothing on one node expires.
func (m *Memory) Run(ctx context.Context, _ func([]string)) error {
	<-ctx.Done()
	return nil
}

// Close does nothing.
func (m *Memory) Close() error { return nil }
