package presence_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/parleychat/parley/server/presence"
	"github.com/parleychat/parley/server/presence/presencetest"
	"github.com/parleychat/parley/shared/testenv"
)

// Short timings for tests: heartbeat and sweep every 100ms, and a crashed
// node's entries expire after a second. A live node's entries expire only
// if its heartbeat comes 900ms late.
const (
	testHeartbeat = 100 * time.Millisecond
	testTTL       = time.Second
	testSweep     = 100 * time.Millisecond
	// waitTimeout bounds every wait: a guard against hangs on a busy
	// machine, not a performance budget.
	waitTimeout = 30 * time.Second
)

var quiet = slog.New(slog.DiscardHandler)

// newRedis returns a Redis Presence on url whose keys are private to the
// calling test (subtests included), with the test timings unless opts
// sets its own; it is closed when the test ends.
func newRedis(t *testing.T, url string, opts presence.RedisOptions) *presence.Redis {
	t.Helper()
	opts.URL = url
	opts.Prefix = testPrefix(t)
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

func testPrefix(t *testing.T) string { return "test:" + t.Name() + ":" }

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

// TestRedisJoinTwiceLeaveOnce: Redis keeps one entry per (node, room,
// user), so a repeated Join is one Join and one Leave removes it.
func TestRedisJoinTwiceLeaveOnce(t *testing.T) {
	srv := testenv.StartRedis(t)
	p := presencetest.Start(t, newRedis(t, srv.URL(), presence.RedisOptions{}))
	presencetest.Join(t, p, "room", "zoe", "zoe")
	presencetest.WantUsers(t, p, "room", "zoe")
	presencetest.Leave(t, p, "room", "zoe")
	presencetest.WantUsers(t, p, "room")
}

// TestRedisHeartbeatKeepsEntries: while their nodes run, entries are
// renewed and never drop out of the list, for many TTLs.
func TestRedisHeartbeatKeepsEntries(t *testing.T) {
	srv := testenv.StartRedis(t)
	a := presencetest.Start(t, newRedis(t, srv.URL(), presence.RedisOptions{NodeID: "a"}))
	b := presencetest.Start(t, newRedis(t, srv.URL(), presence.RedisOptions{NodeID: "b"}))
	presencetest.Join(t, a, "room", "zoe")
	presencetest.Join(t, b, "room", "bo")
	admin := adminClient(t, srv.URL())
	key := testPrefix(t) + "presence:room"
	members := []string{"a\x00zoe", "b\x00bo"}
	first := make([]time.Time, len(members))
	for i, m := range members {
		first[i] = expiry(t, admin, key, m)
	}
	start := time.Now()
	testenv.Eventually(t, waitTimeout, "both entries to outlive three TTLs", func() error {
		presencetest.WantUsers(t, b, "room", "bo", "zoe")
		for i, m := range members {
			if e, want := expiry(t, admin, key, m), first[i].Add(3*testTTL); e.Before(want) {
				return fmt.Errorf("entry %q expires at %v, want after %v", m, e, want)
			}
		}
		return nil
	})
	t.Logf("entries renewed past three TTLs (%v) after %v", 3*testTTL, time.Since(start))
	if a.Reported("room") || b.Reported("room") {
		t.Fatalf("room reported changed although nobody expired: a %q, b %q", a.Reports(), b.Reports())
	}
}

// TestRedisUsersHidesExpiredEntries: Users leaves out an entry as soon as
// it expires, before any sweep deletes it. No node runs here, so nothing
// renews or sweeps, and the key is made persistent so that only a sweep
// could remove the entry.
func TestRedisUsersHidesExpiredEntries(t *testing.T) {
	srv := testenv.StartRedis(t)
	a := newRedis(t, srv.URL(), presence.RedisOptions{NodeID: "a"})
	b := newRedis(t, srv.URL(), presence.RedisOptions{NodeID: "b"})
	presencetest.Join(t, a, "room", "zoe")
	admin := adminClient(t, srv.URL())
	key := testPrefix(t) + "presence:room"
	if err := admin.Persist(context.Background(), key).Err(); err != nil {
		t.Fatalf("persist %s: %v", key, err)
	}
	start := time.Now()
	testenv.Eventually(t, waitTimeout, "zoe to expire", presencetest.UsersAre(b, "room"))
	t.Logf("entry hidden %v after the join (TTL %v)", time.Since(start), testTTL)
	// The entry is still there (expiry fails the test if not), expired.
	if e := expiry(t, admin, key, "a\x00zoe"); e.After(time.Now()) {
		t.Fatalf("Users hid an entry that expires at %v, in the future", e)
	}
}

// TestRedisExpiredEntriesComeBackReported: a node that stopped
// heartbeating just past the TTL (frozen) finds its entries expired but
// not yet deleted. Its heartbeat brings them back, and it must report its
// rooms, because the other nodes already told their clients those users
// left.
func TestRedisExpiredEntriesComeBackReported(t *testing.T) {
	srv := testenv.StartRedis(t)
	// No sweeps on a: a report can only come from the heartbeat.
	a := newRedis(t, srv.URL(), presence.RedisOptions{NodeID: "a", Heartbeat: testHeartbeat, TTL: testTTL, Sweep: time.Hour})
	b := newRedis(t, srv.URL(), presence.RedisOptions{NodeID: "b"})
	presencetest.Join(t, a, "room", "zoe")
	admin := adminClient(t, srv.URL())
	if err := admin.Persist(context.Background(), testPrefix(t)+"presence:room").Err(); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, waitTimeout, "zoe to expire while a is stopped", presencetest.UsersAre(b, "room"))
	ra := presencetest.Start(t, a) // a thaws: its heartbeat rewrites zoe
	testenv.Eventually(t, waitTimeout, "zoe back", presencetest.UsersAre(b, "room", "zoe"))
	testenv.Eventually(t, waitTimeout, "a to report the room", testenv.Cond(func() bool { return ra.Reported("room") }))
}

// TestRedisSweepDeletesExpired: after a crash, the sweep of a live node
// deletes the dead node's entries (once every node had time to see them
// expire) and keeps its own.
func TestRedisSweepDeletesExpired(t *testing.T) {
	srv := testenv.StartRedis(t)
	a := presencetest.Start(t, newRedis(t, srv.URL(), presence.RedisOptions{NodeID: "a"}))
	b := presencetest.Start(t, newRedis(t, srv.URL(), presence.RedisOptions{NodeID: "b"}))
	presencetest.Join(t, a, "room", "zoe", "bo")
	presencetest.Join(t, b, "room", "bo")
	admin := adminClient(t, srv.URL())
	key := testPrefix(t) + "presence:room"
	a.Crash(t)
	start := time.Now()
	testenv.Eventually(t, waitTimeout, "the dead node's entries to be deleted", func() error {
		got, err := admin.ZRange(context.Background(), key, 0, -1).Result()
		if err != nil {
			return err
		}
		if len(got) != 1 || got[0] != "b\x00bo" {
			return fmt.Errorf("entries %q, want only b's", got)
		}
		return nil
	})
	t.Logf("deleted %v after the crash (TTL %v, sweep %v)", time.Since(start), testTTL, testSweep)
	presencetest.WantUsers(t, b, "room", "bo")
}

// TestRedisRestart: Redis loses everything; the next heartbeats write the
// entries again, including a Join made while Redis was down, and the
// nodes report their rooms.
func TestRedisRestart(t *testing.T) {
	srv := testenv.StartRedis(t)
	a := presencetest.Start(t, newRedis(t, srv.URL(), presence.RedisOptions{}))
	b := presencetest.Start(t, newRedis(t, srv.URL(), presence.RedisOptions{}))
	presencetest.Join(t, a, "room", "zoe")
	presencetest.Join(t, b, "room", "bo")
	srv.Stop()
	if _, err := b.Users(context.Background(), "room"); err == nil {
		t.Fatal("users with redis down succeeded")
	}
	// Desired state: a Join while Redis is down still counts.
	if err := a.Join(context.Background(), "room", "al"); err == nil {
		t.Fatal("join with redis down succeeded")
	}
	srv.Start()
	start := time.Now()
	testenv.Eventually(t, waitTimeout, "entries to come back", presencetest.UsersAre(b, "room", "al", "bo", "zoe"))
	t.Logf("entries back %v after the restart (heartbeat %v)", time.Since(start), testHeartbeat)
	testenv.Eventually(t, waitTimeout, "both nodes to report the room", testenv.Cond(func() bool {
		return a.Reported("room") && b.Reported("room")
	}))
}

// TestRedisManyRooms: a node in more rooms than one script call takes
// renews all of them at every heartbeat, and all of them expire when it
// crashes.
func TestRedisManyRooms(t *testing.T) {
	srv := testenv.StartRedis(t)
	a := presencetest.Start(t, newRedis(t, srv.URL(), presence.RedisOptions{NodeID: "a"}))
	b := presencetest.Start(t, newRedis(t, srv.URL(), presence.RedisOptions{NodeID: "b"}))
	const rooms = 600 // more than two script chunks
	keys := make([]string, rooms)
	for i := range rooms {
		presencetest.Join(t, a, "room-"+strconv.Itoa(i), "zoe")
		keys[i] = testPrefix(t) + "presence:room-" + strconv.Itoa(i)
	}
	presencetest.Join(t, b, "room-0", "bo")
	admin := adminClient(t, srv.URL())
	joined := expiries(t, admin, keys, "a\x00zoe")
	// Every room renewed since the join, all by one heartbeat: their
	// expiries lie within one heartbeat period of each other.
	testenv.Eventually(t, waitTimeout, "one heartbeat to renew every room", func() error {
		renewed := expiries(t, admin, keys, "a\x00zoe")
		for i, e := range renewed {
			if !e.After(joined[i]) {
				return fmt.Errorf("room-%d not renewed since the join", i)
			}
		}
		first, last := slices.MinFunc(renewed, time.Time.Compare), slices.MaxFunc(renewed, time.Time.Compare)
		if spread := last.Sub(first); spread >= testHeartbeat {
			return fmt.Errorf("expiries %v apart: rooms renewed by different heartbeats", spread)
		}
		return nil
	})
	for _, i := range []int{0, 255, 256, 599} {
		want := []string{"zoe"}
		if i == 0 {
			want = []string{"bo", "zoe"}
		}
		presencetest.WantUsers(t, b, "room-"+strconv.Itoa(i), want...)
	}
	a.Crash(t)
	testenv.Eventually(t, waitTimeout, "the last room to empty", presencetest.UsersAre(b, "room-599"))
	testenv.Eventually(t, waitTimeout, "b to report room-0", testenv.Cond(func() bool { return b.Reported("room-0") }))
}

// expiry returns when member of key expires: its score, in Unix ms by the
// Redis server's clock.
func expiry(t *testing.T, admin *redis.Client, key, member string) time.Time {
	t.Helper()
	return expiries(t, admin, []string{key}, member)[0]
}

// expiries returns when member expires in each of keys.
func expiries(t *testing.T, admin *redis.Client, keys []string, member string) []time.Time {
	t.Helper()
	ctx := context.Background()
	pipe := admin.Pipeline()
	cmds := make([]*redis.FloatCmd, len(keys))
	for i, key := range keys {
		cmds[i] = pipe.ZScore(ctx, key, member)
	}
	_, _ = pipe.Exec(ctx) // each command keeps its error
	out := make([]time.Time, len(keys))
	for i, cmd := range cmds {
		score, err := cmd.Result()
		if errors.Is(err, redis.Nil) {
			t.Fatalf("%s has no entry %q", keys[i], member)
		}
		if err != nil {
			t.Fatalf("zscore %s %q: %v", keys[i], member, err)
		}
		out[i] = time.UnixMilli(int64(score))
	}
	return out
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
