package presence_test

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/parleychat/parley/internal/testenv"
	"github.com/parleychat/parley/server/presence"
	"github.com/parleychat/parley/server/presence/presencetest"
)

// Short timings for tests: a dead node's users vanish within 400ms and
// are reported within 500ms.
const (
	testHeartbeat = 100 * time.Millisecond
	testTTL       = 400 * time.Millisecond
	testSweep     = 100 * time.Millisecond
	waitTimeout   = 10 * time.Second
)

var quiet = slog.New(slog.DiscardHandler)

// node is one Presence with its Run and what Run reported.
type node struct {
	*presence.Redis
	cancel context.CancelFunc
	done   chan error

	mu      sync.Mutex
	changed [][]string
}

// newNode returns a running Presence on url with keys private to the
// test; it is closed when the test ends.
func newNode(t *testing.T, url, id string) *node {
	t.Helper()
	p, err := presence.NewRedis(presence.RedisOptions{
		URL: url, Prefix: "test:" + t.Name() + ":", NodeID: id,
		Heartbeat: testHeartbeat, TTL: testTTL, Sweep: testSweep, Logger: quiet,
	})
	if err != nil {
		t.Fatalf("new redis presence: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	n := &node{Redis: p, cancel: cancel, done: make(chan error, 1)}
	go func() { n.done <- p.Run(ctx, n.record) }()
	t.Cleanup(func() {
		cancel()
		if err := p.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
		// ErrClosed: the test ended before Run's goroutine started.
		if err := <-n.done; err != nil && !errors.Is(err, presence.ErrClosed) {
			t.Errorf("run: %v", err)
		}
	})
	return n
}

func (n *node) record(rooms []string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.changed = append(n.changed, slices.Clone(rooms))
}

func (n *node) reported(room string) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return slices.ContainsFunc(n.changed, func(rooms []string) bool { return slices.Contains(rooms, room) })
}

// crash stops n's Run without leaving: its entries are no longer renewed.
func (n *node) crash(t *testing.T) {
	t.Helper()
	n.cancel()
	if err := <-n.done; err != nil {
		t.Fatalf("run: %v", err)
	}
	n.done <- nil // for the cleanup
}

func join(t *testing.T, p presence.Presence, room, user string) {
	t.Helper()
	if err := p.Join(context.Background(), room, user); err != nil {
		t.Fatalf("join %s to %s: %v", user, room, err)
	}
}

func leave(t *testing.T, p presence.Presence, room, user string) {
	t.Helper()
	if err := p.Leave(context.Background(), room, user); err != nil {
		t.Fatalf("leave %s from %s: %v", user, room, err)
	}
}

func users(t *testing.T, p presence.Presence, room string) []string {
	t.Helper()
	got, err := p.Users(context.Background(), room)
	if err != nil {
		t.Fatalf("users of %s: %v", room, err)
	}
	return got
}

func wantUsers(t *testing.T, p presence.Presence, room string, want ...string) {
	t.Helper()
	if want == nil {
		want = []string{}
	}
	if got := users(t, p, room); !slices.Equal(got, want) {
		t.Fatalf("users of %s = %q, want %q", room, got, want)
	}
}

// eventually polls cond until it holds or fails after waitTimeout.
func eventually(t *testing.T, what string, cond func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	for !cond() {
		if time.Since(start) > waitTimeout {
			t.Fatalf("timed out after %v waiting for %s", waitTimeout, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
	return time.Since(start)
}

// newRedis returns a Redis Presence on url whose keys are private to the
// calling test (subtests included); it is closed when the test ends.
func newRedis(t *testing.T, url string, opts presence.RedisOptions) *presence.Redis {
	t.Helper()
	opts.URL = url
	opts.Prefix = "test:" + t.Name() + ":"
	if opts.Heartbeat == 0 {
		opts.Heartbeat, opts.TTL, opts.Sweep = testHeartbeat, testTTL, testSweep
	}
	opts.Logger = quiet
	p, err := presence.NewRedis(opts)
	if err != nil {
		t.Fatalf("new redis presence: %v", err)
	}
	t.Cleanup(func() {
		if err := p.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return p
}

// TestRedis runs the single-node suite. Entries live long (10 s) next to
// the 100 ms heartbeat, so a busy machine cannot expire a live node's
// entries and make Run report a room.
func TestRedis(t *testing.T) {
	srv := testenv.StartRedis(t)
	presencetest.Run(t, func(t *testing.T) presence.Presence {
		return newRedis(t, srv.URL(), presence.RedisOptions{Heartbeat: testHeartbeat, TTL: 10 * time.Second, Sweep: testSweep})
	})
}

// TestRedisCluster runs the multi-node suite, every node on one server
// with keys private to the subtest.
func TestRedisCluster(t *testing.T) {
	srv := testenv.StartRedis(t)
	presencetest.RunCluster(t, func(t *testing.T) presence.Presence {
		return newRedis(t, srv.URL(), presence.RedisOptions{})
	})
}

func usersAre(t *testing.T, p presence.Presence, room string, want ...string) func() bool {
	return func() bool { return slices.Equal(users(t, p, room), want) }
}

// TestRedisJoinLeaveIdempotent: the hub calls each once per (node, room,
// user), but a repeat must not double-count.
func TestRedisJoinLeaveIdempotent(t *testing.T) {
	srv := testenv.StartRedis(t)
	a := newNode(t, srv.URL(), "a")
	join(t, a, "room", "zoe")
	join(t, a, "room", "zoe")
	wantUsers(t, a, "room", "zoe")
	leave(t, a, "room", "zoe")
	wantUsers(t, a, "room")
	leave(t, a, "room", "zoe")
	leave(t, a, "never", "zoe")
	wantUsers(t, a, "room")
}

// TestRedisHeartbeatKeepsEntries: entries outlive many TTLs while their
// node runs.
func TestRedisHeartbeatKeepsEntries(t *testing.T) {
	srv := testenv.StartRedis(t)
	a, b := newNode(t, srv.URL(), "a"), newNode(t, srv.URL(), "b")
	join(t, a, "room", "zoe")
	join(t, b, "room", "bo")
	deadline := time.Now().Add(4 * testTTL)
	for time.Now().Before(deadline) {
		wantUsers(t, b, "room", "bo", "zoe")
		time.Sleep(testHeartbeat / 2)
	}
	if a.reported("room") || b.reported("room") {
		t.Fatal("room reported changed although nobody expired")
	}
}

// TestRedisCrashedNodeExpires: a node stops without leaving; within TTL
// its users vanish, and every node with users in the room is told.
func TestRedisCrashedNodeExpires(t *testing.T) {
	srv := testenv.StartRedis(t)
	a := newNode(t, srv.URL(), "a")
	b, c := newNode(t, srv.URL(), "b"), newNode(t, srv.URL(), "c")
	join(t, a, "room", "zoe")
	join(t, a, "room", "bo") // also on b: stays
	join(t, b, "room", "bo")
	join(t, c, "room", "cy")
	join(t, c, "elsewhere", "cy")
	wantUsers(t, b, "room", "bo", "cy", "zoe")

	a.crash(t)
	took := eventually(t, "zoe to expire", usersAre(t, b, "room", "bo", "cy"))
	t.Logf("crashed node's user gone after %v (TTL %v)", took, testTTL)
	took = eventually(t, "b and c to report the room", func() bool {
		return b.reported("room") && c.reported("room")
	})
	t.Logf("reported %v later (sweep %v)", took, testSweep)
	if c.reported("elsewhere") {
		t.Fatal("room without expiries reported")
	}
	// The expired entries are deleted after the grace period.
	admin := adminClient(t, srv.URL())
	key := "test:" + t.Name() + ":presence:room"
	eventually(t, "expired entries to be deleted", func() bool {
		n, err := admin.ZCard(context.Background(), key).Result()
		return err == nil && n == 2
	})
}

// TestRedisRestart: Redis loses everything; the next heartbeats write the
// entries again and the nodes report their rooms.
func TestRedisRestart(t *testing.T) {
	srv := testenv.StartRedis(t)
	a, b := newNode(t, srv.URL(), "a"), newNode(t, srv.URL(), "b")
	join(t, a, "room", "zoe")
	join(t, b, "room", "bo")
	srv.Stop()
	if _, err := b.Users(context.Background(), "room"); err == nil {
		t.Fatal("users with redis down succeeded")
	}
	// Desired state: a Join while Redis is down still counts.
	if err := a.Join(context.Background(), "room", "al"); err == nil {
		t.Fatal("join with redis down succeeded")
	}
	srv.Start()
	took := eventually(t, "entries to come back", func() bool {
		got, err := b.Users(context.Background(), "room")
		return err == nil && slices.Equal(got, []string{"al", "bo", "zoe"})
	})
	t.Logf("entries back %v after the restart (heartbeat %v)", took, testHeartbeat)
	eventually(t, "both nodes to report the room", func() bool {
		return a.reported("room") && b.reported("room")
	})
}

func TestRedisManyRooms(t *testing.T) {
	srv := testenv.StartRedis(t)
	a, b := newNode(t, srv.URL(), "a"), newNode(t, srv.URL(), "b")
	const rooms = 600 // more than one script chunk
	for i := range rooms {
		join(t, a, "room-"+strconv.Itoa(i), "zoe")
	}
	join(t, b, "room-0", "bo")
	time.Sleep(2 * testHeartbeat) // heartbeats over several chunks
	for _, i := range []int{0, 255, 256, 599} {
		want := []string{"zoe"}
		if i == 0 {
			want = []string{"bo", "zoe"}
		}
		wantUsers(t, b, "room-"+strconv.Itoa(i), want...)
	}
	a.crash(t)
	eventually(t, "the last room to empty", usersAre(t, b, "room-599"))
	eventually(t, "b to report room-0", func() bool { return b.reported("room-0") })
}

func TestNewRedisOptions(t *testing.T) {
	bad := []presence.RedisOptions{
		{},
		{URL: "http://x"},
		{URL: "redis://127.0.0.1:1/0", NodeID: "a\x00b"},
		{URL: "redis://127.0.0.1:1/0", Heartbeat: time.Second, TTL: time.Second},
	}
	for _, o := range bad {
		if _, err := presence.NewRedis(o); err == nil {
			t.Errorf("NewRedis(%+v) succeeded", o)
		}
	}
	p, err := presence.NewRedis(presence.RedisOptions{URL: "redis://127.0.0.1:1/0"})
	if err != nil {
		t.Fatalf("defaults: %v", err)
	}
	defer p.Close()
	if len(p.NodeID()) != 16 {
		t.Fatalf("default node ID %q", p.NodeID())
	}
}

func adminClient(t *testing.T, url string) *redis.Client {
	t.Helper()
	opt, err := redis.ParseURL(url)
	if err != nil {
		t.Fatalf("parse url: %v", err)
	}
	c := redis.NewClient(opt)
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// BenchmarkRedisPresence measures Join+Leave of one user and Users of a
// room with 100 users on two nodes.
func BenchmarkRedisPresence(b *testing.B) {
	srv := testenv.StartRedis(b)
	ctx := context.Background()
	newP := func(id string) *presence.Redis {
		p, err := presence.NewRedis(presence.RedisOptions{URL: srv.URL(), Prefix: "bench:", NodeID: id, Logger: quiet})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { _ = p.Close() })
		return p
	}
	a, c := newP("a"), newP("c")
	for i := range 100 {
		p := a
		if i%2 == 1 {
			p = c
		}
		if err := p.Join(ctx, "big", "user-"+strconv.Itoa(i)); err != nil {
			b.Fatal(err)
		}
	}
	b.Run("join+leave", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if err := a.Join(ctx, "room", "zoe"); err != nil {
				b.Fatal(err)
			}
			if err := a.Leave(ctx, "room", "zoe"); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("users-100", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			got, err := c.Users(ctx, "big")
			if err != nil || len(got) != 100 {
				b.Fatalf("users = %d, %v", len(got), err)
			}
		}
	})
}
