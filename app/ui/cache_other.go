//go:build !(js && wasm)

package ui

import (
	"cmp"
	"maps"
	"slices"
	"sync"

	"github.com/parleychat/parley/app/state"
	"github.com/parleychat/parley/shared/protocol"
)

// newCacheBackend returns the cache outside the browser: memory, as
// IndexedDB behaves (keys by user, room and offset; one write all or
// nothing).
func newCacheBackend() cacheBackend { return newMemCache() }

// memCache is a cacheBackend in memory.
type memCache struct {
	mu    sync.Mutex // guards users
	users map[string]*memUser
	// fail, when set, fails every write (a full or broken store).
	fail error
}

type memUser struct {
	rooms     []protocol.Room
	hasRooms  bool
	timelines map[string]cachedTimeline
	// messages holds each room's messages by offset.
	messages map[string]map[int64]protocol.Message
	outbox   map[string]outboxEntry
}

var _ cacheBackend = (*memCache)(nil)

func newMemCache() *memCache { return &memCache{users: make(map[string]*memUser)} }

func (m *memCache) user(name string) *memUser {
	u := m.users[name]
	if u == nil {
		u = &memUser{
			timelines: make(map[string]cachedTimeline),
			messages:  make(map[string]map[int64]protocol.Message),
			outbox:    make(map[string]outboxEntry),
		}
		m.users[name] = u
	}
	return u
}

func (m *memCache) load(user string) (cacheContents, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	u := m.user(user)
	c := cacheContents{Rooms: slices.Clone(u.rooms), HasRooms: u.hasRooms, Timelines: make(map[string]state.Timeline)}
	for room, ct := range u.timelines {
		msgs := slices.SortedFunc(maps.Values(u.messages[room]), func(x, y protocol.Message) int { return cmp.Compare(x.Offset, y.Offset) })
		c.Timelines[room] = state.Timeline{Epoch: ct.Epoch, NoMore: ct.NoMore, Messages: msgs}
	}
	c.Outbox = slices.Collect(maps.Values(u.outbox))
	sortOutbox(c.Outbox)
	return c, nil
}

func (m *memCache) loadFirst(user, room string) (cacheContents, error) {
	c, err := m.load(user)
	maps.DeleteFunc(c.Timelines, func(name string, _ state.Timeline) bool { return name != room })
	return c, err
}

func (m *memCache) loadOthers(user, room string) (cacheContents, error) {
	c, err := m.load(user)
	delete(c.Timelines, room)
	return cacheContents{Timelines: c.Timelines}, err
}

func (m *memCache) apply(user string, b *cacheBatch) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fail != nil {
		return m.fail
	}
	u := m.user(user)
	if b.SetRooms {
		u.rooms, u.hasRooms = slices.Clone(b.Rooms), true
	}
	for _, room := range b.Drop {
		delete(u.timelines, room)
		delete(u.messages, room)
	}
	for _, t := range b.Timelines {
		msgs := make(map[int64]protocol.Message, len(t.Messages))
		for _, msg := range newest(t.Messages) {
			msgs[msg.Offset] = msg
		}
		u.messages[t.Room] = msgs
		t.Messages = nil
		u.timelines[t.Room] = t
	}
	for _, e := range b.Put {
		u.outbox[e.CID] = e
	}
	for _, cid := range b.Del {
		delete(u.outbox, cid)
	}
	return nil
}

func (m *memCache) outbox(user string) ([]outboxEntry, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	o := slices.Collect(maps.Values(m.user(user).outbox))
	sortOutbox(o)
	return o, nil
}

func (m *memCache) clear(user string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.users, user)
	return nil
}
