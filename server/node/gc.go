package node

import (
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync/atomic"
)

// gcFloor is the least headroom the collector gets over the live heap,
// whatever --gc-percent says: with a small heap (a node with few
// connections and a busy fan-out) 25% would mean a collection every
// megabyte or two allocated. 8 MiB keeps such a node collecting less
// often than Go's default (GOGC=100) would, and an idle node's heap
// within a few megabytes of what it holds.
const gcFloor = 8 << 20

// gcPolicy sets GOGC after every collection to the larger of percent and
// the percentage of the live heap that gcFloor is: the headroom is
// percent of the live heap, and at least gcFloor. It runs as a cleanup
// the runtime calls after each cycle (on its cleanup goroutine), so it
// starts no goroutine; stop ends it at the next cycle.
type gcPolicy struct {
	percent int
	stopped atomic.Bool
	sample  [1]metrics.Sample
}

// gcSentinel is garbage the moment it is made; its cleanup runs after
// the collection that finds it. It holds a pointer so that it is not a
// tiny allocation, which may share a block and never be freed alone.
type gcSentinel struct{ _ *int }

func startGCPolicy(percent int) *gcPolicy {
	p := &gcPolicy{percent: percent}
	p.sample[0].Name = "/gc/heap/live:bytes"
	p.apply()
	p.arm()
	return p
}

func (p *gcPolicy) arm() {
	runtime.AddCleanup(new(gcSentinel), func(p *gcPolicy) { p.cycle() }, p)
}

func (p *gcPolicy) cycle() {
	if p.stopped.Load() {
		return
	}
	p.apply()
	p.arm()
}

// apply sets GOGC from the live heap the last collection found.
func (p *gcPolicy) apply() {
	metrics.Read(p.sample[:])
	debug.SetGCPercent(gcPercentFor(p.percent, p.sample[0].Value.Uint64()))
}

// gcPercentFor is the GOGC that gives a live heap of live bytes percent
// headroom, and at least gcFloor.
func gcPercentFor(percent int, live uint64) int {
	if live == 0 {
		return max(percent, 100)
	}
	return max(percent, int(min(uint64(gcFloor)*100/live, 1<<20)))
}

func (p *gcPolicy) stop() { p.stopped.Store(true) }
