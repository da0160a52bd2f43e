package hub_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/parleychat/parley/server/broker"
	"github.com/parleychat/parley/server/hub"
	"github.com/parleychat/parley/server/presence"
	"github.com/parleychat/parley/server/stages"
	"github.com/parleychat/parley/server/store"
	"github.com/parleychat/parley/shared/protocol"
	"github.com/parleychat/parley/shared/testenv"
)

// recorder is a Subscriber that keeps every frame it is sent.
type recorder struct {
	user string
	mu   sync.Mutex
	got  []protocol.Frame
	full bool // refuse every frame, like a stuck client
}

func (r *recorder) User() string { return r.user }

func (r *recorder) Send(frame []byte, droppable bool) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.full {
		return false
	}
	r.keepLocked(frame)
	return true
}

// keepLocked decodes frame and adds it to got; r.mu is held.
func (r *recorder) keepLocked(frame []byte) protocol.Frame {
	f, err := protocol.Decode(frame)
	if err != nil {
		panic(fmt.Sprintf("hub sent an undecodable frame %q: %v", frame, err))
	}
	r.got = append(r.got, f)
	return f
}

// offsets returns the offsets of the msg frames received so far.
func (r *recorder) offsets() []int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []int64
	for _, f := range r.got {
		if f.Type == protocol.TypeMsg {
			out = append(out, f.Msg.Offset)
		}
	}
	return out
}

// hasOffsets is a check for testenv.Eventually: r has received exactly
// the msg frames want, in order.
func (r *recorder) hasOffsets(want ...int64) func() error {
	return func() error {
		if got := r.offsets(); !equal(got, want) {
			return fmt.Errorf("offsets %v, want %v", got, want)
		}
		return nil
	}
}

// first returns the first frame received.
func (r *recorder) first() protocol.Frame {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.got) == 0 {
		return protocol.Frame{}
	}
	return r.got[0]
}

func (r *recorder) frames(typ string) []protocol.Frame {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []protocol.Frame
	for _, f := range r.got {
		if f.Type == typ {
			out = append(out, f)
		}
	}
	return out
}

type env struct {
	hub      *hub.Hub
	store    store.Store
	broker   *broker.Memory
	presence *presence.Memory
	stages   *stages.Stages // set by coalesceEnv
}

// newEnv runs a hub on a fresh SQLite store with the in-process broker.
func newEnv(t testing.TB, reconcile time.Duration) *env {
	t.Helper()
	return newEnvOn(t, openSQLite(t), reconcile)
}

// openSQLite opens a fresh SQLite store, closed when the test ends.
func openSQLite(t testing.TB) store.Store {
	t.Helper()
	st, err := store.OpenSQLite(context.Background(), filepath.Join(t.TempDir(), "hub.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// runHub runs h until the test ends.
func runHub(t testing.TB, h *hub.Hub) {
	runCtx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- h.Run(runCtx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("hub run: %v", err)
		}
	})
}

// newEnvOn runs a hub on st (which gets the room "general") with the
// in-process broker and presence.
func newEnvOn(t testing.TB, st store.Store, reconcile time.Duration) *env {
	t.Helper()
	ctx := context.Background()
	if _, err := st.EnsureRoom(ctx, "general"); err != nil {
		t.Fatal(err)
	}
	b, pr := broker.NewMemory(), presence.NewMemory()
	h := hub.New(hub.Config{Store: st, Broker: b, Presence: pr, Reconcile: reconcile, PresenceDebounce: 10 * time.Millisecond})
	runHub(t, h)
	testenv.Eventually(t, waitTimeout, "hub running", testenv.Cond(func() bool {
		// Run has started once Subscribe stops answering ErrNotRunning.
		r := &recorder{user: "probe"}
		if err := h.Subscribe(ctx, r, "general", 0); err != nil {
			return false
		}
		h.Unsubscribe(r, "general")
		return true
	}))
	return &env{hub: h, store: st, broker: b, presence: pr}
}

func (e *env) append(t *testing.T, n int) []store.Message {
	t.Helper()
	var out []store.Message
	for i := 0; i < n; i++ {
		m, _, err := e.store.Append(context.Background(), store.Message{Room: "general", Author: "ann", Body: fmt.Sprint("m", i), CID: fmt.Sprint(time.Now().UnixNano())})
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, m)
	}
	return out
}

func payload(t *testing.T, m store.Message) []byte {
	b, err := protocol.Encode(protocol.Frame{Type: protocol.TypeMsg, Msg: hub.ToProtocol(&m)})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func equal(a, b []int64) bool {
	return fmt.Sprint(a) == fmt.Sprint(b)
}

func TestSubscribeReplaysBacklogThenLive(t *testing.T) {
	e := newEnv(t, time.Hour)
	e.append(t, 5)
	r := &recorder{user: "bob"}
	if err := e.hub.Subscribe(context.Background(), r, "general", 2); err != nil {
		t.Fatal(err)
	}
	if got := r.offsets(); !equal(got, []int64{3, 4, 5}) {
		t.Fatalf("backlog offsets = %v, want [3 4 5]", got)
	}
	sub := r.frames(protocol.TypeSubscribed)
	if len(sub) != 1 || sub[0].Head != 5 || sub[0].Epoch == 0 {
		t.Fatalf("subscribed frames = %+v", sub)
	}
	if first := r.first(); first.Type != protocol.TypeSubscribed {
		t.Fatalf("first frame is %s, want subscribed", first.Type)
	}
	m := e.append(t, 1)[0]
	if err := e.hub.PublishMessage(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, waitTimeout, "r gets offsets 3,4,5,6", r.hasOffsets(3, 4, 5, 6))
	testenv.Eventually(t, waitTimeout, "presence lists bob", testenv.Cond(func() bool {
		p := r.frames(protocol.TypePresence)
		return len(p) > 0 && fmt.Sprint(p[len(p)-1].Users) == "[bob]"
	}))
}

func TestOutOfOrderDeliveryIsSequenced(t *testing.T) {
	e := newEnv(t, time.Hour)
	r := &recorder{user: "bob"}
	if err := e.hub.Subscribe(context.Background(), r, "general", 0); err != nil {
		t.Fatal(err)
	}
	msgs := e.append(t, 3)
	// Offset 3 arrives first: the hub must fill 1 and 2 from the store.
	e.hub.Deliver("general", payload(t, msgs[2]))
	testenv.Eventually(t, waitTimeout, "r gets offsets 1,2,3", r.hasOffsets(1, 2, 3))
	// The late ones are duplicates now.
	e.hub.Deliver("general", payload(t, msgs[0]))
	e.hub.Deliver("general", payload(t, msgs[1]))
	more := e.append(t, 1)
	e.hub.Deliver("general", payload(t, more[0]))
	testenv.Eventually(t, waitTimeout, "four offsets delivered", testenv.Cond(func() bool { return len(r.offsets()) >= 4 }))
	if got := r.offsets(); !equal(got, []int64{1, 2, 3, 4}) {
		t.Fatalf("offsets = %v, want [1 2 3 4]", got)
	}
}

func TestInterruptedBackfillsFromStore(t *testing.T) {
	e := newEnv(t, time.Hour)
	r := &recorder{user: "bob"}
	if err := e.hub.Subscribe(context.Background(), r, "general", 0); err != nil {
		t.Fatal(err)
	}
	e.append(t, 2) // stored, never published: "lost" by the broker
	e.hub.Interrupted([]string{"general"})
	testenv.Eventually(t, waitTimeout, "r gets offsets 1,2", r.hasOffsets(1, 2))
	if e.hub.Stats().Backfilled != 2 {
		t.Fatalf("stats = %+v", e.hub.Stats())
	}
}

func TestReconcileRecoversLostPublish(t *testing.T) {
	e := newEnv(t, 20*time.Millisecond)
	r := &recorder{user: "bob"}
	if err := e.hub.Subscribe(context.Background(), r, "general", 0); err != nil {
		t.Fatal(err)
	}
	e.append(t, 3)
	testenv.Eventually(t, waitTimeout, "r gets offsets 1,2,3", r.hasOffsets(1, 2, 3))
}

func TestSlowSubscriberIsDroppedOthersContinue(t *testing.T) {
	e := newEnv(t, time.Hour)
	slow := &recorder{user: "slow"}
	ok := &recorder{user: "ok"}
	for _, r := range []*recorder{slow, ok} {
		if err := e.hub.Subscribe(context.Background(), r, "general", 0); err != nil {
			t.Fatal(err)
		}
	}
	slow.mu.Lock()
	slow.full = true
	slow.mu.Unlock()
	for _, m := range e.append(t, 3) {
		if err := e.hub.PublishMessage(context.Background(), m); err != nil {
			t.Fatal(err)
		}
	}
	testenv.Eventually(t, waitTimeout, "ok gets offsets 1,2,3", ok.hasOffsets(1, 2, 3))
	if got := e.hub.Stats().SlowClosed; got != 1 {
		t.Fatalf("SlowClosed = %d, want 1", got)
	}
}

func TestLastUnsubscribeStopsRoom(t *testing.T) {
	e := newEnv(t, time.Hour)
	a, b := &recorder{user: "a"}, &recorder{user: "b"}
	ctx := context.Background()
	for _, r := range []*recorder{a, b} {
		if err := e.hub.Subscribe(ctx, r, "general", 0); err != nil {
			t.Fatal(err)
		}
	}
	e.hub.Unsubscribe(a, "general")
	if e.hub.Rooms() != 1 {
		t.Fatal("room stopped while b is still in it")
	}
	e.hub.Unsubscribe(b, "general")
	if e.hub.Rooms() != 0 {
		t.Fatal("room still running after its last subscriber left")
	}
	e.hub.Unsubscribe(b, "general") // no-op
}

func TestSubscribeUnknownRoom(t *testing.T) {
	e := newEnv(t, time.Hour)
	err := e.hub.Subscribe(context.Background(), &recorder{user: "a"}, "nope", 0)
	if err == nil {
		t.Fatal("subscribe to unknown room succeeded")
	}
	if e.hub.Rooms() != 0 {
		t.Fatal("failed subscribe left a room running")
	}
}

// TestRedisDownServesLocally: with Redis stopped, a room still starts,
// messages still reach this node's subscribers, and once Redis is back the
// room subscribes again and hears other nodes.
func TestRedisDownServesLocally(t *testing.T) {
	ctx := context.Background()
	a, b, st, rs := redisPair(t, 50*time.Millisecond, "general")
	rs.Stop()

	local := &recorder{user: "local"}
	testenv.Eventually(t, waitTimeout, "a.Subscribe(ctx, local, \"general\", 0) == nil", testenv.Cond(func() bool { return a.Subscribe(ctx, local, "general", 0) == nil }))
	m, _, err := st.Append(ctx, store.Message{Room: "general", Author: "ann", Body: "while redis is down", CID: "c1"})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.PublishMessage(ctx, m); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, waitTimeout, "local gets offsets 1", local.hasOffsets(1))
	if a.Stats().PublishFailures == 0 {
		t.Fatal("publish with Redis down did not count a failure")
	}

	rs.Start()
	remote := &recorder{user: "remote"}
	testenv.Eventually(t, waitTimeout, "b.Subscribe(ctx, remote, \"general\", 0) == nil", testenv.Cond(func() bool { return b.Subscribe(ctx, remote, "general", 0) == nil }))
	// Wait until a's room has resubscribed: a message published by b
	// reaches a's subscriber through Redis (or, at worst, reconcile).
	m2, _, err := st.Append(ctx, store.Message{Room: "general", Author: "bo", Body: "redis is back", CID: "c2"})
	if err != nil {
		t.Fatal(err)
	}
	if err := b.PublishMessage(ctx, m2); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, waitTimeout, "local gets offsets 1,2", local.hasOffsets(1, 2))
	testenv.Eventually(t, waitTimeout, "remote gets offsets 2", remote.hasOffsets(2))
}

// TestNewRoomsSubscribeWhileMessagesFlow: a node joining many rooms at once
// while the broker is busy delivering must not stall (the broker confirms
// subscriptions on the same reader that delivers). Reconcile is off, so
// only live broker delivery can pass this test.
func TestNewRoomsSubscribeWhileMessagesFlow(t *testing.T) {
	ctx := context.Background()
	const rooms = 20
	names := make([]string, rooms)
	for i := range names {
		names[i] = fmt.Sprint("r", i)
	}
	a, b, st, _ := redisPair(t, time.Hour, names...)
	// Keep a's broker reader busy: b publishes typing frames to r0 non-stop.
	busy := &recorder{user: "busy"}
	testenv.Eventually(t, waitTimeout, "a.Subscribe(ctx, busy, \"r0\", 0) == nil", testenv.Cond(func() bool { return a.Subscribe(ctx, busy, "r0", 0) == nil }))
	stop := make(chan struct{})
	flood := make(chan struct{})
	go func() {
		defer close(flood)
		for {
			select {
			case <-stop:
				return
			default:
				b.PublishTyping(ctx, "r0", "someone")
			}
		}
	}()
	defer func() { close(stop); <-flood }()

	subs := make([]*recorder, rooms)
	errs := make(chan error, rooms)
	start := time.Now()
	for i := 1; i < rooms; i++ {
		subs[i] = &recorder{user: fmt.Sprint("u", i)}
		go func(i int) { errs <- a.Subscribe(ctx, subs[i], fmt.Sprint("r", i), 0) }(i)
	}
	for i := 1; i < rooms; i++ {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("%d rooms subscribed in %v", rooms-1, time.Since(start))
	for i := 1; i < rooms; i++ {
		room := fmt.Sprint("r", i)
		if err := b.Subscribe(ctx, &recorder{user: "b"}, room, 0); err != nil {
			t.Fatal(err)
		}
		m, _, err := st.Append(ctx, store.Message{Room: room, Author: "b", Body: "hello", CID: room})
		if err != nil {
			t.Fatal(err)
		}
		if err := b.PublishMessage(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	for i := 1; i < rooms; i++ {
		testenv.Eventually(t, waitTimeout, "subs[i] gets offsets 1", subs[i].hasOffsets(1))
	}
}

// redisPair runs two hubs (two "nodes") on one SQLite store and a real
// redis-server, with the given rooms created.
func redisPair(t *testing.T, reconcile time.Duration, rooms ...string) (a, b *hub.Hub, st store.Store, rs *testenv.RedisServer) {
	t.Helper()
	ctx := context.Background()
	rs = testenv.StartRedis(t)
	db, err := store.OpenSQLite(ctx, filepath.Join(t.TempDir(), "hub.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	for _, room := range append(rooms, probeRoom) {
		if _, err := db.EnsureRoom(ctx, room); err != nil {
			t.Fatal(err)
		}
	}
	newHub := func() *hub.Hub {
		br, err := broker.NewRedis(broker.RedisOptions{URL: rs.URL(), Prefix: t.Name() + ":"})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { br.Close() })
		h := hub.New(hub.Config{Store: db, Broker: br, Presence: presence.NewMemory(), Reconcile: reconcile})
		runCtx, cancel := context.WithCancel(ctx)
		done := make(chan error, 1)
		go func() { done <- h.Run(runCtx) }()
		t.Cleanup(func() { cancel(); <-done })
		return h
	}
	a, b = newHub(), newHub()
	linked(t, a, b)
	return a, b, db, rs
}

// linked waits until a and b hear each other through the broker: typing
// published on one reaches a subscriber on the other.
func linked(t *testing.T, a, b *hub.Hub) {
	t.Helper()
	ctx := context.Background()
	for _, pair := range [][2]*hub.Hub{{a, b}, {b, a}} {
		from, to := pair[0], pair[1]
		probe := &recorder{user: "probe"}
		testenv.Eventually(t, waitTimeout, "probe subscribed", func() error { return to.Subscribe(ctx, probe, probeRoom, 0) })
		testenv.Eventually(t, waitTimeout, "typing crosses the broker", func() error {
			from.PublishTyping(ctx, probeRoom, "prober")
			if len(probe.frames(protocol.TypeTyping)) == 0 {
				return errors.New("no typing frame yet")
			}
			return nil
		})
		to.Unsubscribe(probe, probeRoom)
	}
}

// probeRoom is the room linked uses; redisPair creates it.
const probeRoom = "probe"

// TestPublishMessagesDeliversInOrder: messages stored together and
// published together reach a subscriber once each, in order; a call
// naming two rooms is refused.
func TestPublishMessagesDeliversInOrder(t *testing.T) {
	e := newEnv(t, time.Hour)
	ctx := context.Background()
	r := &recorder{user: "bob"}
	if err := e.hub.Subscribe(ctx, r, "general", 0); err != nil {
		t.Fatal(err)
	}
	var ms []store.Message
	for i := range 5 {
		ms = append(ms, store.Message{Room: "general", Author: "ann", Body: fmt.Sprint("m", i), CID: fmt.Sprint("c", i)})
	}
	stored, err := e.store.AppendAll(ctx, ms)
	if err != nil {
		t.Fatal(err)
	}
	msgs := make([]store.Message, len(stored))
	for i, a := range stored {
		msgs[i] = a.Message
	}
	if err := e.hub.PublishMessages(ctx, msgs); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, waitTimeout, "the messages delivered in order", r.hasOffsets(1, 2, 3, 4, 5))
	other := msgs[0]
	other.Room = "elsewhere"
	if err := e.hub.PublishMessages(ctx, append(msgs[:1:1], other)); err == nil {
		t.Fatal("PublishMessages with two rooms: no error")
	}
}
