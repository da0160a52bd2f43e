package cluster_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parleychat/parley/shared/protocol"
	"github.com/parleychat/parley/shared/testenv"
)

var (
	idleConns = flag.Int("idle.conns", 5000, "BenchmarkIdleConnections: idle WebSocket connections on the node")
	idleRooms = flag.Int("idle.rooms", 10, "BenchmarkIdleConnections: rooms; connection i subscribes to room i%rooms")
	idleDelta = flag.Bool("idle.delta", true, "BenchmarkIdleConnections: connections ask for presence_delta, as shared/client does")
)

const (
	// idlePerSource is how many connections leave from one loopback
	// source address, so the benchmark never runs short of ephemeral
	// ports on 127.0.0.1, which other processes share.
	idlePerSource = 500
	// churnRoom holds large messages whose history pages make the node
	// allocate, and so collect garbage, on demand.
	churnRoom    = "idlechurn"
	churnWriters = 5  // users storing churnRoom's messages
	churnPerUser = 40 // messages each: the per-connection send burst
	// churnBytesPerMsg is roughly what one history message of churnRoom
	// makes the node allocate (row, frame encoding); it only sizes steps.
	churnBytesPerMsg = 40 << 10
)

// BenchmarkIdleConnections measures what an idle connection costs a node:
// one node process (Redis, PostgreSQL) gets -idle.conns authenticated
// WebSocket connections, each of its own user and subscribed to one of
// -idle.rooms rooms, which then stay idle (a ping every
// protocol.PingInterval, as real clients send). The node's /metrics is
// read before the connections (after a warm-up: one connection per room,
// then closed) and after, each time just after a garbage collection, and
// the differences are divided by the number of connections:
//
//   - B/conn-heap+stack: go_memstats_heap_inuse_bytes +
//     go_memstats_stack_inuse_bytes, what the connections keep alive;
//   - B/conn-heap and B/conn-stack: the two parts;
//   - B/conn-objects: go_memstats_heap_alloc_bytes, the live objects
//     alone (the rest of B/conn-heap is free space in partly used spans);
//   - B/conn-rss: process_resident_memory_bytes; it includes the heap
//     headroom the Go collector grows into (GOGC=100: up to the live heap
//     again), which the forced collection below makes the node use;
//   - goroutines/conn: go_goroutines.
//
// The node has no endpoint to force a collection, and none is added for
// a benchmark: instead a client asks for pages of large stored messages
// until the node has completed two collections (two, so that objects with
// finalizers, such as closed connections, are gone too), asking for
// smaller pages as the heap nears its goal so that little garbage made
// after the last collection is counted. The same is done before and after,
// so what is left over mostly cancels out.
//
// One run is one measurement; b.N > 1 measures the same connections
// again. ns/op is not reported: the run's time is mostly setup.
func BenchmarkIdleConnections(b *testing.B) {
	conns, rooms := *idleConns, *idleRooms
	if conns < 1 || rooms < 1 {
		b.Fatalf("-idle.conns (%d) and -idle.rooms (%d) must be positive", conns, rooms)
	}
	start := time.Now()
	c := startCluster(b, options{nodes: 1, logLevel: "warn"})
	ib := newIdleBench(b, c, rooms)
	ib.warmUp(b)
	before := ib.measure(b)
	setup := time.Now()
	ib.connect(b, conns)
	b.Logf("%d connections in %d rooms connected and subscribed in %v; they have read %d frames",
		conns, rooms, time.Since(setup).Round(time.Millisecond), ib.framesRead())
	var after nodeMemory
	for range b.N {
		after = ib.measure(b)
	}
	if err := ib.failures(); err != nil {
		b.Fatal(err)
	}
	if got := int(after.connections - before.connections); got != conns {
		b.Fatalf("node counts %d more connections, want %d", got, conns)
	}
	reportIdle(b, before, after, conns)
	b.Logf("whole run %v; the idle connections read %d frames, %d bytes in all (presence updates after the joins; presence_delta %v)",
		time.Since(start).Round(time.Millisecond), ib.framesRead(), ib.bytesRead(), *idleDelta)
}

// nodeMemory is what the node's /metrics said at one moment.
type nodeMemory struct {
	heapInuse   float64 // go_memstats_heap_inuse_bytes
	stackInuse  float64 // go_memstats_stack_inuse_bytes
	heapAlloc   float64 // go_memstats_heap_alloc_bytes
	nextGC      float64 // go_memstats_next_gc_bytes
	rss         float64 // process_resident_memory_bytes
	goroutines  float64 // go_goroutines
	gcCycles    float64 // go_gc_duration_seconds_count
	connections float64 // parley_connections

	rssBeforeGC float64 // process_resident_memory_bytes before forceGC
}

func (m nodeMemory) String() string {
	return fmt.Sprintf("heap inuse %.1f MiB (objects %.1f MiB), stack inuse %.1f MiB, rss %.1f MiB (%.1f MiB before the collections), %.0f goroutines, %.0f connections",
		mib(m.heapInuse), mib(m.heapAlloc), mib(m.stackInuse), mib(m.rss), mib(m.rssBeforeGC), m.goroutines, m.connections)
}

func mib(v float64) float64 { return v / (1 << 20) }

// reportIdle reports the per-connection differences and logs the totals.
func reportIdle(b *testing.B, before, after nodeMemory, conns int) {
	per := func(f func(nodeMemory) float64) float64 { return (f(after) - f(before)) / float64(conns) }
	heap := per(func(m nodeMemory) float64 { return m.heapInuse })
	stack := per(func(m nodeMemory) float64 { return m.stackInuse })
	b.ReportMetric(0, "ns/op")
	b.ReportMetric(heap+stack, "B/conn-heap+stack")
	b.ReportMetric(heap, "B/conn-heap")
	b.ReportMetric(stack, "B/conn-stack")
	b.ReportMetric(per(func(m nodeMemory) float64 { return m.heapAlloc }), "B/conn-objects")
	b.ReportMetric(per(func(m nodeMemory) float64 { return m.rss }), "B/conn-rss")
	b.ReportMetric(per(func(m nodeMemory) float64 { return m.goroutines }), "goroutines/conn")
	b.Logf("before: %v", before)
	b.Logf("after:  %v", after)
}

// idleBench is the benchmark's node and clients.
type idleBench struct {
	c     *cluster
	n     *node
	rooms []string

	// mu keeps measurements and ping rounds apart, and guards the
	// fields below.
	mu       sync.Mutex
	churn    *rawClient // asks for churnRoom's history
	churnSeq int
	idle     []*idleConn // the idle connections

	stopPing context.CancelFunc
	pingDone chan struct{}
}

func newIdleBench(b *testing.B, c *cluster, rooms int) *idleBench {
	b.Helper()
	ib := &idleBench{c: c, n: c.nodes[0], pingDone: make(chan struct{})}
	for i := range rooms {
		ib.rooms = append(ib.rooms, fmt.Sprintf("idle%d", i))
	}
	all := append([]string{churnRoom}, ib.rooms...)
	// Room creation is rate limited per user (burst 10): one creator per 10.
	for i := 0; i < len(all); i += 10 {
		createRooms(b, ib.n.URL, c.token(fmt.Sprintf("idleadmin%d", i/10)), all[i:min(i+10, len(all))]...)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := ib.fillChurnRoom(ctx); err != nil {
		b.Fatal(err)
	}
	rc, err := dialRaw(ctx, ib.n.WSURL(), c.token("idlechurn"), nil)
	if err != nil {
		b.Fatal(err)
	}
	ib.churn = rc
	pctx, stop := context.WithCancel(context.Background())
	ib.stopPing = stop
	go func() {
		defer close(ib.pingDone)
		ib.ping(pctx)
	}()
	b.Cleanup(ib.close)
	return ib
}

// close stops the pinger, then the node (a SIGKILL, so that it does not
// spend the cleanup unsubscribing thousands of clients), then the clients.
func (ib *idleBench) close() {
	ib.stopPing()
	<-ib.pingDone
	ib.n.Kill()
	ib.mu.Lock()
	defer ib.mu.Unlock()
	var wg sync.WaitGroup
	for _, ic := range ib.idle {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ic.stop()
		}()
	}
	wg.Wait()
	ib.churn.close()
}

// fillChurnRoom stores churnWriters*churnPerUser messages of the largest
// body allowed in churnRoom.
func (ib *idleBench) fillChurnRoom(ctx context.Context) error {
	body := strings.Repeat("€", protocol.MaxBodyRunes) // 3 bytes each
	errs := make([]error, churnWriters)
	var wg sync.WaitGroup
	for w := range churnWriters {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[w] = ib.writeChurn(ctx, fmt.Sprintf("idlewriter%d", w), body)
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// writeChurn sends churnPerUser messages as user and waits for their acks.
func (ib *idleBench) writeChurn(ctx context.Context, user, body string) error {
	rc, err := dialRaw(ctx, ib.n.WSURL(), ib.c.token(user), nil)
	if err != nil {
		return err
	}
	defer rc.close()
	for i := range churnPerUser {
		f := protocol.Frame{Type: protocol.TypeSend, Room: churnRoom, CID: user + "-" + strconv.Itoa(i), Body: body}
		if err := rc.write(ctx, f); err != nil {
			return err
		}
	}
	for acks := 0; acks < churnPerUser; {
		f, err := rc.read(ctx)
		if err != nil {
			return fmt.Errorf("fill %s: %w", churnRoom, err)
		}
		switch f.Type {
		case protocol.TypeAck:
			acks++
		case protocol.TypeError:
			return fmt.Errorf("fill %s: error frame %s: %s", churnRoom, f.Code, f.Message)
		}
	}
	return nil
}

// warmUp subscribes one connection to each room and closes them again,
// then has the node collect garbage once, so that the first measurement
// finds code paths, pools and buffers already in use.
func (ib *idleBench) warmUp(b *testing.B) {
	b.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var warm []*idleConn
	for i, room := range ib.rooms {
		ic, err := dialIdle(ctx, ib.n.WSURL(), ib.c.token(fmt.Sprintf("idlewarm%d", i)), room, nil)
		if err != nil {
			b.Fatal(err)
		}
		warm = append(warm, ic)
	}
	testenv.Eventually(b, waitTimeout, "warm-up connections subscribed", func() error {
		return allSubscribed(warm)
	})
	for _, ic := range warm {
		ic.stop()
	}
	testenv.Eventually(b, waitTimeout, "warm-up connections gone", func() error {
		m, err := scrapeMemory(ctx, ib.n.URL)
		if err != nil {
			return err
		}
		if m.connections != 1 {
			return fmt.Errorf("node has %.0f connections, want 1 (the churn client)", m.connections)
		}
		return nil
	})
	ib.mu.Lock()
	defer ib.mu.Unlock()
	ib.forceGC(b)
}

// connect opens n connections, connection i as user idle<i> subscribed to
// room i%rooms, and waits until every one is subscribed.
func (ib *idleBench) connect(b *testing.B, n int) {
	b.Helper()
	tokens := make([]string, n)
	for i := range tokens {
		tokens[i] = ib.c.token(fmt.Sprintf("idle%05d", i))
	}
	clients := make([]*http.Client, (n+idlePerSource-1)/idlePerSource)
	for i := range clients {
		clients[i] = loopbackClient()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	conns := make([]*idleConn, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	sem := make(chan struct{}, 32)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			conns[i], errs[i] = dialIdle(ctx, ib.n.WSURL(), tokens[i], ib.rooms[i%len(ib.rooms)], clients[i/idlePerSource])
		}()
	}
	wg.Wait()
	ib.mu.Lock()
	for _, ic := range conns {
		if ic != nil {
			ib.idle = append(ib.idle, ic)
		}
	}
	ib.mu.Unlock()
	if err := errors.Join(errs...); err != nil {
		b.Fatal(err)
	}
	testenv.Eventually(b, waitTimeout, "every connection subscribed", func() error {
		return allSubscribed(conns)
	})
}

// ping keeps the idle connections past the node's idle timeout, as real
// clients do, should a run take that long.
func (ib *idleBench) ping(ctx context.Context) {
	tick := time.NewTicker(protocol.PingInterval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		ib.mu.Lock()
		_ = ib.churn.write(ctx, protocol.Frame{Type: protocol.TypePing, ID: "p"})
		for _, ic := range ib.idle {
			_ = ic.rc.write(ctx, protocol.Frame{Type: protocol.TypePing, ID: "p"})
		}
		ib.mu.Unlock()
	}
}

// failures reports the first connections that ended or got an error.
func (ib *idleBench) failures() error {
	ib.mu.Lock()
	defer ib.mu.Unlock()
	var errs []error
	for i, ic := range ib.idle {
		if err := ic.failure(); err != nil {
			errs = append(errs, fmt.Errorf("connection %d: %w", i, err))
		}
		if len(errs) == 5 {
			break
		}
	}
	return errors.Join(errs...)
}

// measure waits until the node has stopped sending to the idle
// connections, has it collect garbage and reads its metrics.
func (ib *idleBench) measure(b *testing.B) nodeMemory {
	b.Helper()
	ib.mu.Lock()
	defer ib.mu.Unlock()
	ib.quiesce(b)
	idle := ib.scrape(b)
	ib.forceGC(b)
	time.Sleep(300 * time.Millisecond) // let the sweeper return freed spans
	m := ib.scrape(b)
	m.rssBeforeGC = idle.rss
	return m
}

// scrape reads the node's metrics or fails the benchmark.
func (ib *idleBench) scrape(b *testing.B) nodeMemory {
	b.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	m, err := scrapeMemory(ctx, ib.n.URL)
	if err != nil {
		b.Fatal(err)
	}
	return m
}

// framesRead is the number of frames the idle connections have read.
func (ib *idleBench) framesRead() int {
	ib.mu.Lock()
	defer ib.mu.Unlock()
	return ib.framesReadLocked()
}

// bytesRead is the number of bytes the idle connections have read.
func (ib *idleBench) bytesRead() int64 {
	ib.mu.Lock()
	defer ib.mu.Unlock()
	var sum int64
	for _, ic := range ib.idle {
		sum += ic.bytes.Load()
	}
	return sum
}

func (ib *idleBench) framesReadLocked() int {
	sum := 0
	for _, ic := range ib.idle {
		sum += int(ic.frames.Load())
	}
	return sum
}

// quiesce waits until no idle connection has received a frame for a
// second (presence updates after the joins); callers hold mu.
func (ib *idleBench) quiesce(b *testing.B) {
	b.Helper()
	total := ib.framesReadLocked
	deadline := time.Now().Add(time.Minute)
	last, since := total(), time.Now()
	for time.Since(since) < time.Second {
		if time.Now().After(deadline) {
			b.Fatalf("the node still sends to idle connections after %v", time.Minute)
		}
		time.Sleep(100 * time.Millisecond)
		if now := total(); now != last {
			last, since = now, time.Now()
		}
	}
}

// forceGC makes the node allocate, by asking for history pages of
// churnRoom, until it has completed two garbage collections. The pages
// shrink as the heap nears the collector's goal, so that little of the
// churn is left over when the last collection ends. Callers hold mu.
func (ib *idleBench) forceGC(b *testing.B) {
	b.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	m := ib.scrape(b)
	target := m.gcCycles + 2
	for m.gcCycles < target {
		headroom := m.nextGC - m.heapAlloc
		// A page holds at most protocol.HistoryPageMaxBytes, so asking
		// for more than fits only makes the node trim the page.
		fit := protocol.HistoryPageMaxBytes / (protocol.MaxBodyBytes + 256)
		limit := max(1, min(protocol.HistoryPageMax, fit, int(headroom/8/churnBytesPerMsg)))
		if err := ib.history(ctx, limit); err != nil {
			b.Fatalf("make the node collect garbage: %v", err)
		}
		m = ib.scrape(b)
	}
}

// history asks for the newest limit messages of churnRoom and waits for
// them. The node trims a page to about protocol.HistoryPageMaxBytes (the
// newest messages, more=true), so a reply holds between one and limit
// messages. The reply may be far larger than protocol.MaxFrameBytes (which
// bounds only what a node reads), so it is not read with rawClient.read.
func (ib *idleBench) history(ctx context.Context, limit int) error {
	ib.churnSeq++
	id := strconv.Itoa(ib.churnSeq)
	if err := ib.churn.write(ctx, protocol.Frame{Type: protocol.TypeHistory, ID: id, Room: churnRoom, Limit: limit}); err != nil {
		return err
	}
	want := min(limit, churnWriters*churnPerUser)
	for {
		_, data, err := ib.churn.ws.Read(ctx)
		if err != nil {
			return fmt.Errorf("read history of %s: %w", churnRoom, err)
		}
		var f struct {
			Type, ID, Code, Message string
			Messages                []struct{} // only counted
		}
		if err := json.Unmarshal(data, &f); err != nil {
			return fmt.Errorf("read history of %s: %w", churnRoom, err)
		}
		switch {
		case f.Type == protocol.TypeHistory && f.ID == id:
			if n := len(f.Messages); n < 1 || n > want {
				return fmt.Errorf("history of %s: %d messages, want 1 to %d", churnRoom, n, want)
			}
			return nil
		case f.Type == protocol.TypeError:
			return fmt.Errorf("history of %s: error frame %s: %s", churnRoom, f.Code, f.Message)
		}
	}
}

// idleConn is one idle connection and its reader, which counts the
// node's frames and notes the subscribed frame and any error frame. It
// decodes only the small frames: while members join, the node sends every
// member of the room without presence_delta the whole presence list
// (hundreds of names here) whenever joins pause for its debounce
// interval, and on a loaded machine
// decoding all of those kept this process so busy that new connections
// missed the node's auth deadline.
type idleConn struct {
	rc   *rawClient
	room string
	done chan struct{}

	frames     atomic.Int64
	bytes      atomic.Int64
	subscribed atomic.Bool
	stopping   atomic.Bool
	mu         sync.Mutex
	problem    error
}

// idleDecodeMax is the largest frame an idleConn decodes; larger ones
// (presence lists) are only counted.
const idleDecodeMax = 1 << 10

// dialIdle connects with token through hc, starts the reader and
// subscribes to room.
func dialIdle(ctx context.Context, wsURL, token, room string, hc *http.Client) (*idleConn, error) {
	var features []string
	if *idleDelta {
		features = []string{protocol.FeaturePresenceDelta}
	}
	rc, err := dialRawWith(ctx, wsURL, token, hc, features)
	if err != nil {
		return nil, err
	}
	ic := &idleConn{rc: rc, room: room, done: make(chan struct{})}
	go ic.read()
	if err := rc.write(ctx, protocol.Frame{Type: protocol.TypeSubscribe, Room: room}); err != nil {
		ic.stop()
		return nil, err
	}
	return ic, nil
}

func (ic *idleConn) read() {
	defer close(ic.done)
	for {
		_, data, err := ic.rc.ws.Read(context.Background())
		if err != nil {
			if !ic.stopping.Load() {
				ic.fail(fmt.Errorf("connection ended: %w", err))
			}
			return
		}
		ic.frames.Add(1)
		ic.bytes.Add(int64(len(data)))
		if len(data) > idleDecodeMax {
			continue
		}
		var f struct{ Type, Room, Code, Message string }
		if err := json.Unmarshal(data, &f); err != nil {
			ic.fail(fmt.Errorf("node sent an invalid frame %q: %w", data, err))
			continue
		}
		switch f.Type {
		case protocol.TypeSubscribed:
			if f.Room == ic.room {
				ic.subscribed.Store(true)
			}
		case protocol.TypeError:
			ic.fail(fmt.Errorf("error frame %s: %s", f.Code, f.Message))
		}
	}
}

func (ic *idleConn) fail(err error) {
	ic.mu.Lock()
	defer ic.mu.Unlock()
	if ic.problem == nil {
		ic.problem = err
	}
}

// failure returns the first thing that went wrong, if anything did.
func (ic *idleConn) failure() error {
	ic.mu.Lock()
	defer ic.mu.Unlock()
	return ic.problem
}

// stop closes the connection and waits for the reader.
func (ic *idleConn) stop() {
	ic.stopping.Store(true)
	ic.rc.close()
	<-ic.done
}

// allSubscribed reports the first connection not subscribed yet, or one
// that failed.
func allSubscribed(conns []*idleConn) error {
	for i, ic := range conns {
		if err := ic.failure(); err != nil {
			return fmt.Errorf("connection %d: %w", i, err)
		}
		if !ic.subscribed.Load() {
			return fmt.Errorf("connection %d: not subscribed to %s yet", i, ic.room)
		}
	}
	return nil
}

// scrapeMemory reads the node's /metrics.
func scrapeMemory(ctx context.Context, baseURL string) (nodeMemory, error) {
	vals, err := scrapeMetrics(ctx, baseURL)
	if err != nil {
		return nodeMemory{}, err
	}
	var m nodeMemory
	for name, dst := range map[string]*float64{
		"go_memstats_heap_inuse_bytes":  &m.heapInuse,
		"go_memstats_stack_inuse_bytes": &m.stackInuse,
		"go_memstats_heap_alloc_bytes":  &m.heapAlloc,
		"go_memstats_next_gc_bytes":     &m.nextGC,
		"process_resident_memory_bytes": &m.rss,
		"go_goroutines":                 &m.goroutines,
		"go_gc_duration_seconds_count":  &m.gcCycles,
		"parley_connections":            &m.connections,
	} {
		v, ok := vals[name]
		if !ok {
			return nodeMemory{}, fmt.Errorf("scrape metrics: %s missing", name)
		}
		*dst = v
	}
	return m, nil
}

// scrapeMetrics returns the samples without labels of a node's /metrics
// (Prometheus text format: "name value" lines; comments start with #).
func scrapeMetrics(ctx context.Context, baseURL string) (map[string]float64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, baseURL+"/metrics", nil)
	if err != nil {
		return nil, fmt.Errorf("scrape metrics: %w", err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("scrape metrics: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("scrape metrics: status %s", resp.Status)
	}
	vals := make(map[string]float64)
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		name, value, ok := strings.Cut(sc.Text(), " ")
		if !ok || strings.HasPrefix(name, "#") || strings.Contains(name, "{") {
			continue
		}
		v, err := strconv.ParseFloat(strings.TrimSpace(value), 64)
		if err != nil {
			return nil, fmt.Errorf("scrape metrics: %s: %w", name, err)
		}
		vals[name] = v
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("scrape metrics: %w", err)
	}
	return vals, nil
}
