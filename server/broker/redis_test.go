package broker_test

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/parleychat/parley/server/broker"
	"github.com/parleychat/parley/server/broker/brokertest"
	"github.com/parleychat/parley/shared/testenv"
)

var quiet = slog.New(slog.DiscardHandler)

// newRedis returns a broker on url whose channels are private to the
// calling test; it is closed when the test ends.
func newRedis(t testing.TB, url string, opts broker.RedisOptions) *broker.Redis {
	t.Helper()
	opts.URL = url
	if opts.Prefix == "" {
		opts.Prefix = "test:" + t.Name() + ":"
	}
	if opts.Logger == nil {
		opts.Logger = quiet
	}
	b, err := broker.NewRedis(opts)
	if err != nil {
		t.Fatalf("new redis broker: %v", err)
	}
	t.Cleanup(func() { _ = b.Close() })
	return b
}

func TestRedis(t *testing.T) {
	srv := testenv.StartRedis(t)
	brokertest.Run(t, func(t *testing.T) broker.Broker {
		return newRedis(t, srv.URL(), broker.RedisOptions{})
	})
}

func TestRedisCluster(t *testing.T) {
	srv := testenv.StartRedis(t)
	brokertest.RunCluster(t, func(t *testing.T) broker.Broker {
		return newRedis(t, srv.URL(), broker.RedisOptions{PingInterval: 100 * time.Millisecond})
	}, srv)
}

func TestNewRedisRejectsBadURL(t *testing.T) {
	for _, url := range []string{"", "http://127.0.0.1:1", "redis://127.0.0.1:1/notanumber"} {
		if _, err := broker.NewRedis(broker.RedisOptions{URL: url}); err == nil {
			t.Errorf("NewRedis(%q) succeeded", url)
		}
	}
}

// TestRedisOnePubSubConnection: however many rooms a node subscribes, it
// holds one pub/sub connection.
func TestRedisOnePubSubConnection(t *testing.T) {
	srv := testenv.StartRedis(t)
	a := newRedis(t, srv.URL(), broker.RedisOptions{})
	b := newRedis(t, srv.URL(), broker.RedisOptions{})
	brokertest.Start(t, a)
	brokertest.Start(t, b)
	for i := range 100 {
		room := "room-" + string(rune('a'+i%26)) + strings.Repeat("x", i/26)
		brokertest.Subscribe(t, a, room)
		brokertest.Subscribe(t, b, room)
	}
	admin := adminClient(t, srv.URL())
	list, err := admin.Do(context.Background(), "CLIENT", "LIST", "TYPE", "pubsub").Text()
	if err != nil {
		t.Fatalf("client list: %v", err)
	}
	if pubsub := len(strings.Fields(strings.ReplaceAll(list, " ", "_"))); pubsub != 2 {
		t.Fatalf("%d pub/sub connections for 2 nodes, want 2:\n%s", pubsub, list)
	}
}

func adminClient(t testing.TB, url string) *redis.Client {
	t.Helper()
	opt, err := redis.ParseURL(url)
	if err != nil {
		t.Fatalf("parse url: %v", err)
	}
	c := redis.NewClient(opt)
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// TestRedisPublishFailsFast: with Redis down, Publish errs instead of
// hanging, so the hub can deliver locally at once.
func TestRedisPublishFailsFast(t *testing.T) {
	srv := testenv.StartRedis(t)
	b := newRedis(t, srv.URL(), broker.RedisOptions{})
	brokertest.Start(t, b)
	brokertest.Subscribe(t, b, "room")
	srv.Stop()
	for range 3 {
		start := time.Now()
		if err := b.Publish(context.Background(), "room", []byte("x")); err == nil {
			t.Fatal("publish with redis down succeeded")
		}
		t.Logf("publish failed after %v", time.Since(start))
	}
	if err := b.Subscribe(context.Background(), "other"); err == nil {
		t.Fatal("subscribe with redis down succeeded")
	}
	if s := b.Stats(); s.PublishErrors != 3 {
		t.Fatalf("PublishErrors = %d, want 3", s.PublishErrors)
	}
}

// TestRedisDeadConnection: the pub/sub connection stops carrying data
// without breaking (a dropped NAT entry, a frozen peer). Pings go
// unanswered, the read deadline expires, the connection is replaced and
// the loss is reported.
func TestRedisDeadConnection(t *testing.T) {
	srv := testenv.StartRedis(t)
	proxy := startProxy(t, srv.Addr())
	pub := newRedis(t, srv.URL(), broker.RedisOptions{Prefix: "dead:"})
	sub := newRedis(t, "redis://"+proxy.addr()+"/0", broker.RedisOptions{
		Prefix: "dead:", PingInterval: 100 * time.Millisecond,
	})
	brokertest.Start(t, pub)
	rec := brokertest.Start(t, sub)
	brokertest.Subscribe(t, sub, "room")
	brokertest.Publish(t, pub, "room", []byte("before"))
	rec.WaitPayloads(t, "room", 1)

	proxy.freeze()
	brokertest.Publish(t, pub, "room", []byte("lost"))
	rec.WaitInterrupted(t, "room")
	brokertest.Publish(t, pub, "room", []byte("after"))
	got := rec.WaitPayloads(t, "room", 2)
	if string(got[len(got)-1]) != "after" {
		t.Fatalf("got %q, want the last to be after", got)
	}
	s := sub.Stats()
	if s.ReceiveErrors == 0 || s.Interruptions == 0 {
		t.Fatalf("stats %+v: want receive errors and interruptions", s)
	}
}

func TestRedisStats(t *testing.T) {
	srv := testenv.StartRedis(t)
	b := newRedis(t, srv.URL(), broker.RedisOptions{})
	rec := brokertest.Start(t, b)
	before := b.Stats()
	brokertest.Subscribe(t, b, "room")
	for range 10 {
		brokertest.Publish(t, b, "room", []byte("x"))
	}
	rec.WaitPayloads(t, "room", 10)
	s := b.Stats()
	if got := s.Published - before.Published; got != 10 {
		t.Errorf("Published grew by %d, want 10", got)
	}
	if got := s.Delivered - before.Delivered; got != 10 {
		t.Errorf("Delivered grew by %d, want 10", got)
	}
	if s.Interruptions != 0 || s.ReceiveErrors != 0 || s.PublishErrors != 0 {
		t.Errorf("failures counted without failures: %+v", s)
	}
}

// TestRedisSubscribeWithoutRun: nobody reads the confirmation, so
// Subscribe gives up after SubscribeTimeout and the room stays
// unsubscribed.
func TestRedisSubscribeWithoutRun(t *testing.T) {
	srv := testenv.StartRedis(t)
	b := newRedis(t, srv.URL(), broker.RedisOptions{SubscribeTimeout: 100 * time.Millisecond})
	if err := b.Subscribe(context.Background(), "room"); err == nil {
		t.Fatal("subscribe without Run succeeded")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := b.Subscribe(ctx, "room"); err == nil {
		t.Fatal("subscribe with a cancelled context succeeded")
	}
	// Now with Run: the failed attempts left nothing behind.
	rec := brokertest.Start(t, b)
	brokertest.Subscribe(t, b, "room")
	brokertest.Publish(t, b, "room", []byte("x"))
	rec.WaitPayloads(t, "room", 1)
}

func TestRedisRunTwice(t *testing.T) {
	srv := testenv.StartRedis(t)
	b := newRedis(t, srv.URL(), broker.RedisOptions{})
	brokertest.Start(t, b)
	if err := b.Run(context.Background(), brokertest.NewRecorder()); err == nil {
		t.Fatal("second Run succeeded")
	}
}

// TestRedisCloseStopsRun: Close ends Run after pings have run; the
// package's TestMain then finds no goroutine of the broker left.
func TestRedisCloseStopsRun(t *testing.T) {
	srv := testenv.StartRedis(t)
	b, err := broker.NewRedis(broker.RedisOptions{URL: srv.URL(), Logger: quiet, PingInterval: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	rec := brokertest.NewRecorder()
	done := make(chan error, 1)
	go func() { done <- b.Run(context.Background(), rec) }()
	brokertest.Subscribe(t, b, "room")
	brokertest.Publish(t, b, "room", []byte("x"))
	rec.WaitPayloads(t, "room", 1)
	admin := redis.NewClient(&redis.Options{Addr: srv.Addr()})
	defer admin.Close()
	testenv.Eventually(t, 30*time.Second, "the broker pings redis", func() error {
		stats, err := admin.Info(context.Background(), "commandstats").Result()
		if err != nil {
			return err
		}
		if !strings.Contains(stats, "cmdstat_ping:") {
			return errors.New("no PING counted yet")
		}
		return nil
	})
	if err := b.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	if err := <-done; err != nil {
		t.Fatalf("run: %v", err)
	}
}

// proxy forwards TCP connections to a target; freeze makes the current
// connections swallow everything while staying open, new ones work.
type proxy struct {
	t      testing.TB
	ln     net.Listener
	target string
	mu     sync.Mutex
	frozen *atomic.Bool // shared by the connections accepted since the last freeze
	conns  []net.Conn
	wg     sync.WaitGroup
}

func startProxy(t testing.TB, target string) *proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	p := &proxy{t: t, ln: ln, target: target, frozen: new(atomic.Bool)}
	p.wg.Go(p.accept)
	t.Cleanup(p.close)
	return p
}

func (p *proxy) addr() string { return p.ln.Addr().String() }

func (p *proxy) freeze() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.frozen.Store(true)
	p.frozen = new(atomic.Bool)
}

func (p *proxy) accept() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		up, err := net.Dial("tcp", p.target)
		if err != nil {
			_ = c.Close()
			continue
		}
		p.mu.Lock()
		frozen := p.frozen
		p.conns = append(p.conns, c, up)
		p.mu.Unlock()
		p.wg.Go(func() { pipe(up, c, frozen) })
		p.wg.Go(func() { pipe(c, up, frozen) })
	}
}

// pipe copies src to dst, dropping data while frozen.
func pipe(dst, src net.Conn, frozen *atomic.Bool) {
	defer dst.Close()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 && !frozen.Load() {
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

func (p *proxy) close() {
	_ = p.ln.Close()
	p.mu.Lock()
	for _, c := range p.conns {
		_ = c.Close()
	}
	p.mu.Unlock()
	p.wg.Wait()
}

// signaller is a Handler counting deliveries and signalling each one.
type signaller struct {
	n  atomic.Int64
	ch chan struct{}
}

func (s *signaller) Deliver(string, []byte) {
	s.n.Add(1)
	select {
	case s.ch <- struct{}{}:
	default:
	}
}
func (s *signaller) Interrupted([]string) {}

// BenchmarkRedisPublish publishes on one node and receives on another.
// sequential: one publisher, each Publish waits for Redis's reply;
// parallel: 8×GOMAXPROCS publishers; roundtrip: each op waits until the
// other node has the payload (end-to-end latency).
func BenchmarkRedisPublish(b *testing.B) {
	srv := testenv.StartRedis(b)
	payload := make([]byte, 200)
	setup := func(b *testing.B) (pub *broker.Redis, h *signaller) {
		pub = newRedis(b, srv.URL(), broker.RedisOptions{Prefix: "bench:"})
		sub := newRedis(b, srv.URL(), broker.RedisOptions{Prefix: "bench:"})
		h = &signaller{ch: make(chan struct{}, 1)}
		done := make(chan error, 1)
		go func() { done <- sub.Run(context.Background(), h) }()
		b.Cleanup(func() { _ = sub.Close(); <-done })
		brokertest.Subscribe(b, sub, "room")
		return pub, h
	}
	waitDelivered := func(b *testing.B, h *signaller, n int64) {
		deadline := time.Now().Add(30 * time.Second)
		for h.n.Load() < n {
			if time.Now().After(deadline) {
				b.Fatalf("delivered %d of %d", h.n.Load(), n)
			}
			time.Sleep(time.Millisecond)
		}
	}
	ctx := context.Background()
	b.Run("sequential", func(b *testing.B) {
		pub, h := setup(b)
		b.SetBytes(int64(len(payload)))
		b.ReportAllocs()
		start := time.Now()
		var n int64
		for b.Loop() {
			if err := pub.Publish(ctx, "room", payload); err != nil {
				b.Fatal(err)
			}
			n++
		}
		waitDelivered(b, h, n)
		b.ReportMetric(float64(n)/time.Since(start).Seconds(), "msgs/s")
	})
	b.Run("parallel", func(b *testing.B) {
		pub, h := setup(b)
		b.SetBytes(int64(len(payload)))
		b.ReportAllocs()
		var n atomic.Int64
		b.SetParallelism(8) // 8×GOMAXPROCS publishers share the pool
		start := time.Now()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if err := pub.Publish(ctx, "room", payload); err != nil {
					b.Error(err)
					return
				}
				n.Add(1)
			}
		})
		waitDelivered(b, h, n.Load())
		b.ReportMetric(float64(n.Load())/time.Since(start).Seconds(), "msgs/s")
	})
	b.Run("roundtrip", func(b *testing.B) {
		pub, h := setup(b)
		b.ReportAllocs()
		for b.Loop() {
			if err := pub.Publish(ctx, "room", payload); err != nil {
				b.Fatal(err)
			}
			<-h.ch
		}
	})
}
