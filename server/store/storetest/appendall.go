package storetest

import (
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/parleychat/parley/server/store"
	"github.com/parleychat/parley/shared/protocol"
)

var appendAllTests = []test{
	{"InOrder", testAppendAllInOrder},
	{"Duplicates", testAppendAllDuplicates},
	{"UnknownRoom", testAppendAllUnknownRoom},
	{"OneRoom", testAppendAllOneRoom},
	{"Mentions", testAppendAllMentions},
	{"Concurrent", func(t *testing.T, s store.Store) { testAppendAllConcurrently(t, []store.Store{s, s}) }},
}

// batch returns messages of author to room with the given cids, the body
// of each being "body-" and its cid.
func batch(room, author string, cids ...string) []store.Message {
	ms := make([]store.Message, len(cids))
	for i, cid := range cids {
		ms[i] = store.Message{Room: room, Author: author, Body: "body-" + cid, CID: cid}
	}
	return ms
}

// mustAppendAll appends ms with AppendAll or fails the test, and checks
// it returned one entry per message, for its author and cid.
func mustAppendAll(t *testing.T, s store.Store, ms []store.Message) []store.Appended {
	t.Helper()
	out, err := s.AppendAll(t.Context(), ms)
	if err != nil {
		t.Fatalf("AppendAll(%d messages): %v", len(ms), err)
	}
	if len(out) != len(ms) {
		t.Fatalf("AppendAll(%d messages) returned %d", len(ms), len(out))
	}
	for i := range ms {
		if out[i].Author != ms[i].Author || out[i].CID != ms[i].CID {
			t.Fatalf("AppendAll entry %d is %+v, for message %+v", i, out[i], ms[i])
		}
	}
	return out
}

// offsets returns the offsets of out and which were duplicates.
func offsets(out []store.Appended) (offs []int64, dups []bool) {
	for _, a := range out {
		offs, dups = append(offs, a.Offset), append(dups, a.Dup)
	}
	return offs, dups
}

// testAppendAllInOrder: a batch takes the room's next offsets in order,
// after a plain Append and before the next, with every field as Append
// stores it.
func testAppendAllInOrder(t *testing.T, s store.Store) {
	mustRoom(t, s, "a")
	mustAppend(t, s, "a", "alice", "first", "c0")
	out := mustAppendAll(t, s, batch("a", "alice", "c1", "c2", "c3"))
	if offs, dups := offsets(out); !slices.Equal(offs, []int64{2, 3, 4}) || slices.Contains(dups, true) {
		t.Fatalf("offsets %v, dups %v; want 2 3 4, none a duplicate", offs, dups)
	}
	for i, a := range out {
		if a.Room != "a" || a.Body != fmt.Sprintf("body-c%d", i+1) || a.TS.IsZero() || a.Kind != "" {
			t.Fatalf("entry %d: %+v", i, a)
		}
	}
	if m, _ := mustAppend(t, s, "a", "bob", "after", "c9"); m.Offset != 5 {
		t.Fatalf("append after the batch got offset %d, want 5", m.Offset)
	}
	got := history(t, s, "a", store.Page{After: 1, Limit: 3})
	for i, m := range got {
		if want := out[i].Message; m.Offset != want.Offset || m.Body != want.Body || m.Author != want.Author || !m.TS.Equal(want.TS) {
			t.Fatalf("history has %+v, AppendAll returned %+v", m, want)
		}
	}
	checkOffsets(t, s, "a", 5)
	if out, err := s.AppendAll(t.Context(), nil); err != nil || len(out) != 0 {
		t.Fatalf("AppendAll(nil) = %v, %v; want nothing", out, err)
	}
}

// testAppendAllDuplicates: a cid stored before, or earlier in the same
// batch, returns the stored message (Dup) and takes no offset; a cid the
// author used in another room returns that room's message, as Append
// does; another author's cid is not a duplicate.
func testAppendAllDuplicates(t *testing.T, s store.Store) {
	mustRoom(t, s, "a")
	mustRoom(t, s, "b")
	first := mustAppendAll(t, s, batch("a", "alice", "x", "y"))
	other, _ := mustAppend(t, s, "b", "alice", "in b", "z")
	ms := batch("a", "alice", "y", "n1", "n1", "z", "x", "n2")
	ms = append(ms, store.Message{Room: "a", Author: "bob", Body: "bob's x", CID: "x"})
	out := mustAppendAll(t, s, ms)
	offs, dups := offsets(out)
	if want := []int64{2, 3, 3, other.Offset, 1, 4, 5}; !slices.Equal(offs, want) {
		t.Fatalf("offsets %v, want %v", offs, want)
	}
	if want := []bool{true, false, true, true, true, false, false}; !slices.Equal(dups, want) {
		t.Fatalf("dups %v, want %v", dups, want)
	}
	if out[0].Body != first[1].Body || out[2].Body != "body-n1" || out[3].Room != "b" || out[3].Body != "in b" || out[6].Author != "bob" {
		t.Fatalf("duplicates returned %+v", out)
	}
	// The whole batch again: every one a duplicate, nothing stored.
	again := mustAppendAll(t, s, ms)
	if offs2, dups2 := offsets(again); !slices.Equal(offs2, offs) || slices.Contains(dups2, false) {
		t.Fatalf("resent batch: offsets %v dups %v; want %v, all duplicates", offs2, dups2, offs)
	}
	checkOffsets(t, s, "a", 5)
}

// testAppendAllUnknownRoom: ErrNotFound, and nothing stored.
func testAppendAllUnknownRoom(t *testing.T, s store.Store) {
	_, err := s.AppendAll(t.Context(), batch("nowhere", "alice", "a", "b"))
	wantErr(t, "AppendAll to an unknown room", err, store.ErrNotFound)
	mustRoom(t, s, "nowhere")
	out := mustAppendAll(t, s, batch("nowhere", "alice", "a", "b"))
	if offs, dups := offsets(out); !slices.Equal(offs, []int64{1, 2}) || slices.Contains(dups, true) {
		t.Fatalf("after the room was made: offsets %v dups %v; want 1 2, none a duplicate", offs, dups)
	}
}

// testAppendAllOneRoom: a batch naming two rooms is refused, and nothing
// of it is stored.
func testAppendAllOneRoom(t *testing.T, s store.Store) {
	mustRoom(t, s, "a")
	mustRoom(t, s, "b")
	ms := append(batch("a", "alice", "1"), batch("b", "alice", "2")...)
	if _, err := s.AppendAll(t.Context(), ms); err == nil {
		t.Fatal("AppendAll with two rooms: no error")
	}
	checkHead(t, s, "a", 0)
	checkHead(t, s, "b", 0)
}

// testAppendAllMentions: a batch records its messages' mentions as
// Append does (RoomsOf counts them), and a room event's none.
func testAppendAllMentions(t *testing.T, s store.Store) {
	mustRoom(t, s, "a")
	for _, u := range []string{"alice", "bob"} {
		if _, err := s.Join(t.Context(), "a", u); err != nil {
			t.Fatal(err)
		}
	}
	ms := batch("a", "alice", "1", "2", "3")
	ms[0].Body = "hi @bob"
	ms[1].Body = "@bob again, and @alice"
	ms[2].Kind, ms[2].Body = protocol.MsgRoom, `{"type":"topic","topic":"@bob"}`
	out := mustAppendAll(t, s, ms)
	if out[2].Kind != protocol.MsgRoom || out[0].Kind != "" {
		t.Fatalf("kinds %q %q %q", out[0].Kind, out[1].Kind, out[2].Kind)
	}
	rooms, err := s.RoomsOf(t.Context(), "bob")
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(rooms, func(r store.MemberRoom) bool { return r.Name == "a" })
	if i < 0 || rooms[i].Mentions != 2 {
		t.Fatalf("bob's rooms %+v; want a with 2 mentions", rooms)
	}
}

// testAppendAllConcurrently appends batches to one room from several
// goroutines spread over stores (nodes sharing a database): each batch's
// offsets are contiguous and in order, and the room's are unique and
// gapless.
func testAppendAllConcurrently(t *testing.T, stores []store.Store) {
	const workers, batches, size = 4, 15, 8
	mustRoom(t, stores[0], "shared")
	var wg sync.WaitGroup
	for w := range workers {
		s := stores[w%len(stores)]
		wg.Go(func() {
			for b := range batches {
				cids := make([]string, size)
				for i := range cids {
					cids[i] = fmt.Sprintf("w%d-b%d-%d", w, b, i)
				}
				out, err := s.AppendAll(t.Context(), batch("shared", fmt.Sprintf("user%d", w), cids...))
				if err != nil {
					t.Errorf("worker %d: AppendAll: %v", w, err)
					return
				}
				for i, a := range out {
					if a.Dup || a.Offset != out[0].Offset+int64(i) {
						t.Errorf("worker %d batch %d: offsets %v, not contiguous", w, b, out)
						return
					}
				}
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	for _, s := range stores {
		checkOffsets(t, s, "shared", workers*batches*size)
	}
}
