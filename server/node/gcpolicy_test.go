package node

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"testing"
	"time"

	"github.com/parleychat/parley/shared/testenv"
)

// TestGCPolicyFloor: after each collection GOGC is --gc-percent when the
// live heap is large (a 256 MiB one: gcFloor is 3% of it), and larger
// when gcFloor is more than that percentage of a small live heap; a
// stopped policy changes nothing more. Not parallel: GOGC is the
// process's.
func TestGCPolicyFloor(t *testing.T) {
	old := debug.SetGCPercent(100)
	t.Cleanup(func() { debug.SetGCPercent(old) })
	p := startGCPolicy(37)
	keep := &struct{ ballast []byte }{make([]byte, 256<<20)}
	gogcAfterGC(t, "GOGC 37 with a 256 MiB live heap", func(v int) bool { return v == 37 })
	runtime.KeepAlive(keep.ballast)
	keep.ballast = nil
	gogcAfterGC(t, "GOGC above 37 with a small live heap", func(v int) bool { return v > 37 })
	p.stop()
	debug.SetGCPercent(100)
	runtime.GC()
	runtime.GC()
	if v := gcPercent(); v != 100 {
		t.Fatalf("a stopped policy set GOGC %d", v)
	}
}

// gogcAfterGC collects until GOGC satisfies ok: the policy runs after a
// collection, on the runtime's cleanup goroutine.
func gogcAfterGC(t *testing.T, what string, ok func(int) bool) {
	t.Helper()
	testenv.Eventually(t, time.Minute, what, func() error {
		runtime.GC()
		if v := gcPercent(); !ok(v) {
			return fmt.Errorf("GOGC %d", v)
		}
		return nil
	})
}

func gcPercent() int {
	p := debug.SetGCPercent(100)
	debug.SetGCPercent(p)
	return p
}

func TestGCPercentFor(t *testing.T) {
	for _, c := range []struct {
		percent int
		live    uint64
		want    int
	}{
		{25, 1 << 30, 25},
		{25, 64 << 20, 25},
		{25, 16 << 20, 50},
		{25, 4 << 20, 200},
		{300, 4 << 20, 300},
		{25, 0, 100},
		{25, 1, 1 << 20},
	} {
		if got := gcPercentFor(c.percent, c.live); got != c.want {
			t.Errorf("gcPercentFor(%d, %d) = %d, want %d", c.percent, c.live, got, c.want)
		}
	}
}
