package node_test

import (
	"runtime/debug"
	"testing"

	"github.com/parleychat/parley/server/node"
)

// gcPercent reads the process's GOGC.
func gcPercent() int {
	p := debug.SetGCPercent(100)
	debug.SetGCPercent(p)
	return p
}

// TestServeSetsGCPercent: a serving node has set the process's GOGC to
// its GCPercent (here far above what gcFloor asks for this test's heap);
// 0 leaves the runtime's alone. Not parallel: GOGC is the whole
// process's, and parallel tests start nodes of their own.
func TestServeSetsGCPercent(t *testing.T) {
	old := debug.SetGCPercent(100)
	t.Cleanup(func() { debug.SetGCPercent(old) })
	n := startNode(t, func(c *node.Config) { c.GCPercent = 1000 })
	if got := gcPercent(); got != 1000 {
		t.Fatalf("GOGC %d with GCPercent 1000", got)
	}
	n.stop(t)
	debug.SetGCPercent(100)
	startNode(t, func(c *node.Config) { c.GCPercent = 0 })
	if got := gcPercent(); got != 100 {
		t.Fatalf("GOGC %d with GCPercent 0, want the runtime's 100 left alone", got)
	}
}
