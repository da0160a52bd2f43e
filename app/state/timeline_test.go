package state

import (
	"fmt"
	"slices"
	"testing"

	"github.com/parleychat/parley/shared/protocol"
)

func msg(off int64, author string) protocol.Message {
	return protocol.Message{Room: "general", Offset: off, Author: author, Body: fmt.Sprintf("m%d", off), TS: off * 1000}
}

func offsets(t *Timeline) []int64 {
	var out []int64
	for _, m := range t.Messages {
		out = append(out, m.Offset)
	}
	return out
}

func TestTimelineMergesByOffset(t *testing.T) {
	var tl Timeline
	// Live messages first, then the history page that overlaps them, then
	// an older page, then duplicates of everything.
	if n := tl.Add("me", msg(51, "a"), msg(52, "b")); n != 2 {
		t.Fatalf("Add live = %d, want 2", n)
	}
	var page []protocol.Message
	for off := int64(3); off <= 52; off++ {
		page = append(page, msg(off, "a"))
	}
	if n := tl.AddPage("me", page, true); n != 48 {
		t.Fatalf("AddPage newest = %d, want 48 new", n)
	}
	if n := tl.AddPage("me", []protocol.Message{msg(1, "a"), msg(2, "a")}, false); n != 2 {
		t.Fatalf("AddPage older = %d, want 2", n)
	}
	if n := tl.Add("me", page...); n != 0 {
		t.Fatalf("re-adding = %d, want 0", n)
	}
	want := make([]int64, 52)
	for i := range want {
		want[i] = int64(i + 1)
	}
	if got := offsets(&tl); !slices.Equal(got, want) {
		t.Fatalf("offsets = %v, want 1..52", got)
	}
	if tl.Messages[50].Author != "a" || tl.Messages[51].Author != "b" {
		t.Fatalf("a duplicate replaced the copy already held: %+v", tl.Messages[50:])
	}
	if tl.Oldest() != 1 || tl.Newest() != 52 || tl.HasOlder() {
		t.Fatalf("Oldest %d Newest %d HasOlder %v", tl.Oldest(), tl.Newest(), tl.HasOlder())
	}
}

func TestTimelineIgnoresInvalidOffsets(t *testing.T) {
	var tl Timeline
	if n := tl.Add("me", msg(0, "a"), msg(-3, "a")); n != 0 || len(tl.Messages) != 0 {
		t.Fatalf("Add kept offsets <= 0: %v", offsets(&tl))
	}
}

func TestTimelineHasOlder(t *testing.T) {
	var tl Timeline
	if !tl.HasOlder() {
		t.Fatal("an empty timeline that never loaded must allow loading")
	}
	tl.AddPage("me", nil, false)
	if tl.HasOlder() {
		t.Fatal("an empty room has nothing older")
	}
	tl = Timeline{}
	tl.AddPage("me", []protocol.Message{msg(10, "a")}, true)
	if !tl.HasOlder() {
		t.Fatal("more=true must allow loading older")
	}
	tl.AddPage("me", []protocol.Message{msg(9, "a")}, false)
	if tl.HasOlder() {
		t.Fatal("more=false must stop loading older")
	}
}

func TestPendingAckThenEcho(t *testing.T) {
	var tl Timeline
	tl.Queue("c1", "hello", 5)
	tl.Queue("c1", "hello", 5) // a second queue of the same cid is ignored
	if len(tl.Pending) != 1 {
		t.Fatalf("pending = %d, want 1", len(tl.Pending))
	}
	if !tl.Ack("me", "general", "c1", 7, 99) {
		t.Fatal("Ack of a pending cid returned false")
	}
	if len(tl.Pending) != 0 || len(tl.Messages) != 1 {
		t.Fatalf("after ack: pending %d messages %d", len(tl.Pending), len(tl.Messages))
	}
	m := tl.Messages[0]
	if m.Offset != 7 || m.Author != "me" || m.Body != "hello" || m.TS != 99 || m.CID != "c1" {
		t.Fatalf("acked message = %+v", m)
	}
	// The node's echo of the same message adds nothing.
	echo := protocol.Message{Room: "general", Offset: 7, Author: "me", Body: "hello", TS: 99, CID: "c1"}
	if n := tl.Add("me", echo); n != 0 || len(tl.Messages) != 1 {
		t.Fatalf("echo added %d, messages %d", n, len(tl.Messages))
	}
	if tl.Ack("me", "general", "c1", 7, 99) {
		t.Fatal("a second ack found a pending message")
	}
}

func TestPendingEchoThenAck(t *testing.T) {
	var tl Timeline
	tl.Queue("c1", "hello", 5)
	tl.Queue("c2", "again", 6)
	echo := protocol.Message{Room: "general", Offset: 3, Author: "me", Body: "hello", TS: 9, CID: "c1"}
	tl.Add("me", echo)
	if len(tl.Pending) != 1 || tl.Pending[0].CID != "c2" {
		t.Fatalf("echo did not clear its pending message: %+v", tl.Pending)
	}
	if tl.Ack("me", "general", "c1", 3, 9) {
		t.Fatal("ack after echo found a pending message")
	}
	if len(tl.Messages) != 1 {
		t.Fatalf("messages = %d, want 1", len(tl.Messages))
	}
}

func TestEchoOfAnotherAuthorKeepsPending(t *testing.T) {
	var tl Timeline
	tl.Queue("c1", "hello", 5)
	tl.Add("me", protocol.Message{Room: "general", Offset: 3, Author: "eve", Body: "x", CID: "c1"})
	if len(tl.Pending) != 1 {
		t.Fatal("someone else's message with the same cid cleared a pending one")
	}
}

func TestPendingFailRetryDiscard(t *testing.T) {
	var tl Timeline
	tl.Queue("c1", "hello", 5)
	if !tl.Fail("c1", "too long") || tl.Pending[0].Failed != "too long" {
		t.Fatalf("Fail did not mark: %+v", tl.Pending)
	}
	if tl.Fail("nope", "x") {
		t.Fatal("Fail of an unknown cid returned true")
	}
	tl.Discard("c1")
	if len(tl.Pending) != 0 {
		t.Fatal("Discard kept the message")
	}
}

func TestResetKeepsPending(t *testing.T) {
	var tl Timeline
	tl.Add("me", msg(1, "a"), msg(2, "a"))
	tl.AddPage("me", nil, false)
	tl.Queue("c1", "x", 1)
	tl.Reset(2)
	if tl.Epoch != 2 || len(tl.Messages) != 0 || tl.NoMore || len(tl.Pending) != 1 {
		t.Fatalf("after reset: %+v", tl)
	}
}

func TestDropBeforeAndTrim(t *testing.T) {
	var tl Timeline
	for off := int64(1); off <= 10; off++ {
		tl.Add("me", msg(off, "a"))
	}
	tl.NoMore = true
	tl.DropBefore(4)
	if got := offsets(&tl); !slices.Equal(got, []int64{4, 5, 6, 7, 8, 9, 10}) || tl.NoMore {
		t.Fatalf("DropBefore(4): %v NoMore=%v", got, tl.NoMore)
	}
	tl.DropBefore(1) // nothing older: unchanged
	if len(tl.Messages) != 7 {
		t.Fatalf("DropBefore(1) dropped messages: %v", offsets(&tl))
	}
	tl.Trim(3)
	if got := offsets(&tl); !slices.Equal(got, []int64{8, 9, 10}) {
		t.Fatalf("Trim(3): %v", got)
	}
}

func TestCloneIsDeep(t *testing.T) {
	var tl Timeline
	tl.Add("me", msg(1, "a"))
	tl.Queue("c", "x", 1)
	c := tl.Clone()
	c.Messages[0].Body = "changed"
	c.Pending[0].Body = "changed"
	if tl.Messages[0].Body == "changed" || tl.Pending[0].Body == "changed" {
		t.Fatal("Clone shares memory with the original")
	}
}

func BenchmarkTimelineAddLive(b *testing.B) {
	var tl Timeline
	b.ReportAllocs()
	for i := range b.N {
		tl.Add("me", protocol.Message{Room: "general", Offset: int64(i + 1), Author: "a", Body: "hi"})
	}
}

func BenchmarkTimelineAddOlderPage(b *testing.B) {
	page := make([]protocol.Message, 50)
	b.ReportAllocs()
	for range b.N {
		var tl Timeline
		for off := int64(1000); off < 1500; off++ {
			tl.Add("me", msg(off, "a"))
		}
		for i := range page {
			page[i] = msg(int64(950+i), "a")
		}
		tl.AddPage("me", page, true)
	}
}
