package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/parleychat/parley/server/store"
	"github.com/parleychat/parley/shared/protocol"
)

var appendTests = []test{
	{"DenseOffsets", testAppendDense},
	{"UnknownRoom", testAppendUnknownRoom},
	{"IdempotentResend", testAppendResend},
	{"EmptyCIDNotIdempotent", testAppendEmptyCID},
	{"TimestampRoundTrip", testAppendTS},
}

func testAppendDense(t *testing.T, s store.Store) {
	mustRoom(t, s, "a")
	mustRoom(t, s, "b")
	for i := 1; i <= 10; i++ {
		m, dup := mustAppend(t, s, "a", "alice", fmt.Sprintf("a%d", i), fmt.Sprintf("cid-a%d", i))
		if dup || m.Offset != int64(i) || m.Room != "a" || m.Author != "alice" ||
			m.Body != fmt.Sprintf("a%d", i) || m.CID != fmt.Sprintf("cid-a%d", i) {
			t.Fatalf("append %d returned %+v, dup %v", i, m, dup)
		}
		if i%2 == 0 { // rooms number independently
			if m, _ := mustAppend(t, s, "b", "bob", "b", ""); m.Offset != int64(i/2) {
				t.Fatalf("room b: offset %d, want %d", m.Offset, i/2)
			}
		}
	}
	checkHead(t, s, "a", 10)
	checkHead(t, s, "b", 5)
}

// checkHead fails the test unless room's head is want.
func checkHead(t *testing.T, s store.Store, room string, want int64) {
	t.Helper()
	r, err := s.Room(t.Context(), room)
	if err != nil {
		t.Fatalf("Room(%s): %v", room, err)
	}
	if r.Head != want {
		t.Fatalf("room %s head = %d, want %d", room, r.Head, want)
	}
}

func testAppendUnknownRoom(t *testing.T, s store.Store) {
	for _, cid := range []string{"", "c1"} {
		_, _, err := s.Append(t.Context(), store.Message{Room: "nowhere", Author: "alice", Body: "hi", CID: cid})
		wantErr(t, "Append to an unknown room", err, store.ErrNotFound)
	}
}

func testAppendResend(t *testing.T, s store.Store) {
	mustRoom(t, s, "r")
	mustRoom(t, s, "elsewhere")
	first, _ := mustAppend(t, s, "r", "alice", "hello", "c1")
	mustAppend(t, s, "r", "bob", "between", "b1")
	// A resend, even with another body or to another room, returns the
	// original and uses no offset.
	for _, room := range []string{"r", "elsewhere"} {
		again, dup := mustAppend(t, s, room, "alice", "hello (edited)", "c1")
		if !dup || !sameMessage(again, first) {
			t.Fatalf("resend to %s = %+v dup %v; want original %+v dup true", room, again, dup, first)
		}
	}
	checkHead(t, s, "r", 2)
	checkHead(t, s, "elsewhere", 0)
	// The same cid from another author is another message.
	other, dup := mustAppend(t, s, "r", "bob", "hi", "c1")
	if dup || other.Offset != 3 || other.Author != "bob" {
		t.Fatalf("same cid, other author: %+v dup %v; want a new message at offset 3", other, dup)
	}
	next, _ := mustAppend(t, s, "r", "alice", "next", "c2")
	if next.Offset != 4 {
		t.Fatalf("offset after resends = %d, want 4", next.Offset)
	}
	checkOffsets(t, s, "r", 4)
}

func testAppendEmptyCID(t *testing.T, s store.Store) {
	mustRoom(t, s, "r")
	for i := 1; i <= 3; i++ {
		m, dup := mustAppend(t, s, "r", "alice", "same", "")
		if dup || m.Offset != int64(i) {
			t.Fatalf("append %d without cid: %+v dup %v", i, m, dup)
		}
	}
}

func testAppendTS(t *testing.T, s store.Store) {
	mustRoom(t, s, "r")
	m, _ := mustAppend(t, s, "r", "alice", "time", "t1")
	checkTime(t, "Append TS", m.TS)
	got, err := s.History(t.Context(), "r", store.Page{Newest: true})
	if err != nil || len(got) != 1 {
		t.Fatalf("History = %v, %v", got, err)
	}
	if !sameMessage(got[0], m) || got[0].TS.Location() != time.UTC {
		t.Fatalf("History returned %+v (%v), Append returned %+v", got[0], got[0].TS.Location(), m)
	}
	again, _ := mustAppend(t, s, "r", "alice", "time", "t1")
	if !again.TS.Equal(m.TS) {
		t.Fatalf("resend TS %v, want the original's %v", again.TS, m.TS)
	}
	later, _ := mustAppend(t, s, "r", "alice", "later", "t2")
	if later.TS.Before(m.TS) {
		t.Fatalf("later message TS %v before %v", later.TS, m.TS)
	}
}

func sameMessage(a, b store.Message) bool {
	return a.Room == b.Room && a.Offset == b.Offset && a.Author == b.Author &&
		a.Body == b.Body && a.CID == b.CID && a.TS.Equal(b.TS)
}

var historyTests = []test{
	{"PageBack", testHistoryBefore},
	{"PageForward", testHistoryAfter},
	{"Newest", testHistoryNewest},
	{"DefaultAndCappedLimit", testHistoryLimits},
	{"EmptyAndUnknown", testHistoryEmpty},
}

// fill appends n messages with bodies "m1"… to room, which it creates.
func fill(t *testing.T, s store.Store, room string, n int) {
	t.Helper()
	mustRoom(t, s, room)
	for i := 1; i <= n; i++ {
		mustAppend(t, s, room, "alice", fmt.Sprintf("m%d", i), fmt.Sprintf("%s-%d", room, i))
	}
}

// history reads a page or fails the test.
func history(t *testing.T, s store.Store, room string, p store.Page) []store.Message {
	t.Helper()
	msgs, err := s.History(t.Context(), room, p)
	if err != nil {
		t.Fatalf("History(%s, %+v): %v", room, p, err)
	}
	return msgs
}

// checkPage fails the test unless msgs are offsets from..to of room, in
// order, as fill stored them (from > to: empty).
func checkPage(t *testing.T, p store.Page, msgs []store.Message, room string, from, to int64) {
	t.Helper()
	want := max(0, to-from+1)
	if int64(len(msgs)) != want {
		t.Fatalf("page %+v: %d messages, want offsets %d..%d", p, len(msgs), from, to)
	}
	for i, m := range msgs {
		off := from + int64(i)
		if m.Offset != off || m.Room != room || m.Body != fmt.Sprintf("m%d", off) {
			t.Fatalf("page %+v: message %d is %+v, want offset %d", p, i, m, off)
		}
	}
}

func testHistoryBefore(t *testing.T, s store.Store) {
	fill(t, s, "r", 25)
	fill(t, s, "noise", 3)
	steps := []struct {
		before, from, to int64
	}{{26, 16, 25}, {16, 6, 15}, {6, 1, 5}, {1, 1, 0}, {1000, 16, 25}}
	for _, st := range steps {
		// Before wins over Newest and After.
		p := store.Page{Before: st.before, Limit: 10, Newest: true, After: 3}
		checkPage(t, p, history(t, s, "r", p), "r", st.from, st.to)
	}
}

func testHistoryAfter(t *testing.T, s store.Store) {
	fill(t, s, "r", 25)
	fill(t, s, "noise", 3)
	steps := []struct {
		after, from, to int64
	}{{0, 1, 10}, {10, 11, 20}, {20, 21, 25}, {25, 1, 0}, {99, 1, 0}}
	for _, st := range steps {
		p := store.Page{After: st.after, Limit: 10}
		checkPage(t, p, history(t, s, "r", p), "r", st.from, st.to)
	}
}

func testHistoryNewest(t *testing.T, s store.Store) {
	fill(t, s, "r", 25)
	p := store.Page{Newest: true, Limit: 7, After: 2} // Newest wins over After
	checkPage(t, p, history(t, s, "r", p), "r", 19, 25)
	p = store.Page{Newest: true, Limit: 100}
	checkPage(t, p, history(t, s, "r", p), "r", 1, 25)
}

func testHistoryLimits(t *testing.T, s store.Store) {
	mustRoom(t, s, "big")
	total := protocol.MaxBacklog + 5
	appendConcurrently(t, []store.Store{s}, "big", 8, total/8+1)
	n := int64(total/8+1) * 8
	for _, p := range []store.Page{{}, {Limit: -1}, {Newest: true}} {
		if got := history(t, s, "big", p); len(got) != protocol.HistoryPageDefault {
			t.Fatalf("page %+v: %d messages, want the default %d", p, len(got), protocol.HistoryPageDefault)
		}
	}
	p := store.Page{Limit: protocol.MaxBacklog * 10}
	got := history(t, s, "big", p)
	if len(got) != protocol.MaxBacklog || got[0].Offset != 1 {
		t.Fatalf("page %+v: %d messages from %d, want %d from 1", p, len(got), got[0].Offset, protocol.MaxBacklog)
	}
	p = store.Page{Newest: true, Limit: protocol.MaxBacklog * 10}
	got = history(t, s, "big", p)
	if len(got) != protocol.MaxBacklog || got[len(got)-1].Offset != n {
		t.Fatalf("page %+v: %d messages up to %d, want %d up to %d", p, len(got), got[len(got)-1].Offset, protocol.MaxBacklog, n)
	}
}

func testHistoryEmpty(t *testing.T, s store.Store) {
	mustRoom(t, s, "empty")
	for _, p := range []store.Page{{}, {Newest: true}, {Before: 10}, {After: 10}} {
		if got := history(t, s, "empty", p); len(got) != 0 {
			t.Fatalf("empty room, page %+v: %v", p, got)
		}
		_, err := s.History(t.Context(), "nowhere", p)
		wantErr(t, fmt.Sprintf("History(nowhere, %+v)", p), err, store.ErrNotFound)
	}
}
