package ws

import (
	"sync"

	"github.com/parleychat/parley/server/stages"
)

// queue is a connection's bounded outgoing queue. It grows only while
// frames wait, so an idle connection holds no buffer. It also decides when
// the connection has a writer goroutine: one runs only while frames wait
// (push says when to start it, next when it ends), so an idle connection
// has no writer and no writer stack.
type queue struct {
	mu     sync.Mutex // guards the fields below; a leaf lock
	frames [][]byte
	// box holds frames' storage, from slots, while the queue has any:
	// from the first push after an idle spell to the end of the
	// writer's turn, when both go back to the pool.
	box       *[][]byte
	bytes     int
	maxFrames int
	maxBytes  int
	closed    bool
	// started: writers may run (the connection is being served);
	// writing: one runs, or is about to.
	started bool
	writing bool
	// st times the writes (stages.ConnWrite): since is the stamp of
	// the oldest frame queued, zero while none is (or st is nil).
	st    *stages.Stages
	since int64
	// writers counts the running writer; Add is called under mu, so
	// that once the queue is closed no Add can follow a Wait.
	writers sync.WaitGroup
}

// idleSlots is the most frame slots a queue, or the writer's batch,
// keeps between bursts: enough for steady traffic not to allocate, little
// for an idle connection to hold.
const idleSlots = 16

func newQueue(maxFrames, maxBytes int, st *stages.Stages) *queue {
	return &queue{maxFrames: maxFrames, maxBytes: maxBytes, st: st}
}

// push adds a frame. A droppable frame is refused once the queue is half
// full; any frame is refused when the queue is full or closed. wake says
// the caller must start a writer (go conn.writeRun): none runs, and the
// queue has counted it in writers.
func (q *queue) push(frame []byte, droppable bool) (ok, wake bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	n, b := len(q.frames), q.bytes+len(frame)
	ok = !q.closed && n < q.maxFrames && b <= q.maxBytes
	if droppable && (n >= q.maxFrames/2 || b > q.maxBytes/2) {
		ok = false
	}
	if !ok {
		return false, false
	}
	if q.box == nil {
		q.box = slots.Get().(*[][]byte)
		q.frames = (*q.box)[:0]
	}
	if len(q.frames) == 0 {
		q.since = q.st.Now()
	}
	q.frames = append(q.frames, frame)
	q.bytes = b
	return true, q.wakeLocked()
}

// pushAll adds frames in order, all or none (none when they do not all
// fit, or the queue is closed); wake is as for push. It keeps no
// reference to frames, the slice.
func (q *queue) pushAll(frames [][]byte) (ok, wake bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	b := q.bytes
	for _, f := range frames {
		b += len(f)
	}
	if q.closed || len(q.frames)+len(frames) > q.maxFrames || b > q.maxBytes {
		return false, false
	}
	if q.box == nil {
		q.box = slots.Get().(*[][]byte)
		q.frames = (*q.box)[:0]
	}
	if len(q.frames) == 0 {
		q.since = q.st.Now()
	}
	q.frames = append(q.frames, frames...)
	q.bytes = b
	return true, q.wakeLocked()
}

// wakeLocked marks a writer as running if none is and writers may run.
func (q *queue) wakeLocked() bool {
	if !q.started || q.writing {
		return false
	}
	q.writing = true
	q.writers.Add(1)
	return true
}

// start lets writers run; wake says one must start now (frames are
// queued, or the queue was closed by a kill before the connection was
// served).
func (q *queue) start() (wake bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.started = true
	if len(q.frames) == 0 && !q.closed {
		return false
	}
	return q.wakeLocked()
}

// take removes and returns every queued frame, reusing buf's storage.
func (q *queue) take(buf [][]byte) [][]byte {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.takeLocked(buf)
}

func (q *queue) takeLocked(buf [][]byte) [][]byte {
	out := append(buf[:0], q.frames...)
	clear(q.frames)
	q.frames = q.frames[:0]
	if q.box != nil && cap(q.frames) > idleSlots {
		// Give back what a burst grew; the box's storage may still
		// hold frames from before the growth.
		q.frames = (*q.box)[:0]
		clear(q.frames[:cap(q.frames)])
	}
	q.bytes = 0
	return out
}

// releaseLocked gives the empty queue's storage back to the pool.
func (q *queue) releaseLocked() {
	if q.box == nil {
		return
	}
	if cap(q.frames) <= idleSlots {
		*q.box = q.frames[:0]
	} else {
		clear((*q.box)[:cap(*q.box)])
	}
	slots.Put(q.box)
	q.box, q.frames = nil, nil
}

// slots holds frame slices of idleSlots, shared by every connection's
// queue and writer: an idle connection holds none, and a burst to one
// allocates none.
var slots = sync.Pool{New: func() any {
	s := make([][]byte, 0, idleSlots)
	return &s
}}

// next is take for the writer; since is the stamp of the oldest frame
// it returns (stages.ConnWrite). With nothing queued, the writer's turn
// ends (it must return; the next push starts another) and next returns no
// frames and open true. A closed queue returns open false: the writer
// closes the connection (a kill) or just returns.
func (q *queue) next(buf [][]byte) (out [][]byte, since int64, open bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		return buf[:0], 0, false
	}
	if len(q.frames) == 0 {
		q.writing = false
		q.releaseLocked()
		return buf[:0], 0, true
	}
	since, q.since = q.since, 0
	return q.takeLocked(buf), since, true
}

// close refuses further frames. With wake, it reports whether a writer
// must start to close the connection (none runs); the first close only
// wakes one: a queue closed twice does not.
func (q *queue) close(wake bool) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		return false
	}
	q.closed = true
	return wake && q.wakeLocked()
}

// wait returns once no writer runs. Call it after close: none starts then.
func (q *queue) wait() { q.writers.Wait() }
