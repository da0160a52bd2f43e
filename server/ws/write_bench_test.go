package ws

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/parleychat/parley/shared/protocol"
)

// TestWriterBurstsAllocateNothing: a frame pushed to an idle connection
// (its writer starts, writes it and returns) allocates nothing: not the
// writer's start, the queue's and its batch slices or the frame's
// writev. Before, each such delivery allocated four objects. The bound
// is under one per delivery rather than zero (two under the race
// detector) because the runtime may allocate now and then.
func TestWriterBurstsAllocateNothing(t *testing.T) {
	conns, readers := startTCPFanout(t, 1, false)
	frame, err := protocol.Encode(protocol.Frame{Type: protocol.TypeMsg, Msg: &protocol.Message{
		Room: "general", Offset: 1, Author: "ann", Body: strings.Repeat("x", 100), TS: 1}})
	if err != nil {
		t.Fatal(err)
	}
	sent := int64(0)
	allocs := testing.AllocsPerRun(200, func() {
		if !conns[0].Send(frame, false) {
			t.Fatal("queue refused a frame")
		}
		sent++
		readers.waitAll(sent) // the writer has written it and returns
	})
	// Under the race detector sync.Pool drops a quarter of what it is
	// given, and a pool miss costs two objects (the queue's and the
	// writer's slices, and their boxes): about one per delivery.
	limit := 1.0
	if raceEnabled {
		limit = 2
	}
	if allocs >= limit {
		t.Fatalf("a delivery to an idle connection allocates %.2f objects, want none", allocs)
	}
}

// BenchmarkWriteFanout measures the write path a fan-out takes, over
// real loopback TCP: a Server with 200 connections (coder/websocket
// clients in this process, which count what they read), and each op is
// one frame pushed to every connection, as a room actor does (conn.Send),
// and written by the connections' writers. An op is one message to all
// 200; ns/delivery is wall time per frame written and read, and
// cpu-ns/delivery the process's CPU time (user and system, clients
// included) per delivery, which is what the machine pays.
//
//   - paced: every connection has read the op's frame before the next
//     push, so each op finds every queue empty and its writer gone, as in
//     a room that gets a message every few milliseconds;
//   - burst: pushes as fast as the queues take them (waiting only every
//     64 ops), so writers find frames queued and batch them;
//   - paced-batch-sendallK: paced, but each op is K frames handed to
//     every connection at once (SendAll), as a room that gathered K
//     messages (hub.Config.Coalesce) sends them: compare its
//     cpu-ns/delivery with paced-batch's, one message at a time.
func BenchmarkWriteFanout(b *testing.B) {
	for _, batch := range []bool{false, true} {
		for _, paced := range []bool{true, false} {
			name := map[bool]string{true: "paced", false: "burst"}[paced]
			if batch {
				name += "-batch"
			}
			b.Run(name, func(b *testing.B) { benchWriteFanout(b, 200, paced, batch, 1) })
		}
	}
	for _, k := range []int{4, 8} {
		b.Run(fmt.Sprintf("paced-batch-sendall%d", k), func(b *testing.B) { benchWriteFanout(b, 200, true, true, k) })
	}
}

// benchWriteFanout pushes group frames per op to each of n connections:
// one Send when group is 1, else one SendAll of them all.
func benchWriteFanout(b *testing.B, n int, paced, batch bool, group int) {
	conns, readers := startTCPFanout(b, n, batch)
	frame, err := protocol.Encode(protocol.Frame{Type: protocol.TypeMsg, Msg: &protocol.Message{
		Room: "general", Offset: 1, Author: "ann", Body: strings.Repeat("x", 100), TS: 1}})
	if err != nil {
		b.Fatal(err)
	}
	burst := make([][]byte, group)
	for i := range burst {
		burst[i] = frame
	}
	b.ReportAllocs()
	cpu0 := cpuTime(b)
	b.ResetTimer()
	for i := range b.N {
		for _, c := range conns {
			ok := false
			if group == 1 {
				ok = c.Send(frame, false)
			} else {
				ok = c.SendAll(burst)
			}
			if !ok {
				b.Fatalf("op %d: queue refused: closed %v, %d frames", i, c.q.closed, len(c.q.frames))
			}
		}
		if paced || i%64 == 63 {
			readers.waitAll(int64((i + 1) * group))
		}
	}
	readers.waitAll(int64(b.N * group))
	b.StopTimer()
	d := float64(b.N * n * group)
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/d, "ns/delivery")
	b.ReportMetric(float64((cpuTime(b)-cpu0).Nanoseconds())/d, "cpu-ns/delivery")
}

// cpuTime is the process's user and system CPU time so far.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// fanoutReaders are the client ends. They count the frames they read
// all together, and the one that reaches target wakes the benchmark, so
// that waiting costs no CPU.
type fanoutReaders struct {
	n       int
	total   atomic.Int64
	target  atomic.Int64
	reached chan struct{} // a reader reached target; may be stale
	wg      sync.WaitGroup
}

// add counts k frames read, and wakes waitAll once the total reaches
// its target. The target is read after the count: read before, a
// waitAll that set a new one in between would never be woken. A total
// at or past an older target wakes it too (it checks again), which also
// covers a new target set after the load.
func (r *fanoutReaders) add(k int64) {
	if r.total.Add(k) >= r.target.Load() {
		select {
		case r.reached <- struct{}{}:
		default:
		}
	}
}

// waitAll waits until the clients have read want frames each (they read
// no others).
func (r *fanoutReaders) waitAll(want int64) {
	t := want * int64(r.n)
	r.target.Store(t)
	for r.total.Load() < t {
		<-r.reached
	}
}

// startTCPFanout starts a Server on loopback TCP with n authenticated
// connections (batch: they ask for protocol.FeatureBatch) and returns
// its side of the connections and the readers of the clients' side.
func startTCPFanout(b testing.TB, n int, batch bool) ([]*conn, *fanoutReaders) {
	b.Helper()
	return startTCP(b, n, batch, true)
}

// startTCPIdle is startTCPFanout with clients that, once each has
// exchanged a few pings and pongs, run no goroutine.
func startTCPIdle(t testing.TB, n int) []*conn {
	t.Helper()
	conns, _ := startTCP(t, n, false, false)
	return conns
}

func startTCP(b testing.TB, n int, batch, read bool) ([]*conn, *fanoutReaders) {
	b.Helper()
	s := New(Config{Verify: verifyTestToken, Logger: slog.New(slog.DiscardHandler), MaxConnsPerAddr: n + 1, MaxUnauthPerAddr: n + 1})
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	hs := &http.Server{Handler: s}
	served := make(chan error, 1)
	go func() { served <- hs.Serve(l) }()
	readers := &fanoutReaders{n: n, reached: make(chan struct{}, 1)}
	var clients []*websocket.Conn
	b.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := s.Drain(ctx); err != nil {
			b.Errorf("drain: %v", err)
		}
		for _, c := range clients {
			_ = c.CloseNow()
		}
		readers.wg.Wait()
		_ = hs.Close()
		if err := <-served; !errors.Is(err, http.ErrServerClosed) {
			b.Errorf("serve: %v", err)
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var features []string
	if batch {
		features = []string{protocol.FeatureBatch}
	}
	for i := range n {
		c, _, err := websocket.Dial(ctx, "ws://"+l.Addr().String()+protocol.PathWS, nil)
		if err != nil {
			b.Fatalf("dial: %v", err)
		}
		clients = append(clients, c)
		auth, err := protocol.Encode(protocol.Frame{Type: protocol.TypeAuth, Token: fmt.Sprintf("u%d 1h", i), Features: features})
		if err != nil {
			b.Fatal(err)
		}
		if err := c.Write(ctx, websocket.MessageText, auth); err != nil {
			b.Fatalf("write auth: %v", err)
		}
		if _, data, err := c.Read(ctx); err != nil || !bytes.Contains(data, []byte(`"welcome"`)) {
			b.Fatalf("want welcome: %q, %v", data, err)
		}
		if !read {
			// A few frames each way, then no goroutine on this side.
			for range 3 {
				if err := c.Write(ctx, websocket.MessageText, []byte(`{"v":1,"type":"ping","id":"p"}`)); err != nil {
					b.Fatalf("write ping: %v", err)
				}
				if _, data, err := c.Read(ctx); err != nil || !bytes.Contains(data, []byte(`"pong"`)) {
					b.Fatalf("want pong: %q, %v", data, err)
				}
			}
			continue
		}
		readers.wg.Add(1)
		go func() {
			defer readers.wg.Done()
			buf := make([]byte, 4096)
			for {
				n, err := readMessage(c, buf)
				if err != nil {
					return
				}
				readers.add(n)
			}
		}()
	}
	s.mu.Lock()
	conns := make([]*conn, 0, n)
	for c := range s.conns {
		conns = append(conns, c)
	}
	s.mu.Unlock()
	if len(conns) != n {
		b.Fatalf("server has %d connections, want %d", len(conns), n)
	}
	return conns, readers
}

// readMessage reads one message into buf, which it reuses (so that the
// clients allocate nothing either), and returns how many frames it
// carried: a batch has one per line.
func readMessage(c *websocket.Conn, buf []byte) (int64, error) {
	_, r, err := c.Reader(context.Background())
	if err != nil {
		return 0, err
	}
	frames := int64(1)
	for {
		n, err := r.Read(buf)
		frames += int64(bytes.Count(buf[:n], []byte{'\n'}))
		if err == io.EOF {
			return frames, nil
		}
		if err != nil {
			return 0, err
		}
	}
}

// TestIdleReaderStackStaysSmall: 200 idle connections over loopback
// TCP, each having sent and been answered a few frames, add under
// 3 KiB of stack each once the garbage collector has run (about 2.3
// KiB: most readers' stacks are at Go's 2 KiB minimum): the reader waits
// on the socket, not inside coder/websocket's Read, whose depth kept
// each idle reader at 4 KiB (4.2 KiB per connection measured here).
func TestIdleReaderStackStaysSmall(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector doubles every stack's guard: run without -race")
	}
	const n = 200
	stack := func() uint64 {
		runtime.GC()
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return m.StackInuse
	}
	before := stack()
	conns := startTCPIdle(t, n)
	after := stack()
	per := float64(after-min(after, before)) / n
	t.Logf("%.0f bytes of stack per idle connection (%d connections)", per, len(conns))
	if per >= 3<<10 {
		t.Fatalf("an idle connection keeps %.0f bytes of stack, want under 3 KiB", per)
	}
}

// serveTCP serves a new Server on a loopback listener until the test
// ends, then drains it and closes the listener; it returns the Server and
// the listener's address.
func serveTCP(t testing.TB) (*Server, string) {
	t.Helper()
	return serveTCPWith(t, Config{Verify: verifyTestToken, Logger: slog.New(slog.DiscardHandler)})
}

// serveTCPWith is serveTCP with a Server made from cfg.
func serveTCPWith(t testing.TB, cfg Config) (*Server, string) {
	t.Helper()
	s := New(cfg)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hs := &http.Server{Handler: s}
	go func() { _ = hs.Serve(l) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := s.Drain(ctx); err != nil {
			t.Errorf("drain: %v", err)
		}
		_ = hs.Close()
	})
	return s, l.Addr().String()
}

// TestPipelinedFramesOverTCP: frames that reach the node together, in
// one TCP segment (so the reader finds the later ones already in its
// read buffer, not on the socket) are all handled, also when they came
// with the upgrade request itself. The reader must not wait on the
// socket for bytes it already holds.
func TestPipelinedFramesOverTCP(t *testing.T) {
	for _, early := range []bool{false, true} {
		t.Run(fmt.Sprintf("with-upgrade=%v", early), func(t *testing.T) {
			_, addr := serveTCP(t)
			nc, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			defer nc.Close()
			upgrade := "GET " + protocol.PathWS + " HTTP/1.1\r\nHost: " + addr +
				"\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
			frames := clientFrame(`{"v":1,"type":"auth","token":"alice 1h"}`)
			// 150 pings: more than net/http's 4 KiB read buffer holds, so
			// with the upgrade some stay in front of the socket.
			const pings = 150
			for i := range pings {
				frames = append(frames, clientFrame(fmt.Sprintf(`{"v":1,"type":"ping","id":"p%d"}`, i))...)
			}
			br := bufio.NewReader(nc)
			if early {
				if _, err := nc.Write(append([]byte(upgrade), frames...)); err != nil {
					t.Fatal(err)
				}
			}
			if !early {
				if _, err := nc.Write([]byte(upgrade)); err != nil {
					t.Fatal(err)
				}
			}
			resp, err := http.ReadResponse(br, nil)
			if err != nil || resp.StatusCode != http.StatusSwitchingProtocols {
				t.Fatalf("upgrade: %v, %v", resp, err)
			}
			if !early {
				if _, err := nc.Write(frames); err != nil {
					t.Fatal(err)
				}
			}
			if err := nc.SetReadDeadline(time.Now().Add(time.Minute)); err != nil {
				t.Fatal(err)
			}
			want := []string{`"welcome"`}
			for i := range pings {
				want = append(want, fmt.Sprintf(`"p%d"`, i))
			}
			for _, want := range want {
				got, err := serverFrame(br)
				if err != nil {
					t.Fatalf("want a frame with %s: %v", want, err)
				}
				if !strings.Contains(got, want) {
					t.Fatalf("got frame %s, want one with %s", got, want)
				}
			}
		})
	}
}

// clientFrame is a masked text frame (mask key zero) carrying payload.
func clientFrame(payload string) []byte {
	if len(payload) >= 126 {
		panic("clientFrame: payload too long")
	}
	return append([]byte{0x81, 0x80 | byte(len(payload)), 0, 0, 0, 0}, payload...)
}

// serverFrame reads one unmasked, unfragmented frame's payload.
func serverFrame(br *bufio.Reader) (string, error) {
	var h [2]byte
	if _, err := io.ReadFull(br, h[:]); err != nil {
		return "", err
	}
	n := int(h[1] & 0x7f)
	if n == 126 {
		var ext [2]byte
		if _, err := io.ReadFull(br, ext[:]); err != nil {
			return "", err
		}
		n = int(ext[0])<<8 | int(ext[1])
	}
	p := make([]byte, n)
	if _, err := io.ReadFull(br, p); err != nil {
		return "", err
	}
	return string(p), nil
}
