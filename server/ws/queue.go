package ws

import "sync"

// queue is a connection's bounded outgoing queue. It grows only while
// frames wait, so an idle connection holds no buffer.
type queue struct {
	mu        sync.Mutex // guards frames, bytes and closed; a leaf lock
	frames    [][]byte
	bytes     int
	maxFrames int
	maxBytes  int
	closed    bool
	ready     chan struct{} // signalled when frames are added
}

// idleSlots is the most frame slots a queue, or the writer's batch,
// keeps between bursts: enough for steady traffic not to allocate, little
// for an idle connection to hold.
const idleSlots = 16

func newQueue(maxFrames, maxBytes int) *queue {
	return &queue{maxFrames: maxFrames, maxBytes: maxBytes, ready: make(chan struct{}, 1)}
}

// push adds a frame. A droppable frame is refused once the queue is half
// full; any frame is refused when the queue is full or closed.
func (q *queue) push(frame []byte, droppable bool) bool {
	q.mu.Lock()
	n, b := len(q.frames), q.bytes+len(frame)
	ok := !q.closed && n < q.maxFrames && b <= q.maxBytes
	if droppable && (n >= q.maxFrames/2 || b > q.maxBytes/2) {
		ok = false
	}
	if ok {
		q.frames = append(q.frames, frame)
		q.bytes = b
	}
	q.mu.Unlock()
	if ok {
		select {
		case q.ready <- struct{}{}:
		default:
		}
	}
	return ok
}

// take removes and returns every queued frame, reusing buf's storage.
func (q *queue) take(buf [][]byte) [][]byte {
	q.mu.Lock()
	defer q.mu.Unlock()
	out := append(buf[:0], q.frames...)
	clear(q.frames)
	q.frames = q.frames[:0]
	if cap(q.frames) > idleSlots {
		q.frames = nil // give back what a burst grew
	}
	q.bytes = 0
	return out
}

func (q *queue) close() {
	q.mu.Lock()
	q.closed = true
	q.mu.Unlock()
}
