package ws

import (
	"runtime"
	"sort"
	"strings"
	"testing"
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

// TestIdleConnHeap: an idle connection (authenticated, a few frames
// exchanged) keeps under 4 KiB of heap on the server side (about 3.7
// KiB), counted from the memory profile, which records every allocation
// here: coder/websocket's connection (about 2.2 KiB of it), the read
// buffer, Parley's conn, its queue, limiters and timers. It was 4.8 KiB
// with five empty maps made ahead of their first entry, net/http's
// request contexts kept alive through the connection's context, and
// net/http's 4 KiB read buffer kept by every connection whose client
// sent before the upgrade was through (about one in ten here).
func TestIdleConnHeap(t *testing.T) {
	const n = 200
	old := runtime.MemProfileRate
	runtime.MemProfileRate = 1
	t.Cleanup(func() { runtime.MemProfileRate = old })
	before, _ := serverHeap()
	conns := startTCPIdle(t, n)
	after, top := serverHeap()
	per := float64(after-before) / float64(len(conns))
	t.Logf("%.0f bytes of heap per idle connection (%d connections); largest sites, whole heap:\n%s", per, len(conns), strings.Join(top, "\n"))
	if per >= 4<<10 {
		t.Fatalf("an idle connection keeps %.0f bytes of heap, want under 4 KiB", per)
	}
}
