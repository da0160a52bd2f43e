package brokertest

import (
	"bytes"
	"context"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/parleychat/parley/server/broker"
)

// Run checks the single-node contract of broker.Broker. newBroker returns
// a fresh broker for one subtest; the suite runs and closes it.
func Run(t *testing.T, newBroker func(t *testing.T) broker.Broker) {
	t.Run("DeliversSubscribedRoomsOnly", func(t *testing.T) { testSubscribedOnly(t, newBroker) })
	t.Run("SubscribeEffectiveOnReturn", func(t *testing.T) { testEffectiveOnReturn(t, newBroker) })
	t.Run("OrderPerRoom", func(t *testing.T) { testOrder(t, newBroker) })
	t.Run("PublishAllInOrder", func(t *testing.T) { testPublishAll(t, newBroker) })
	t.Run("ConcurrentPublishersKeepOrder", func(t *testing.T) { testConcurrentOrder(t, newBroker) })
	t.Run("UnsubscribeStopsDelivery", func(t *testing.T) { testUnsubscribe(t, newBroker) })
	t.Run("SubscribeIsIdempotent", func(t *testing.T) { testSubscribeTwice(t, newBroker) })
	t.Run("ManyRooms", func(t *testing.T) { testManyRooms(t, newBroker) })
	t.Run("BinarySafe", func(t *testing.T) { testBinary(t, newBroker) })
	t.Run("CloseStopsRun", func(t *testing.T) { testCloseStopsRun(t, newBroker) })
	t.Run("CancelStopsRun", func(t *testing.T) { testCancelStopsRun(t, newBroker) })
}

// Start runs b with a new Recorder until the test ends, then closes b
// and checks that Run returned. It returns once b delivers: Run is
// started on another goroutine, and the Memory broker drops what is
// published before its Run has begun.
func Start(t testing.TB, b broker.Broker) *Recorder {
	t.Helper()
	rec := NewRecorder()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- b.Run(ctx, rec) }()
	t.Cleanup(func() {
		if err := b.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("run: %v", err)
			}
		case <-time.After(waitTimeout):
			t.Errorf("Run did not return within %v of Close", waitTimeout)
		}
		cancel()
	})
	awaitRunning(t, b, rec)
	return rec
}

// readyRoom is the room Start uses to see that Run delivers.
const readyRoom = "brokertest-ready"

func awaitRunning(t testing.TB, b broker.Broker, rec *Recorder) {
	t.Helper()
	Subscribe(t, b, readyRoom)
	deadline := time.Now().Add(waitTimeout)
	for len(rec.Payloads(readyRoom)) == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("broker delivered nothing within %v of Run", waitTimeout)
		}
		Publish(t, b, readyRoom, []byte("ready"))
		select {
		case <-rec.changedChan():
		case <-time.After(10 * time.Millisecond):
		}
	}
	if err := b.Unsubscribe(context.Background(), readyRoom); err != nil {
		t.Fatalf("unsubscribe %q: %v", readyRoom, err)
	}
}

// Subscribe subscribes b to rooms or fails the test.
func Subscribe(t testing.TB, b broker.Broker, rooms ...string) {
	t.Helper()
	for _, room := range rooms {
		if err := b.Subscribe(context.Background(), room); err != nil {
			t.Fatalf("subscribe %q: %v", room, err)
		}
	}
}

// Publish publishes payload to room or fails the test.
func Publish(t testing.TB, b broker.Broker, room string, payload []byte) {
	t.Helper()
	if err := b.Publish(context.Background(), room, payload); err != nil {
		t.Fatalf("publish to %q: %v", room, err)
	}
}

// Barrier publishes a marker to room, which receivers subscribe to, and
// waits until each receiver got it. Payloads a broker delivers travel in
// order, so whatever was published earlier and not delivered by then
// will not be.
func Barrier(t testing.TB, pub broker.Broker, room string, receivers ...*Recorder) {
	t.Helper()
	marker := []byte("barrier")
	counts := make([]int, len(receivers))
	for i, rec := range receivers {
		counts[i] = len(rec.Payloads(room))
	}
	Publish(t, pub, room, marker)
	for i, rec := range receivers {
		got := rec.WaitPayloads(t, room, counts[i]+1)
		if !bytes.Equal(got[len(got)-1], marker) {
			t.Fatalf("barrier in %q: last payload %q, want %q", room, got[len(got)-1], marker)
		}
	}
}

func testSubscribedOnly(t *testing.T, newBroker func(*testing.T) broker.Broker) {
	b := newBroker(t)
	rec := Start(t, b)
	Subscribe(t, b, "a", "sync")
	Publish(t, b, "b", []byte("to b"))
	Publish(t, b, "a", []byte("to a"))
	got := rec.WaitPayloads(t, "a", 1)
	Barrier(t, b, "sync", rec)
	if len(got) != 1 || string(got[0]) != "to a" {
		t.Fatalf("room a got %q, want [to a]", got)
	}
	if got := rec.Payloads("b"); len(got) != 0 {
		t.Fatalf("unsubscribed room b got %q", got)
	}
}

// testEffectiveOnReturn publishes right after Subscribe returns: the
// payload must arrive (the hub subscribes, then reads the store).
func testEffectiveOnReturn(t *testing.T, newBroker func(*testing.T) broker.Broker) {
	b := newBroker(t)
	rec := Start(t, b)
	for i := range 50 {
		room := "r" + strconv.Itoa(i)
		Subscribe(t, b, room)
		Publish(t, b, room, []byte("first"))
	}
	for i := range 50 {
		rec.WaitPayloads(t, "r"+strconv.Itoa(i), 1)
	}
}

func testOrder(t *testing.T, newBroker func(*testing.T) broker.Broker) {
	const n = 1000
	b := newBroker(t)
	rec := Start(t, b)
	Subscribe(t, b, "room")
	for i := range n {
		Publish(t, b, "room", []byte(strconv.Itoa(i)))
	}
	checkSequence(t, rec.WaitPayloads(t, "room", n), n)
}

// testPublishAll: payloads published together arrive once each, in
// order, between what was published before and after them.
func testPublishAll(t *testing.T, newBroker func(*testing.T) broker.Broker) {
	b := newBroker(t)
	rec := Start(t, b)
	Subscribe(t, b, "room")
	Publish(t, b, "room", []byte("0"))
	var batch [][]byte
	for i := 1; i <= 8; i++ {
		batch = append(batch, []byte(strconv.Itoa(i)))
	}
	if err := b.PublishAll(context.Background(), "room", batch); err != nil {
		t.Fatalf("PublishAll: %v", err)
	}
	if err := b.PublishAll(context.Background(), "other", batch); err != nil {
		t.Fatalf("PublishAll to an unsubscribed room: %v", err)
	}
	Publish(t, b, "room", []byte("9"))
	checkSequence(t, rec.WaitPayloads(t, "room", 10), 10)
	Barrier(t, b, "room", rec)
	if got := rec.Payloads("other"); len(got) != 0 {
		t.Fatalf("unsubscribed room got %q", got)
	}
}

func checkSequence(t testing.TB, got [][]byte, n int) {
	t.Helper()
	if len(got) != n {
		t.Fatalf("got %d payloads, want %d", len(got), n)
	}
	for i, p := range got {
		if string(p) != strconv.Itoa(i) {
			t.Fatalf("payload %d is %q, want %d", i, p, i)
		}
	}
}

// testConcurrentOrder has several goroutines publish to one room: every
// payload arrives once and each publisher's payloads keep their order.
func testConcurrentOrder(t *testing.T, newBroker func(*testing.T) broker.Broker) {
	const publishers, each = 4, 250
	b := newBroker(t)
	rec := Start(t, b)
	Subscribe(t, b, "room")
	var wg sync.WaitGroup
	errs := make(chan error, publishers)
	for p := range publishers {
		wg.Go(func() {
			for i := range each {
				if err := b.Publish(context.Background(), "room", fmt.Appendf(nil, "%d/%d", p, i)); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("publish: %v", err)
	}
	next := make([]int, publishers)
	for _, payload := range rec.WaitPayloads(t, "room", publishers*each) {
		var p, i int
		if _, err := fmt.Sscanf(string(payload), "%d/%d", &p, &i); err != nil {
			t.Fatalf("bad payload %q: %v", payload, err)
		}
		if i != next[p] {
			t.Fatalf("publisher %d: got %d, want %d", p, i, next[p])
		}
		next[p]++
	}
}

func testUnsubscribe(t *testing.T, newBroker func(*testing.T) broker.Broker) {
	b := newBroker(t)
	rec := Start(t, b)
	Subscribe(t, b, "a", "sync")
	Publish(t, b, "a", []byte("before"))
	rec.WaitPayloads(t, "a", 1)
	if err := b.Unsubscribe(context.Background(), "a"); err != nil {
		t.Fatalf("unsubscribe: %v", err)
	}
	Publish(t, b, "a", []byte("after"))
	Barrier(t, b, "sync", rec)
	if got := rec.Payloads("a"); len(got) != 1 {
		t.Fatalf("room a got %q after unsubscribe, want only [before]", got)
	}
	// Unsubscribing an unsubscribed room is harmless; subscribing again
	// resumes delivery.
	if err := b.Unsubscribe(context.Background(), "a"); err != nil {
		t.Fatalf("second unsubscribe: %v", err)
	}
	Subscribe(t, b, "a")
	Publish(t, b, "a", []byte("again"))
	if got := rec.WaitPayloads(t, "a", 2); string(got[1]) != "again" {
		t.Fatalf("after resubscribe got %q", got)
	}
}

func testSubscribeTwice(t *testing.T, newBroker func(*testing.T) broker.Broker) {
	b := newBroker(t)
	rec := Start(t, b)
	Subscribe(t, b, "a", "a", "sync")
	Publish(t, b, "a", []byte("once"))
	rec.WaitPayloads(t, "a", 1)
	Barrier(t, b, "sync", rec)
	if got := rec.Payloads("a"); len(got) != 1 {
		t.Fatalf("room a got %q, want one payload", got)
	}
	if got := rec.Interruptions(); len(got) != 0 {
		t.Fatalf("Interrupted(%v) without any failure", got)
	}
}

func testManyRooms(t *testing.T, newBroker func(*testing.T) broker.Broker) {
	const rooms, each = 200, 5
	b := newBroker(t)
	rec := Start(t, b)
	for r := range rooms {
		Subscribe(t, b, "room-"+strconv.Itoa(r))
	}
	for i := range each {
		for r := range rooms {
			Publish(t, b, "room-"+strconv.Itoa(r), []byte(strconv.Itoa(i)))
		}
	}
	for r := range rooms {
		checkSequence(t, rec.WaitPayloads(t, "room-"+strconv.Itoa(r), each), each)
	}
}

func testBinary(t *testing.T, newBroker func(*testing.T) broker.Broker) {
	b := newBroker(t)
	rec := Start(t, b)
	all := make([]byte, 256)
	for i := range all {
		all[i] = byte(i)
	}
	payloads := [][]byte{
		all,
		[]byte("\r\n$3\r\n*1\r\n"), // RESP framing inside a payload
		{},
		bytes.Repeat([]byte{0, 0xff, '\n'}, 64<<10/3), // ~64 KiB
	}
	room := "bin\x00ä\r\n room"
	Subscribe(t, b, room)
	for _, p := range payloads {
		Publish(t, b, room, p)
	}
	got := rec.WaitPayloads(t, room, len(payloads))
	for i := range payloads {
		if !bytes.Equal(got[i], payloads[i]) {
			t.Fatalf("payload %d changed: %d bytes, want %d", i, len(got[i]), len(payloads[i]))
		}
	}
}

func testCloseStopsRun(t *testing.T, newBroker func(*testing.T) broker.Broker) {
	b := newBroker(t)
	done := make(chan error, 1)
	go func() { done <- b.Run(context.Background(), NewRecorder()) }()
	Subscribe(t, b, "a")
	if err := b.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	waitRun(t, done)
	if err := b.Close(); err != nil {
		t.Fatalf("second close: %v", err)
	}
	if err := b.Publish(context.Background(), "a", []byte("x")); err == nil {
		t.Fatal("publish after close succeeded")
	}
	if err := b.Subscribe(context.Background(), "b"); err == nil {
		t.Fatal("subscribe after close succeeded")
	}
	// Run after Close returns at once (Memory says nil, Redis ErrClosed).
	go func() { done <- b.Run(context.Background(), NewRecorder()) }()
	select {
	case <-done:
	case <-time.After(waitTimeout):
		t.Fatalf("Run after Close did not return within %v", waitTimeout)
	}
}

func testCancelStopsRun(t *testing.T, newBroker func(*testing.T) broker.Broker) {
	b := newBroker(t)
	t.Cleanup(func() { _ = b.Close() })
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- b.Run(ctx, NewRecorder()) }()
	Subscribe(t, b, "a")
	cancel()
	waitRun(t, done)
}

func waitRun(t testing.TB, done <-chan error) {
	t.Helper()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("run returned %v", err)
		}
	case <-time.After(waitTimeout):
		t.Fatalf("Run did not return within %v", waitTimeout)
	}
}
