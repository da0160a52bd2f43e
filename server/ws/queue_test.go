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
	if ok, _ := q.push(f, droppable); !ok {
		t.Fatalf("push(%d bytes, droppable=%v) refused with %d frames, %d bytes queued", len(f), droppable, len(q.frames), q.bytes)
	}
}

func mustRefuse(t *testing.T, q *queue, f []byte, droppable bool) {
	t.Helper()
	if ok, _ := q.push(f, droppable); ok {
		t.Fatalf("push(%d bytes, droppable=%v) accepted with %d frames, %d bytes queued", len(f), droppable, len(q.frames)-1, q.bytes-len(f))
	}
}

func TestQueueDroppableRefusedOnceHalfFullOfFrames(t *testing.T) {
	q := newQueue(8, 1<<20, nil)
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
	q := newQueue(100, 100, nil)
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
	q := newQueue(8, 1<<20, nil)
	mustPush(t, q, []byte("m"), false)
	q.close(false)
	mustRefuse(t, q, []byte("m"), false)
	mustRefuse(t, q, []byte("t"), true)
}

func TestQueueTakeReturnsAllInOrderAndResets(t *testing.T) {
	q := newQueue(8, 11, nil)
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
	q := newQueue(1000, 1<<20, nil)
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
	if cap(q.frames) > idleSlots {
		t.Fatalf("after a burst of 100 the queue keeps capacity %d; want it given back", cap(q.frames))
	}
	for i, f := range q.frames[:cap(q.frames)] {
		if f != nil {
			t.Fatalf("after the burst the queue's storage still references frame %d", i)
		}
	}
}

// TestQueueIdleHoldsNoStorage: when the writer's turn ends on an empty
// queue, the queue gives its storage back to the pool, so an idle
// connection holds none; the next push takes some again.
func TestQueueIdleHoldsNoStorage(t *testing.T) {
	q := newQueue(8, 1<<20, nil)
	q.start()
	mustPush(t, q, []byte("m1"), false)
	if out, _, _ := q.next(nil); len(out) != 1 {
		t.Fatalf("next = %d frames, want 1", len(out))
	}
	if q.frames == nil {
		t.Fatal("the queue let go of its storage while the writer runs")
	}
	if out, _, open := q.next(nil); !open || len(out) != 0 {
		t.Fatalf("next on an empty queue = %d frames, open %v", len(out), open)
	}
	if q.frames != nil || q.box != nil {
		t.Fatalf("an idle queue holds storage for %d frames", cap(q.frames))
	}
	q.writers.Done()
	mustPush(t, q, []byte("m2"), false)
	if out := q.take(nil); len(out) != 1 || string(out[0]) != "m2" {
		t.Fatalf("take after the idle spell = %q, want [m2]", out)
	}
}

// TestQueueWakesOneWriterAtATime: before the connection is served no
// writer starts; after, the first push of an idle queue starts one, pushes
// while it runs start none, and the writer's turn ends when next finds the
// queue empty, so the next push starts another.
func TestQueueWakesOneWriterAtATime(t *testing.T) {
	q := newQueue(8, 1<<20, nil)
	push := func(f string) bool {
		t.Helper()
		ok, wake := q.push([]byte(f), false)
		if !ok {
			t.Fatalf("push(%q) refused", f)
		}
		return wake
	}
	if push("early") {
		t.Fatal("a push before start woke a writer")
	}
	if !q.start() {
		t.Fatal("start with a frame queued woke no writer")
	}
	if push("m1") {
		t.Fatal("a push while a writer runs woke another")
	}
	out, _, open := q.next(nil)
	if !open || len(out) != 2 {
		t.Fatalf("next = %d frames, open %v; want 2, true", len(out), open)
	}
	if out, _, open = q.next(out); !open || len(out) != 0 {
		t.Fatalf("next on an empty queue = %d frames, open %v; want 0, true", len(out), open)
	}
	q.writers.Done() // the writer returns
	if !push("m2") {
		t.Fatal("a push after the writer's turn ended woke none")
	}
	if q.close(true) {
		t.Fatal("close woke a second writer while one runs")
	}
	if _, _, open := q.next(nil); open {
		t.Fatal("next on a closed queue says open")
	}
	q.writers.Done()
	q.wait()
}

// TestQueueCloseWakesIdleWriter: a kill of an idle, served connection
// wakes a writer to close it; one before start wakes it at start; a
// second close wakes nothing.
func TestQueueCloseWakesIdleWriter(t *testing.T) {
	q := newQueue(8, 1<<20, nil)
	q.start()
	if !q.close(true) {
		t.Fatal("closing an idle served queue woke no writer")
	}
	q.writers.Done()
	if q.close(true) {
		t.Fatal("a second close woke a writer")
	}
	early := newQueue(8, 1<<20, nil)
	if early.close(true) {
		t.Fatal("a close before start woke a writer")
	}
	if !early.start() {
		t.Fatal("start of a closed queue woke no writer to close it")
	}
	early.writers.Done()
	early.wait()
}

// BenchmarkQueuePushTake: the fan-out's hand-off to one connection (push)
// and the writer taking it; an op is one frame. It allocates nothing once
// the queue and the writer's slice have grown.
func BenchmarkQueuePushTake(b *testing.B) {
	q := newQueue(1024, 1<<20, nil)
	frame := []byte(`{"v":1,"type":"msg","msg":{"room":"r","offset":1,"author":"a","body":"hi","ts":1}}`)
	var batch [][]byte
	b.ReportAllocs()
	for i := range b.N {
		q.push(frame, false)
		if i%8 == 7 {
			batch, _, _ = q.next(batch)
		}
	}
}

// TestQueuePushAllIsAllOrNothing: frames pushed together are queued in
// order when they all fit, and none is when one does not (frames or
// bytes) or the queue is closed; only the first push wakes a writer.
func TestQueuePushAllIsAllOrNothing(t *testing.T) {
	q := newQueue(4, 10, nil)
	q.start()
	if ok, wake := q.pushAll(frames(2, 2)); !ok || !wake {
		t.Fatalf("pushAll of 2 into an empty queue: ok %v, wake %v; want both", ok, wake)
	}
	if ok, _ := q.pushAll(frames(3, 1)); ok {
		t.Fatal("pushAll of 3 frames into a queue with room for 2 accepted")
	}
	if ok, _ := q.pushAll(frames(2, 4)); ok {
		t.Fatal("pushAll of 8 bytes into a queue with room for 6 accepted")
	}
	if len(q.frames) != 2 || q.bytes != 4 {
		t.Fatalf("a refused pushAll changed the queue: %d frames, %d bytes; want 2, 4", len(q.frames), q.bytes)
	}
	more := [][]byte{[]byte("x"), []byte("yz")}
	if ok, wake := q.pushAll(more); !ok || wake {
		t.Fatalf("pushAll of 2 more: ok %v, wake %v; want ok, no wake (a writer runs)", ok, wake)
	}
	got := fmt.Sprintf("%q", q.take(nil))
	if want := fmt.Sprintf("%q", append(frames(2, 2), more...)); got != want {
		t.Fatalf("queued %s, want %s in order", got, want)
	}
	q.close(false)
	if ok, _ := q.pushAll(more); ok {
		t.Fatal("pushAll into a closed queue accepted")
	}
}
