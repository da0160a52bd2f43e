package ws

import (
	"bytes"
	"context"
	"fmt"
	"runtime"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/parleychat/parley/shared/protocol"
	"github.com/parleychat/parley/shared/testenv"
)

// serverHeap is the heap the server side of this process holds live, by
// the memory profile (every allocation sampled): the records whose stack
// runs through this package's non-test code or net/http's server, and
// through no test file (those are the clients' side, dialled by the
// test). top lists the
// largest allocation sites, for the log.
func serverHeap() (bytes int64, top []string) {
	runtime.GC()
	runtime.GC() // pools keep what they hold for two cycles
	runtime.GC() // and a profile is published one cycle after it is taken
	var recs []runtime.MemProfileRecord
	for {
		n, ok := runtime.MemProfile(recs, true)
		if ok {
			recs = recs[:n]
			break
		}
		recs = make([]runtime.MemProfileRecord, n+64)
	}
	bySite := map[string]int64{}
	for _, r := range recs {
		if b := r.InUseBytes(); b > 0 {
			if site, ok := serverSite(r.Stack()); ok {
				bytes += b
				bySite[site] += b
			}
		}
	}
	for site, b := range bySite {
		top = append(top, site+" "+itoa(b))
	}
	sort.Slice(top, func(i, j int) bool { return bySite[cut(top[i])] > bySite[cut(top[j])] })
	return bytes, top[:min(len(top), 12)]
}

func cut(s string) string { return s[:strings.LastIndexByte(s, ' ')] }

func itoa(b int64) string {
	var buf [20]byte
	i := len(buf)
	for {
		i--
		buf[i] = byte('0' + b%10)
		if b /= 10; b == 0 {
			return string(buf[i:])
		}
	}
}

// serverSite names the allocating function of a stack that belongs to
// the server side, ok false for any other stack.
func serverSite(stack []uintptr) (site string, ok bool) {
	frames := runtime.CallersFrames(stack)
	for {
		f, more := frames.Next()
		if strings.HasSuffix(f.File, "_test.go") {
			return "", false
		}
		if site == "" && !strings.HasPrefix(f.Function, "runtime.") {
			site = f.Function
		}
		if strings.Contains(f.Function, "parley/server/ws.") || strings.HasPrefix(f.Function, "net/http.(*conn).serve") || strings.HasPrefix(f.Function, "net/http.(*Server).Serve") {
			ok = true
		}
		if !more {
			return site, ok
		}
	}
}

// BenchmarkIdleConnHeap reports the heap an idle connection (authenticated,
// a few frames exchanged) keeps on the server side, counted from the
// memory profile, which records every allocation here: coder/websocket's
// connection (about 2.2 KiB of it), Parley's conn, its queue, limiters and
// timers; about 3.1 KiB in all. It was 4.8 KiB with five empty maps made
// ahead of their first entry, net/http's request contexts kept alive
// through the connection's context, net/http's 4 KiB read buffer kept by
// every connection whose client sent before the upgrade was through
// (about one in ten here), and a 512-byte read buffer held while the
// reader waits on the socket. Run it with -benchtime 1x: each iteration
// dials its own 200 connections.
func BenchmarkIdleConnHeap(b *testing.B) {
	const n = 200
	old := runtime.MemProfileRate
	runtime.MemProfileRate = 1
	b.Cleanup(func() { runtime.MemProfileRate = old })
	var per float64
	for range b.N {
		before, _ := serverHeap()
		conns := startTCPIdle(b, n)
		after, top := serverHeap()
		per = float64(after-before) / float64(len(conns))
		b.Logf("%.0f bytes of heap per idle connection (%d connections); largest sites, whole heap:\n%s", per, len(conns), strings.Join(top, "\n"))
	}
	b.ReportMetric(per, "heap-B/conn")
}

// TestIdleConnDropsReadBuffer: while the reader waits on the socket the
// connection holds no read buffer; a frame after that is read and
// answered, and a close while it waits completes its handshake (the
// close gives br a buffer first).
func TestIdleConnDropsReadBuffer(t *testing.T) {
	s, addr := serveTCP(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c, _, err := websocket.Dial(ctx, "ws://"+addr+protocol.PathWS, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	roundTrip := func(frame, want string) {
		t.Helper()
		if err := c.Write(ctx, websocket.MessageText, []byte(frame)); err != nil {
			t.Fatal(err)
		}
		if _, data, err := c.Read(ctx); err != nil || !bytes.Contains(data, []byte(want)) {
			t.Fatalf("want %s: %q, %v", want, data, err)
		}
	}
	roundTrip(`{"v":1,"type":"auth","token":"alice 1h"}`, `"welcome"`)
	var sc *conn
	s.mu.Lock()
	for k := range s.conns {
		sc = k
	}
	s.mu.Unlock()
	idle := func() error {
		sc.brMu.Lock()
		defer sc.brMu.Unlock()
		if !sc.brIdle || sc.br.Size() != 0 {
			return fmt.Errorf("read buffer of %d bytes (idle %v)", sc.br.Size(), sc.brIdle)
		}
		return nil
	}
	testenv.Eventually(t, time.Minute, "no read buffer while idle", idle)
	roundTrip(`{"v":1,"type":"ping","id":"p1"}`, `"pong"`)
	testenv.Eventually(t, time.Minute, "no read buffer while idle again", idle)
	sc.kill(protocol.CloseSlowConsumer, "test")
	_, _, err = c.Read(ctx)
	if got := websocket.CloseStatus(err); got != websocket.StatusCode(protocol.CloseSlowConsumer) {
		t.Fatalf("read after kill: %v, want close %d", err, protocol.CloseSlowConsumer)
	}
}
