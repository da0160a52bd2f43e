package hub_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/parleychat/parley/server/broker"
	"github.com/parleychat/parley/server/hub"
	"github.com/parleychat/parley/server/presence"
	"github.com/parleychat/parley/server/stages"
	"github.com/parleychat/parley/server/store"
	"github.com/parleychat/parley/shared/protocol"
	"github.com/parleychat/parley/shared/testenv"
)

// batchRecorder is a recorder that takes frames in batches
// (hub.BatchSubscriber) and remembers the message offsets of each.
type batchRecorder struct {
	recorder
	batches [][]int64 // guarded by recorder.mu
}

// SendAll keeps frames and their batch under one hold of the lock, so
// whoever sees the frames sees the batch too: a wait for the offsets
// (hasOffsets) that ended between the two would read a batch list
// without the batch that brought them.
func (r *batchRecorder) SendAll(frames [][]byte) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.full {
		return false
	}
	var offsets []int64
	for _, f := range frames {
		if fr := r.keepLocked(f); fr.Type == protocol.TypeMsg {
			offsets = append(offsets, fr.Msg.Offset)
		}
	}
	r.batches = append(r.batches, offsets)
	return true
}

func (r *batchRecorder) batchList() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return fmt.Sprint(r.batches)
}

// coalesceEnv runs a hub with Config.Coalesce and GapWait set to window
// on a fresh SQLite store and the in-process broker, with sub subscribed
// to general.
func coalesceEnv(t *testing.T, window time.Duration, sub hub.Subscriber) *env {
	t.Helper()
	return gapEnv(t, window, window, sub)
}

// gapEnv is coalesceEnv with a gap wait of its own.
func gapEnv(t *testing.T, window, gapWait time.Duration, sub hub.Subscriber) *env {
	t.Helper()
	return windowEnv(t, hub.Config{Coalesce: window, GapWait: gapWait}, sub)
}

// windowEnv is coalesceEnv with the gathering and gap settings of win
// (Coalesce, CoalesceMax, GapWait).
func windowEnv(t *testing.T, win hub.Config, sub hub.Subscriber) *env {
	t.Helper()
	ctx := context.Background()
	st := openSQLite(t)
	if _, err := st.EnsureRoom(ctx, "general"); err != nil {
		t.Fatal(err)
	}
	e := &env{store: st, broker: broker.NewMemory(), presence: presence.NewMemory()}
	e.stages = stages.New()
	e.hub = hub.New(hub.Config{Store: st, Broker: e.broker, Presence: e.presence, Reconcile: time.Hour, Coalesce: win.Coalesce, CoalesceMax: win.CoalesceMax, GapWait: win.GapWait, Stages: e.stages})
	runHub(t, e.hub)
	testenv.Eventually(t, waitTimeout, "subscribed", func() error { return e.hub.Subscribe(ctx, sub, "general", 0) })
	return e
}

// store appends n messages to general without publishing them.
func (e *env) stored(t *testing.T, n int) []store.Message {
	t.Helper()
	var out []store.Message
	for i := range n {
		m, _, err := e.store.Append(context.Background(), store.Message{Room: "general", Author: "ann", Body: fmt.Sprint("m", i), CID: fmt.Sprintf("%s-%d", t.Name(), i)})
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, m)
	}
	return out
}

func (e *env) publishAll(t *testing.T, ms ...store.Message) {
	t.Helper()
	for _, m := range ms {
		if err := e.hub.PublishMessage(context.Background(), m); err != nil {
			t.Fatal(err)
		}
	}
}

// TestBusyRoomSendsMessagesTogether: a message that finds the room quiet
// goes at once, alone; the ones after it, within Coalesce, wait and go to
// each subscriber in one SendAll (here when maxPending, 64, have
// gathered, long before the minute's window ends). Offsets that waited
// for a gap (3 before 2) join the gathering when it fills, instead of
// going on at once by themselves.
func TestBusyRoomSendsMessagesTogether(t *testing.T) {
	for _, c := range []struct {
		name  string
		order func(ms []store.Message) []store.Message // the 64 after the first
	}{
		{"in order", func(ms []store.Message) []store.Message { return ms }},
		{"a gap filled", func(ms []store.Message) []store.Message {
			return append([]store.Message{ms[1], ms[0]}, ms[2:]...)
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			sub := &batchRecorder{recorder: recorder{user: "bob"}}
			e := coalesceEnv(t, time.Minute, sub)
			ms := e.stored(t, 65)
			e.publishAll(t, ms[0])
			testenv.Eventually(t, waitTimeout, "the first message, at once", sub.hasOffsets(1))
			e.publishAll(t, c.order(ms[1:])...)
			want := upTo(65)
			testenv.Eventually(t, waitTimeout, "the other 64, together", sub.hasOffsets(want...))
			if got, want := sub.batchList(), fmt.Sprint([][]int64{{1}, want[1:]}); got != want {
				t.Fatalf("batches %s, want %s", got, want)
			}
		})
	}
}

// upTo is the offsets 1 to n.
func upTo(n int) []int64 {
	out := make([]int64, n)
	for i := range out {
		out[i] = int64(i + 1)
	}
	return out
}

// TestHeldMessageGoesWhenItsWindowEnds: a message held because the room
// just sent one goes on its own once Coalesce has passed.
func TestHeldMessageGoesWhenItsWindowEnds(t *testing.T) {
	sub := &batchRecorder{recorder: recorder{user: "bob"}}
	e := coalesceEnv(t, 50*time.Millisecond, sub)
	e.publishAll(t, e.stored(t, 2)...)
	testenv.Eventually(t, waitTimeout, "both messages", sub.hasOffsets(1, 2))
}

// TestBusyRoomWidensItsWindow: a room whose windows keep filling
// (Config.CoalesceMax) gathers for longer: after bursts of maxPending
// messages, a message that comes once the room has been quiet for
// Coalesce, which a room at Coalesce sends on at once and alone, waits
// and goes with the messages after it, in one SendAll.
func TestBusyRoomWidensItsWindow(t *testing.T) {
	const base, bursts = 20 * time.Millisecond, 10 // base doubled 10 times: 20 s
	sub := &batchRecorder{recorder: recorder{user: "bob"}}
	e := windowEnv(t, hub.Config{Coalesce: base, CoalesceMax: time.Hour, GapWait: time.Minute}, sub)
	ms := e.stored(t, 1+(bursts+1)*64)
	e.publishAll(t, ms[0])
	testenv.Eventually(t, waitTimeout, "the first message", sub.hasOffsets(1))
	for b := range bursts {
		n := 1 + (b+1)*64
		if err := e.hub.PublishMessages(context.Background(), ms[n-64:n]); err != nil {
			t.Fatal(err)
		}
		testenv.Eventually(t, waitTimeout, fmt.Sprint("burst ", b), sub.hasOffsets(upTo(n)...))
	}
	quiet := time.Now()
	testenv.Eventually(t, waitTimeout, "the room quiet for 3 × Coalesce", func() error {
		if d := time.Since(quiet); d < 3*base {
			return fmt.Errorf("quiet for %v", d)
		}
		return nil
	})
	last := ms[len(ms)-64:]
	e.publishAll(t, last[0])
	if err := e.hub.PublishMessages(context.Background(), last[1:]); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, waitTimeout, "every message", sub.hasOffsets(upTo(len(ms))...))
	sub.mu.Lock()
	got := sub.batches[len(sub.batches)-1]
	sub.mu.Unlock()
	if len(got) != 64 || got[0] != last[0].Offset {
		t.Fatalf("last batch %v, want the 64 offsets from %d together", got, last[0].Offset)
	}
}

// TestOutOfOrderOffsetsWaitForTheBroker: offset 2 published before 1 (two
// nodes appending at once) waits for 1 instead of reading the store, and
// both go on in order when 1 arrives; the wait is GapWait's, also with
// gathering off (Coalesce negative).
func TestOutOfOrderOffsetsWaitForTheBroker(t *testing.T) {
	for _, c := range []struct {
		name              string
		coalesce, gapWait time.Duration
	}{
		{"coalescing", time.Minute, time.Minute},
		{"not coalescing", -1, time.Minute},
	} {
		t.Run(c.name, func(t *testing.T) {
			sub := &batchRecorder{recorder: recorder{user: "bob"}}
			e := gapEnv(t, c.coalesce, c.gapWait, sub)
			ms := e.stored(t, 2)
			e.publishAll(t, ms[1], ms[0])
			testenv.Eventually(t, waitTimeout, "offsets 1 and 2 in order", sub.hasOffsets(1, 2))
			if n := e.hub.Stats().Backfilled; n != 0 {
				t.Fatalf("read %d messages from the store, want none", n)
			}
		})
	}
}

// TestGapNotFilledByTheBrokerIsReadFromTheStore: an offset the broker
// never brings is read from the store once GapWait has passed, however
// long the coalesce window (a minute: longer than the test waits).
func TestGapNotFilledByTheBrokerIsReadFromTheStore(t *testing.T) {
	for _, c := range []struct {
		name              string
		coalesce, gapWait time.Duration
	}{
		{"both 50ms", 50 * time.Millisecond, 50 * time.Millisecond},
		{"gap wait before the window ends", time.Minute, 20 * time.Millisecond},
	} {
		t.Run(c.name, func(t *testing.T) {
			sub := &batchRecorder{recorder: recorder{user: "bob"}}
			e := gapEnv(t, c.coalesce, c.gapWait, sub)
			ms := e.stored(t, 3)
			e.publishAll(t, ms[2])
			testenv.Eventually(t, waitTimeout, "offsets 1 to 3 in order", sub.hasOffsets(1, 2, 3))
			if n := e.hub.Stats().Backfilled; n < 2 {
				t.Fatalf("read %d messages from the store, want at least 2", n)
			}
			// Timed as one gap (stages.RoomGap), and offset 3 as this hub's
			// publish back from the broker; none went through the room's hold.
			testenv.Eventually(t, waitTimeout, "the gap timed", func() error {
				gap, hop, hold := e.stages.Count(stages.RoomGap), e.stages.Count(stages.BrokerHop), e.stages.Count(stages.RoomHold)
				if gap != 1 || hop != 1 || hold != 0 {
					return fmt.Errorf("room_gap %d, broker_hop %d, room_hold %d observations; want 1, 1, 0", gap, hop, hold)
				}
				return nil
			})
		})
	}
}
