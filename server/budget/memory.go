package budget

import (
	"context"
	"sync"
	"time"
)

// sweepEvery is how often Memory forgets users whose budgets are full
// again (a full budget behaves exactly like a new one).
const sweepEvery = time.Minute

// Memory is a Budget kept in this process: one node's sockets share it.
type Memory struct {
	p   params
	now func() time.Time

	mu        sync.Mutex // guards users and lastSweep; a leaf lock
	users     map[string]state
	lastSweep time.Time
}

var _ Budget = (*Memory)(nil)

// NewMemory returns a Memory budget with limits l; now is its clock (nil:
// time.Now).
func NewMemory(l Limits, now func() time.Time) *Memory {
	if now == nil {
		now = time.Now
	}
	return &Memory{p: l.params(), now: now, users: make(map[string]state), lastSweep: now()}
}

// Take implements Budget.
func (m *Memory) Take(_ context.Context, user string, n int) time.Duration {
	t := m.now()
	now := float64(t.UnixNano()) / 1e3
	m.mu.Lock()
	defer m.mu.Unlock()
	m.sweep(t, now)
	s, wait := m.p.take(m.users[user], now, n)
	if wait > 0 {
		return micros(wait)
	}
	m.users[user] = s
	return 0
}

// TakeAll implements Budget.
func (m *Memory) TakeAll(_ context.Context, user string, sizes []int) (int, time.Duration) {
	t := m.now()
	now := float64(t.UnixNano()) / 1e3
	m.mu.Lock()
	defer m.mu.Unlock()
	m.sweep(t, now)
	s := m.users[user]
	for i, n := range sizes {
		next, wait := m.p.take(s, now, n)
		if wait > 0 {
			if i > 0 {
				m.users[user] = s
			}
			return i, micros(wait)
		}
		s = next
	}
	if len(sizes) > 0 {
		m.users[user] = s
	}
	return len(sizes), 0
}

// Return implements Budget.
func (m *Memory) Return(_ context.Context, user string, sizes []int) {
	if len(sizes) == 0 {
		return
	}
	now := float64(m.now().UnixNano()) / 1e3
	m.mu.Lock()
	defer m.mu.Unlock()
	s, ok := m.users[user]
	if !ok {
		return // full already
	}
	if s = m.p.give(s, sizes); s.msgs <= now && s.bytes <= now {
		delete(m.users, user)
		return
	}
	m.users[user] = s
}

// sweep drops users whose budgets have refilled, at most once per
// sweepEvery. Called with mu held.
func (m *Memory) sweep(t time.Time, now float64) {
	if t.Sub(m.lastSweep) < sweepEvery {
		return
	}
	m.lastSweep = t
	for u, s := range m.users {
		if s.msgs <= now && s.bytes <= now {
			delete(m.users, u)
		}
	}
}

// Len returns how many users the budget remembers.
func (m *Memory) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.users)
}

// Close implements Budget; it does nothing.
func (m *Memory) Close() error { return nil }
