package loadgen

import (
	"testing"
	"time"

	"github.com/parleychat/parley/shared/protocol"
)

func TestHistQuantilesWithinThreePercent(t *testing.T) {
	var h Hist
	for us := 1; us <= 100000; us++ {
		h.Record(time.Duration(us) * time.Microsecond)
	}
	for _, q := range []float64{0.5, 0.9, 0.99} {
		want := q * 100000
		got := float64(h.Quantile(q).Microseconds())
		if got < want*0.96 || got > want*1.01 {
			t.Errorf("q%.2f = %.0fµs, want about %.0fµs", q, got, want)
		}
	}
	if h.Quantile(1) != 100*time.Millisecond || h.N != 100000 {
		t.Errorf("max = %v, n = %d", h.Quantile(1), h.N)
	}
}

func TestHistMergeAddsCounts(t *testing.T) {
	var a, b Hist
	a.Record(time.Millisecond)
	b.Record(time.Second)
	b.Record(time.Second)
	a.Merge(b)
	if a.N != 3 || a.Quantile(0.5) < 960*time.Millisecond || a.Max != 1e6 {
		t.Fatalf("merged: n=%d p50=%v max=%d", a.N, a.Quantile(0.5), a.Max)
	}
	var empty Hist
	if empty.Quantile(0.5) != 0 {
		t.Fatal("empty histogram has a median")
	}
}

func TestParseProcStat(t *testing.T) {
	line := "4242 (parley (x) y) S 1 2 3 4 5 6 7 8 9 10 250 50 0 0 20 0 12 0 100 1000000 300 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0\n"
	st, err := parseProcStat(line)
	if err != nil {
		t.Fatal(err)
	}
	if st.CPUSeconds != 3 || st.RSSBytes != 300*int64(pageSize()) {
		t.Fatalf("got %+v", st)
	}
	if _, err := parseProcStat("garbage"); err == nil {
		t.Fatal("garbage parsed")
	}
	self, err := ReadProcStat(0)
	if err != nil || self.RSSBytes <= 0 {
		t.Fatalf("own stat: %+v %v", self, err)
	}
}

func TestCrossPutsSendersOnTheFirstNode(t *testing.T) {
	o := Options{Shape: ShapeCross, Nodes: []string{"a", "b", "c"}, Senders: 2}
	got := []int{o.node(0), o.node(1), o.node(2), o.node(3), o.node(4)}
	want := []int{0, 0, 1, 2, 1}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("nodes = %v, want %v", got, want)
		}
	}
	o.Shape = ShapeFanout
	if o.node(4) != 1 {
		t.Fatalf("fanout: client 4 on node %d, want round robin", o.node(4))
	}
}

func TestBodyCarriesSendTime(t *testing.T) {
	now := time.Unix(0, 1234567890123)
	b := body("r1", 7, 42, now)
	if len(b) != bodyBytes {
		t.Fatalf("body is %d bytes", len(b))
	}
	got, ok := sendTime([]byte(b[len("r1 "):]))
	if !ok || got != now.UnixNano() {
		t.Fatalf("sendTime = %v %v", got, ok)
	}
}

// TestMemberCountsDuplicatesAndDisorder: a member counts each of the
// run's messages once, and every event that comes after a later offset
// of its room, whether scanned or decoded in full.
func TestMemberCountsDuplicatesAndDisorder(t *testing.T) {
	m := newMember(ClientSpec{Room: "bench-r1-0"}, "r1")
	frame := func(offset int64, b string) []byte {
		f, err := protocol.Encode(protocol.Frame{Type: protocol.TypeMsg, Msg: &protocol.Message{Room: "bench-r1-0", Offset: offset, Author: "bench1", Body: b, TS: 1, CID: "c"}})
		if err != nil {
			t.Fatal(err)
		}
		return f
	}
	sent := time.Unix(0, 1e18)
	run := func(seq int64) string { return body("r1", 1, seq, sent) }
	for _, f := range [][]byte{
		frame(1, run(1)), frame(2, "someone else's"), frame(4, run(3)),
		frame(4, run(3)),     // duplicate
		frame(3, run(2)),     // late, new
		frame(2, "again"),    // late, not the run's
		frame(5, run(4)+`"`), // escaped: decoded in full
		[]byte(`{"v":1,"type":"msg","msg":{"room":"other","offset":1,"author":"x","body":"r1 1 1 1 ","ts":1}}`),
	} {
		m.handle(f, sent.Add(time.Millisecond).UnixNano())
	}
	if got, dups, dis := m.got.Load(), m.dups.Load(), m.disorder.Load(); got != 4 || dups != 1 || dis != 2 {
		t.Fatalf("got %d, duplicates %d, out of order %d; want 4, 1, 2", got, dups, dis)
	}
	if m.decoded.Load() != 1 || m.errs.Load() != 0 || m.lat.N != 4 || m.lat.Max != 1000 {
		t.Fatalf("decoded %d, errors %d, latencies %d (max %dµs)", m.decoded.Load(), m.errs.Load(), m.lat.N, m.lat.Max)
	}
}
