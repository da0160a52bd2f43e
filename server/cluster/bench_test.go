package cluster_test

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parleychat/parley/shared/protocol"
)

var (
	benchClients = flag.Int("cluster.clients", 1000, "BenchmarkClusterFanout: WebSocket clients, spread over the nodes")
	benchRooms   = flag.Int("cluster.rooms", 10, "BenchmarkClusterFanout: rooms; client i is in room i%rooms")
	benchWindow  = flag.Int("cluster.window", 200, "BenchmarkClusterFanout/throughput: messages in flight (not yet delivered to every subscriber)")
	benchRate    = flag.Int("cluster.rate", 100, "BenchmarkClusterFanout/latency: messages per second")
)

// BenchmarkClusterFanout measures a 3-node cluster (real processes, Redis,
// PostgreSQL) with -cluster.clients WebSocket clients spread round-robin
// over the nodes and -cluster.rooms rooms. One op is one message: stored,
// published and delivered to every subscriber of its room (clients/rooms
// of them). Latency is from the sender writing the frame to a subscriber
// on another node reading it, all in this process.
//
//   - throughput: messages are sent as fast as the cluster delivers them,
//     with -cluster.window in flight: msgs/s and deliveries/s are what the
//     cluster sustains without growing queues; latency is under that load.
//   - latency: messages at a steady -cluster.rate per second.
func BenchmarkClusterFanout(b *testing.B) {
	c := startCluster(b, options{nodes: 3, logLevel: "warn"})
	f := newFanout(b, c, *benchClients, *benchRooms)
	f.settle(b)
	b.Run("throughput", func(b *testing.B) {
		res := f.run(b, b.N, *benchWindow, 0)
		b.ReportMetric(float64(b.N)/res.elapsed.Seconds(), "msgs/s")
		b.ReportMetric(float64(res.deliveries)/res.elapsed.Seconds(), "deliveries/s")
		res.report(b)
	})
	b.Run("latency", func(b *testing.B) {
		res := f.run(b, b.N, 0, *benchRate)
		res.report(b)
	})
}

// fanout is the benchmark's set of raw clients.
type fanout struct {
	nodes   int
	rooms   []string
	members []int // subscribers per room
	readers []*benchReader
	cur     atomic.Pointer[benchRun]
	stop    context.CancelFunc
	wg      sync.WaitGroup
}

// benchReader is one client and what its reader goroutine measured.
type benchReader struct {
	rc   *rawClient
	node int // index of its node
	room int

	mu     sync.Mutex
	cross  []time.Duration // latencies from senders on other nodes
	local  []time.Duration // latencies from senders on its own node
	closed error           // why the connection ended early
}

// benchRun is one measured run: seq → subscribers still to receive it.
type benchRun struct {
	id        int64
	remaining []atomic.Int32
	left      atomic.Int64
	slots     chan struct{} // window of messages in flight (nil: none)
	done      chan struct{} // closed when every message reached everyone
}

func newFanout(b *testing.B, c *cluster, clients, rooms int) *fanout {
	b.Helper()
	f := &fanout{members: make([]int, rooms), nodes: len(c.nodes)}
	for i := range rooms {
		f.rooms = append(f.rooms, fmt.Sprintf("bench%d", i))
	}
	// Room creation is rate limited per user (burst 10): one creator per 10.
	for i := 0; i < rooms; i += 10 {
		createRooms(b, c.nodes[0].URL, c.token(fmt.Sprintf("benchadmin%d", i/10)), f.rooms[i:min(i+10, rooms)]...)
	}

	start := time.Now()
	f.readers = make([]*benchReader, clients)
	errs := make([]error, clients)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var wg sync.WaitGroup
	sem := make(chan struct{}, 32)
	for i := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			n := c.nodes[i%len(c.nodes)]
			rc, err := dialRaw(ctx, n.WSURL(), c.token(fmt.Sprintf("bench%04d", i)), nil)
			if err != nil {
				errs[i] = err
				return
			}
			f.readers[i] = &benchReader{rc: rc, node: i % len(c.nodes), room: i % rooms}
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		for _, r := range f.readers {
			if r != nil {
				r.rc.close()
			}
		}
		b.Fatal(err)
	}
	rctx, stop := context.WithCancel(context.Background())
	f.stop = stop
	b.Cleanup(f.close)
	subscribed := make(chan struct{}, clients)
	for _, r := range f.readers {
		f.members[r.room]++
		f.wg.Add(1)
		go func() {
			defer f.wg.Done()
			f.read(rctx, r, subscribed)
		}()
	}
	for _, r := range f.readers {
		if err := r.rc.write(ctx, protocol.Frame{Type: protocol.TypeSubscribe, Room: f.rooms[r.room]}); err != nil {
			b.Fatal(err)
		}
	}
	f.awaitSubscribed(b, ctx, subscribed, clients)
	f.wg.Add(1)
	go func() {
		defer f.wg.Done()
		f.ping(rctx)
	}()
	b.Logf("%d clients on %d nodes in %d rooms connected and subscribed in %v",
		clients, len(c.nodes), rooms, time.Since(start).Round(time.Millisecond))
	return f
}

// settle sends one message per (node, room) pair until a round reaches
// every subscriber within settleLatency, so that the runs measure the
// steady state rather than the aftermath of a thousand joins.
func (f *fanout) settle(b *testing.B) {
	b.Helper()
	const settleLatency = 500 * time.Millisecond
	start := time.Now()
	pairs := min(len(f.readers), f.nodes*len(f.rooms))
	for round := 1; ; round++ {
		res := f.run(b, pairs, 0, 0)
		worst := percentile(append(res.cross, res.local...), 100)
		if worst < settleLatency {
			b.Logf("settled after %d rounds, %v", round, time.Since(start).Round(time.Millisecond))
			return
		}
		if time.Since(start) > time.Minute {
			b.Fatalf("cluster not settled after %v: a round still took %v", time.Since(start), worst)
		}
		b.Logf("settle round %d: slowest delivery %v", round, worst.Round(time.Millisecond))
	}
}

// awaitSubscribed waits for n subscribed frames.
func (f *fanout) awaitSubscribed(b *testing.B, ctx context.Context, subscribed <-chan struct{}, n int) {
	b.Helper()
	for i := range n {
		select {
		case <-subscribed:
		case <-ctx.Done():
			b.Fatalf("only %d of %d clients subscribed in time; %v", i, n, f.failures())
		}
	}
}

func (f *fanout) close() {
	f.stop()
	for _, r := range f.readers {
		r.rc.close()
	}
	f.wg.Wait()
}

// ping keeps every client alive past the node's idle timeout.
func (f *fanout) ping(ctx context.Context) {
	tick := time.NewTicker(protocol.PingInterval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		for _, r := range f.readers {
			_ = r.rc.write(ctx, protocol.Frame{Type: protocol.TypePing, ID: "p"})
		}
	}
}

// read is a client's reader goroutine: it counts the current run's
// messages and records their latency.
func (f *fanout) read(ctx context.Context, r *benchReader, subscribed chan<- struct{}) {
	for {
		fr, err := r.rc.read(ctx)
		if err != nil {
			if ctx.Err() == nil {
				r.mu.Lock()
				r.closed = err
				r.mu.Unlock()
			}
			return
		}
		switch fr.Type {
		case protocol.TypeSubscribed:
			subscribed <- struct{}{}
		case protocol.TypeMsg:
			f.received(r, fr.Msg.Body, time.Now())
		case protocol.TypeError:
			r.mu.Lock()
			r.closed = fmt.Errorf("error frame: %s: %s", fr.Code, fr.Message)
			r.mu.Unlock()
		}
	}
}

// Body of a benchmark message: run id, sequence number, sender's node,
// send time (Unix nanoseconds).
func benchBody(run int64, seq, node int, sent time.Time) string {
	return fmt.Sprintf("%d %d %d %d", run, seq, node, sent.UnixNano())
}

func (f *fanout) received(r *benchReader, body string, now time.Time) {
	fields := strings.Fields(body)
	if len(fields) != 4 {
		return
	}
	run := f.cur.Load()
	id, _ := strconv.ParseInt(fields[0], 10, 64)
	if run == nil || id != run.id {
		return
	}
	seq, _ := strconv.Atoi(fields[1])
	node, _ := strconv.Atoi(fields[2])
	ns, _ := strconv.ParseInt(fields[3], 10, 64)
	lat := now.Sub(time.Unix(0, ns))
	r.mu.Lock()
	if node == r.node {
		r.local = append(r.local, lat)
	} else {
		r.cross = append(r.cross, lat)
	}
	r.mu.Unlock()
	if seq < 0 || seq >= len(run.remaining) {
		return
	}
	if run.remaining[seq].Add(-1) == 0 {
		if run.slots != nil {
			run.slots <- struct{}{}
		}
		if run.left.Add(-1) == 0 {
			close(run.done)
		}
	}
}

// runResult is what one run measured.
type runResult struct {
	elapsed      time.Duration
	deliveries   int
	cross, local []time.Duration
}

// run sends n messages, client i%clients sending message i to its room,
// either keeping window messages in flight or at rate per second, and
// waits until every subscriber has every message.
func (f *fanout) run(b *testing.B, n, window, rate int) runResult {
	b.Helper()
	run := &benchRun{id: time.Now().UnixNano(), remaining: make([]atomic.Int32, n), done: make(chan struct{})}
	deliveries := 0
	for seq := range n {
		k := f.members[f.readers[seq%len(f.readers)].room]
		run.remaining[seq].Store(int32(k))
		deliveries += k
	}
	run.left.Store(int64(n))
	if window > 0 {
		run.slots = make(chan struct{}, window)
		for range window {
			run.slots <- struct{}{}
		}
	}
	f.harvest() // drop anything left from an earlier run
	f.cur.Store(run)
	defer f.cur.Store(nil)

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	var tick *time.Ticker
	if rate > 0 {
		tick = time.NewTicker(time.Second / time.Duration(rate))
		defer tick.Stop()
	}
	b.ResetTimer()
	start := time.Now()
	for seq := range n {
		switch {
		case run.slots != nil:
			if !f.wait(ctx, run.slots) {
				b.Fatalf("message %d: window never opened: %s", seq, f.status(run))
			}
		case tick != nil && seq > 0:
			<-tick.C
		}
		r := f.readers[seq%len(f.readers)]
		frame := protocol.Frame{Type: protocol.TypeSend, Room: f.rooms[r.room], CID: fmt.Sprintf("%d-%d", run.id, seq), Body: benchBody(run.id, seq, r.node, time.Now())}
		if err := r.rc.write(ctx, frame); err != nil {
			b.Fatalf("send message %d: %v", seq, err)
		}
	}
	select {
	case <-run.done:
	case <-time.After(2 * time.Minute):
		b.Fatalf("not every message was delivered: %s", f.status(run))
	}
	elapsed := time.Since(start)
	b.StopTimer()
	cross, local := f.harvest()
	if err := f.failures(); err != nil {
		b.Fatal(err)
	}
	return runResult{elapsed: elapsed, deliveries: deliveries, cross: cross, local: local}
}

func (f *fanout) wait(ctx context.Context, slots chan struct{}) bool {
	select {
	case <-slots:
		return true
	case <-ctx.Done():
		return false
	}
}

// status describes an incomplete run.
func (f *fanout) status(run *benchRun) string {
	missing := 0
	for i := range run.remaining {
		missing += int(run.remaining[i].Load())
	}
	return fmt.Sprintf("%d messages not delivered everywhere, %d deliveries missing; %v", run.left.Load(), missing, f.failures())
}

// harvest collects and resets every reader's latencies.
func (f *fanout) harvest() (cross, local []time.Duration) {
	for _, r := range f.readers {
		r.mu.Lock()
		cross = append(cross, r.cross...)
		local = append(local, r.local...)
		r.cross, r.local = r.cross[:0], r.local[:0]
		r.mu.Unlock()
	}
	return cross, local
}

// failures reports clients whose connection ended or that got an error.
func (f *fanout) failures() error {
	var errs []error
	for i, r := range f.readers {
		r.mu.Lock()
		if r.closed != nil {
			errs = append(errs, fmt.Errorf("client %d on node %d: %w", i, r.node+1, r.closed))
		}
		r.mu.Unlock()
		if len(errs) >= 5 {
			break
		}
	}
	return errors.Join(errs...)
}

// report adds latency percentiles as metrics.
func (res runResult) report(b *testing.B) {
	if len(res.cross) > 0 {
		b.ReportMetric(ms(percentile(res.cross, 50)), "p50-ms")
		b.ReportMetric(ms(percentile(res.cross, 99)), "p99-ms")
		b.ReportMetric(ms(percentile(res.cross, 100)), "max-ms")
	}
	if len(res.local) > 0 {
		b.ReportMetric(ms(percentile(res.local, 50)), "same-node-p50-ms")
	}
}

func percentile(d []time.Duration, p int) time.Duration {
	slices.Sort(d)
	i := (len(d)*p + 99) / 100
	return d[max(0, min(len(d)-1, i-1))]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
