package ui

import (
	"cmp"
	"slices"
	"sort"
	"sync"

	"github.com/parleychat/parley/app/state"
	"github.com/parleychat/parley/shared/protocol"
)

// cachedMessages is how many of a room's newest messages the cache keeps:
// every write replaces the room's window, so the store never holds more.
const cachedMessages = 500

// outboxEntry is one message of the user's outbox: sent, not yet
// acknowledged by a node (or refused for good, Failed set).
type outboxEntry struct {
	Room string `json:"room"`
	state.Pending
}

// cachedTimeline is one room's window: its newest messages (at most
// cachedMessages) and what the timeline knows about them. The user's
// pending messages are in the outbox, not here.
type cachedTimeline struct {
	Room     string             `json:"room"`
	Epoch    int64              `json:"epoch,omitempty"`
	NoMore   bool               `json:"no_more,omitempty"`
	Messages []protocol.Message `json:"-"`
}

// window returns the window of room's timeline tl to cache.
func window(room string, tl *state.Timeline) cachedTimeline {
	c := tl.Clone()
	c.Trim(cachedMessages)
	return cachedTimeline{Room: room, Epoch: c.Epoch, NoMore: c.NoMore, Messages: c.Messages}
}

// cacheBatch is one write to the cache, applied all at once (one
// IndexedDB transaction) or not at all.
type cacheBatch struct {
	// Rooms replaces the room list when SetRooms.
	Rooms    []protocol.Room
	SetRooms bool
	// Timelines replace the windows of their rooms.
	Timelines []cachedTimeline
	// Drop forgets the windows of these rooms.
	Drop []string
	// Put adds or replaces outbox entries; Del removes them by cid.
	Put []outboxEntry
	Del []string
}

func (b *cacheBatch) empty() bool {
	return !b.SetRooms && len(b.Timelines) == 0 && len(b.Drop) == 0 && len(b.Put) == 0 && len(b.Del) == 0
}

// cacheContents is what the cache holds for one user.
type cacheContents struct {
	Rooms    []protocol.Room
	HasRooms bool
	// Timelines holds each cached room's window, without pending messages.
	Timelines map[string]state.Timeline
	// Outbox holds the user's outbox, oldest first.
	Outbox []outboxEntry
}

// cacheBackend is where the cache lives: IndexedDB in the browser
// (cache_js.go), memory elsewhere (cache_other.go). Everything is keyed
// by user: one user's calls never see another's data. Calls block until
// the data is written or read; the cache calls them on its own goroutine,
// never on go-app's UI goroutine or a JavaScript callback.
type cacheBackend interface {
	// load returns user's data.
	load(user string) (cacheContents, error)
	// loadFirst returns what user's first view needs: the room list, the
	// outbox and room's window (none when room is "").
	loadFirst(user, room string) (cacheContents, error)
	// loadOthers returns the windows of user's rooms but room; the
	// Timelines of its result are all it holds.
	loadOthers(user, room string) (cacheContents, error)
	// apply writes b for user: every part or none. A timeline replaces
	// the room's stored window, keeping at most its cachedMessages newest
	// messages.
	apply(user string, b *cacheBatch) error
	// outbox returns user's outbox, oldest first.
	outbox(user string) ([]outboxEntry, error)
	// clear removes everything stored for user.
	clear(user string) error
}

// cache runs the operations on a cacheBackend one at a time, in the order
// they were asked for, on a goroutine of its own that exists while there
// is work and ends when the queue is empty. Asking never blocks, so the UI
// goroutine and the client's event goroutine may ask.
type cache struct {
	backend cacheBackend

	mu sync.Mutex // guards the fields below
	// queue holds the operations not yet run; running: a goroutine runs
	// them.
	queue   []func(cacheBackend)
	running bool
}

func newCache(b cacheBackend) *cache { return &cache{backend: b} }

// do queues op.
func (c *cache) do(op func(cacheBackend)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.queue = append(c.queue, op)
	if !c.running {
		c.running = true
		go c.run()
	}
}

// run runs the queued operations until there are none.
func (c *cache) run() {
	for {
		c.mu.Lock()
		if len(c.queue) == 0 {
			c.running = false
			c.mu.Unlock()
			return
		}
		op := c.queue[0]
		c.queue = slices.Delete(c.queue, 0, 1)
		c.mu.Unlock()
		op(c.backend)
	}
}

// write queues b for user; done (optional) gets the result on the
// cache's goroutine.
func (c *cache) write(user string, b *cacheBatch, done func(error)) {
	if b.empty() && done == nil {
		return
	}
	c.do(func(be cacheBackend) {
		err := be.apply(user, b)
		if done != nil {
			done(err)
		}
	})
}

// load queues a read of user's data; done gets it on the cache's
// goroutine, after every write asked for before.
func (c *cache) load(user string, done func(cacheContents, error)) {
	c.do(func(be cacheBackend) { done(be.load(user)) })
}

// loadFirst queues a read of what user's first view needs (the room
// list, the outbox and room's window); done gets it on the cache's
// goroutine, after every write asked for before.
func (c *cache) loadFirst(user, room string, done func(cacheContents, error)) {
	c.do(func(be cacheBackend) { done(be.loadFirst(user, room)) })
}

// loadOthers queues a read of the windows of user's rooms but room; done
// gets them on the cache's goroutine, after every write asked for before.
func (c *cache) loadOthers(user, room string, done func(cacheContents, error)) {
	c.do(func(be cacheBackend) { done(be.loadOthers(user, room)) })
}

// outbox queues a read of user's outbox; done gets it on the cache's
// goroutine, after every write asked for before.
func (c *cache) outbox(user string, done func([]outboxEntry, error)) {
	c.do(func(be cacheBackend) { done(be.outbox(user)) })
}

// clear queues the removal of user's data.
func (c *cache) clear(user string, done func(error)) {
	c.do(func(be cacheBackend) {
		err := be.clear(user)
		if done != nil {
			done(err)
		}
	})
}

// settle waits until everything queued before it ran. It blocks: never
// call it on the UI goroutine.
func (c *cache) settle() {
	ch := make(chan struct{})
	c.do(func(cacheBackend) { close(ch) })
	<-ch
}

// newest returns the cachedMessages messages of msgs (sorted by offset)
// with the highest offsets.
func newest(msgs []protocol.Message) []protocol.Message {
	if len(msgs) > cachedMessages {
		return msgs[len(msgs)-cachedMessages:]
	}
	return msgs
}

// sortOutbox puts an outbox in the order it was sent. (sort.Stable, not
// slices.SortStableFunc, for the reason sortRooms gives.)
func sortOutbox(o []outboxEntry) {
	sort.Stable(byOutboxOrder(o))
}

// byOutboxOrder sorts an outbox for sortOutbox.
type byOutboxOrder []outboxEntry

func (o byOutboxOrder) Len() int      { return len(o) }
func (o byOutboxOrder) Swap(i, j int) { o[i], o[j] = o[j], o[i] }
func (o byOutboxOrder) Less(i, j int) bool {
	return cmp.Or(cmp.Compare(o[i].TS, o[j].TS), cmp.Compare(o[i].CID, o[j].CID)) < 0
}
