package ws

import (
	"bytes"
	"fmt"
	"testing"
)

// frames returns n distinct frames of size bytes each.
func frames(n, size int) [][]byte {
	out := make([][]byte, n)
	for i := range out {
		out[i] = bytes.Repeat([]byte{byte('a' + i%26)}, size)
	}
	return out
}

func mustPush(t *testing.T, q *queue, f []byte, droppable bool) {
	t.Helper()
	if !q.push(f, droppable) {
		t.Fatalf("push(%d bytes, droppable=%v) refused with %d frames, %d bytes queued", len(f), droppable, len(q.frames), q.bytes)
	}
}

func mustRefuse(t *testing.T, q *queue, f []byte, droppable bool) {
	t.Helper()
	if q.push(f, droppable) {
		t.Fatalf("push(%d bytes, droppable=%v) accepted with %d frames, %d bytes queued", len(f), droppable, len(q.frames)-1, q.bytes-len(f))
	}
}

func TestQueueDroppableRefusedOnceHalfFullOfFrames(t *testing.T) {
	q := newQueue(8, 1<<20)
	for _, f := range frames(3, 1) {
		mustPush(t, q, f, false)
	}
	mustPush(t, q, []byte("t"), true) // 4th frame: the queue was under half
	mustRefuse(t, q, []byte("t"), true)
	for _, f := range frames(4, 1) {
		mustPush(t, q, f, false) // messages still fit up to the limit
	}
	mustRefuse(t, q, []byte("t"), true)
	mustRefuse(t, q, []byte("m"), false) // 9th frame: full
}

func TestQueueDroppableRefusedOnceHalfFullOfBytes(t *testing.T) {
	q := newQueue(100, 100)
	mustPush(t, q, frames(1, 50)[0], true) // exactly half
	mustRefuse(t, q, []byte("t"), true)    // one byte over half
	mustPush(t, q, frames(1, 49)[0], false)
	mustPush(t, q, []byte("m"), false)   // exactly full
	mustRefuse(t, q, []byte("m"), false) // one byte over
	if len(q.frames) != 3 || q.bytes != 100 {
		t.Fatalf("queue holds %d frames, %d bytes; want 3, 100", len(q.frames), q.bytes)
	}
}

func TestQueueRefusesEverythingWhenClosed(t *testing.T) {
	q := newQueue(8, 1<<20)
	mustPush(t, q, []byte("m"), false)
	q.close()
	mustRefuse(t, q, []byte("m"), false)
	mustRefuse(t, q, []byte("t"), true)
}

func TestQueueTakeReturnsAllInOrderAndResets(t *testing.T) {
	q := newQueue(8, 11)
	in := [][]byte{[]byte("one"), []byte("two"), []byte("three")}
	for _, f := range in {
		mustPush(t, q, f, false)
	}
	buf := make([][]byte, 0, 8)
	out := q.take(buf)
	if fmt.Sprintf("%s", out) != fmt.Sprintf("%s", in) {
		t.Fatalf("take = %s, want %s", out, in)
	}
	if &out[:1][0] != &buf[:1][0] {
		t.Error("take did not reuse the buffer it was given")
	}
	if q.bytes != 0 || len(q.frames) != 0 {
		t.Fatalf("after take: %d frames, %d bytes queued; want none", len(q.frames), q.bytes)
	}
	for i, f := range q.frames[:cap(q.frames)] {
		if f != nil {
			t.Fatalf("after take the queue still references frame %d", i)
		}
	}
	mustPush(t, q, frames(1, 11)[0], false) // the byte budget is whole again
	if out := q.take(nil); len(out) != 1 {
		t.Fatalf("second take = %d frames, want 1", len(out))
	}
}

func TestQueueGivesBackBurstCapacity(t *testing.T) {
	q := newQueue(1000, 1<<20)
	for _, f := range frames(10, 1) {
		mustPush(t, q, f, false)
	}
	q.take(nil)
	if cap(q.frames) == 0 {
		t.Fatal("a small batch's storage was dropped; it should be reused")
	}
	for _, f := range frames(100, 1) {
		mustPush(t, q, f, false)
	}
	if out := q.take(nil); len(out) != 100 {
		t.Fatalf("take = %d frames, want 100", len(out))
	}
	if cap(q.frames) != 0 {
		t.Fatalf("after a burst of 100 the queue keeps capacity %d; want it given back", cap(q.frames))
	}
}

func TestQueueSignalsReady(t *testing.T) {
	q := newQueue(4, 1<<20)
	ready := func() bool {
		select {
		case <-q.ready:
			return true
		default:
			return false
		}
	}
	if ready() {
		t.Fatal("an empty queue signalled ready")
	}
	mustPush(t, q, []byte("m"), false)
	mustPush(t, q, []byte("m"), false) // must not block on the pending signal
	if !ready() {
		t.Fatal("push did not signal ready")
	}
	if ready() {
		t.Fatal("two pushes left two signals; the writer needs one")
	}
	mustRefuse(t, q, []byte("t"), true)
	q.close()
	mustRefuse(t, q, []byte("m"), false)
	if ready() {
		t.Fatal("a refused push signalled ready")
	}
}

// BenchmarkQueuePushTake: the fan-out's hand-off to one connection (push)
// and the writer taking it; an op is one frame. It allocates nothing once
// the queue and the writer's slice have grown.
func BenchmarkQueuePushTake(b *testing.B) {
	q := newQueue(1024, 1<<20)
	frame := []byte(`{"v":1,"type":"msg","msg":{"room":"r","offset":1,"author":"a","body":"hi","ts":1}}`)
	var batch [][]byte
	b.ReportAllocs()
	for i := range b.N {
		q.push(frame, false)
		if i%8 == 7 {
			<-q.ready
			batch = q.take(batch)
		}
	}
}
