package loadgen

import (
	"bytes"
	"math"
	"testing"
	"time"

	"github.com/parleychat/parley/shared/protocol"
)

var testTime = time.Unix(0, 1234567890123)

// nodeMsg encodes m as a node sends it.
func nodeMsg(t testing.TB, m protocol.Message) []byte {
	t.Helper()
	b, err := protocol.Encode(protocol.Frame{Type: protocol.TypeMsg, Msg: &m})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestScanMsgReadsWhatANodeWrites(t *testing.T) {
	for _, m := range []protocol.Message{
		{Room: "bench-r1-0", Offset: 42, Author: "bench7", Body: body("r1", 7, 3, testTime), TS: 1700000000123, CID: "r1-7-3"},
		{Room: "a", Offset: 1, Author: "u", Body: "", TS: 0},
		{Room: "a", Offset: math.MaxInt64, Author: "u", Body: "x", TS: 1},
	} {
		f := nodeMsg(t, m)
		got, ok := scanMsg(f)
		if !ok {
			t.Fatalf("scanMsg refused %s", f)
		}
		if string(got.Room) != m.Room || got.Offset != m.Offset || string(got.Author) != m.Author ||
			string(got.Body) != m.Body || got.TS != m.TS || string(got.CID) != m.CID {
			t.Fatalf("scanMsg(%s) = %+v", f, got)
		}
		if testing.AllocsPerRun(100, func() { scanMsg(f) }) != 0 {
			t.Fatal("scanMsg allocates")
		}
	}
}

// TestScanMsgLeavesTheRestToTheDecoder: every frame outside the one form
// is refused, so the full decoder reads it.
func TestScanMsgLeavesTheRestToTheDecoder(t *testing.T) {
	plain := protocol.Message{Room: "a", Offset: 5, Author: "u", Body: "hi", TS: 9}
	edited := plain
	edited.Edited = 7
	event := plain
	event.Kind, event.Target = protocol.MsgEdit, 3
	quoted := plain
	quoted.Body = `say "hi"`
	html := plain
	html.Body = "<b>"
	accented := plain
	accented.Body = "café"
	for name, f := range map[string][]byte{
		"edited":        nodeMsg(t, edited),
		"event":         nodeMsg(t, event),
		"escape":        nodeMsg(t, quoted),
		"html escape":   nodeMsg(t, html),
		"non-ascii":     nodeMsg(t, accented),
		"other type":    []byte(`{"v":1,"type":"ack","cid":"c","room":"a","offset":5,"ts":9}`),
		"other version": []byte(`{"v":2,"type":"msg","msg":{"room":"a","offset":5,"author":"u","body":"hi","ts":9}}`),
		"trailing":      append(nodeMsg(t, plain), ' '),
		"extra field":   []byte(`{"v":1,"type":"msg","msg":{"room":"a","offset":5,"author":"u","body":"hi","ts":9,"x":1}}`),
		"leading zero":  []byte(`{"v":1,"type":"msg","msg":{"room":"a","offset":05,"author":"u","body":"hi","ts":9}}`),
		"negative":      []byte(`{"v":1,"type":"msg","msg":{"room":"a","offset":-5,"author":"u","body":"hi","ts":9}}`),
		"fraction":      []byte(`{"v":1,"type":"msg","msg":{"room":"a","offset":5.0,"author":"u","body":"hi","ts":9}}`),
		"huge":          []byte(`{"v":1,"type":"msg","msg":{"room":"a","offset":9223372036854775808,"author":"u","body":"hi","ts":9}}`),
		"cut short":     []byte(`{"v":1,"type":"msg","msg":{"room":"a","offset":5,"author":"u","body":"hi","ts":9}`),
	} {
		if m, ok := scanMsg(f); ok {
			t.Errorf("%s: scanMsg accepted %s as %+v", name, f, m)
		}
	}
}

// FuzzScanMsg holds scanMsg to protocol.Decode: whatever it accepts
// decodes to a msg frame with the same fields and no others.
func FuzzScanMsg(f *testing.F) {
	f.Add(nodeMsg(f, protocol.Message{Room: "bench-r1-0", Offset: 42, Author: "bench7", Body: body("r1", 7, 3, testTime), TS: 17, CID: "r1-7-3"}))
	f.Add(nodeMsg(f, protocol.Message{Room: "a", Offset: 1, Author: "u", Body: "x\"y", TS: 1, Kind: protocol.MsgDelete, Target: 1}))
	f.Add([]byte(`{"v":1,"type":"msg","msg":{"room":"a","offset":0,"author":"","body":"","ts":0,"cid":""}}`))
	f.Fuzz(func(t *testing.T, frame []byte) {
		m, ok := scanMsg(frame)
		if !ok {
			return
		}
		fr, err := protocol.Decode(frame)
		if err != nil {
			t.Fatalf("scanMsg accepted %q, which does not decode: %v", frame, err)
		}
		want := protocol.Message{Room: string(m.Room), Offset: m.Offset, Author: string(m.Author), Body: string(m.Body), TS: m.TS, CID: string(m.CID)}
		if fr.Type != protocol.TypeMsg || fr.Msg == nil || !equalMsg(*fr.Msg, want) {
			t.Fatalf("scanMsg(%q) = %+v, decoded %+v", frame, want, fr.Msg)
		}
		again, err := protocol.Encode(fr)
		if err != nil || !bytes.Equal(again, frame) {
			t.Fatalf("scanMsg accepted %q, which a node would write as %q", frame, again)
		}
	})
}

func equalMsg(a, b protocol.Message) bool {
	return a.Room == b.Room && a.Offset == b.Offset && a.Author == b.Author && a.Body == b.Body &&
		a.TS == b.TS && a.CID == b.CID && a.Kind == "" && a.Target == 0 && a.Edited == 0 &&
		!a.Deleted && len(a.Reactions) == 0 && a.Reacted == 0
}

// BenchmarkReceive is a member's cost per delivered frame: a batch of 32
// msg frames split and scanned, each counted (0 allocs).
func BenchmarkReceive(b *testing.B) {
	m := newMember(ClientSpec{Room: "bench-r1-0"}, "r1")
	const frames = 32
	batches := make([][]byte, 64)
	off := int64(0)
	for i := range batches {
		var msg []byte
		for range frames {
			off++
			msg = protocol.AppendBatch(msg, nodeMsg(b, protocol.Message{Room: "bench-r1-0", Offset: off, Author: "bench1", Body: body("r1", 1, off, testTime), TS: 1, CID: cid("r1", 1, off)}))
		}
		batches[i] = msg
	}
	now := testTime.Add(time.Millisecond).UnixNano()
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		if i%len(batches) == 0 {
			clear(m.seen) // the same offsets again, counted anew
		}
		for f, rest := protocol.NextFrame(batches[i%len(batches)]); f != nil; f, rest = protocol.NextFrame(rest) {
			m.handle(f, now)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*frames), "ns/frame")
	if m.decoded.Load() != 0 || m.errs.Load() != 0 {
		b.Fatalf("decoded %d in full, %d errors", m.decoded.Load(), m.errs.Load())
	}
}
