package state

import (
	"testing"
	"time"

	"github.com/parleychat/parley/shared/protocol"
)

func TestRowsDaysGroupsAndPending(t *testing.T) {
	loc := time.UTC
	day1 := time.Date(2025, 3, 9, 23, 58, 0, 0, loc)
	day2 := day1.Add(5 * time.Minute) // 00:03 the next day
	now := day2.Add(time.Hour)
	at := func(t time.Time) int64 { return t.UnixMilli() }
	tl := Timeline{Messages: []protocol.Message{
		{Room: "r", Offset: 1, Author: "ann", Body: "a", TS: at(day1)},
		{Room: "r", Offset: 2, Author: "ann", Body: "b", TS: at(day1.Add(time.Minute))},
		{Room: "r", Offset: 3, Author: "ann", Body: "c", TS: at(day2)},
		{Room: "r", Offset: 4, Author: "me", Body: "d", TS: at(day2.Add(time.Minute))},
		{Room: "r", Offset: 5, Author: "me", Body: "e", TS: at(day2.Add(10 * time.Minute))},
	}}
	tl.Queue("c9", "f", at(day2.Add(11*time.Minute)))
	tl.Queue("c10", "g", at(day2.Add(12*time.Minute)))
	tl.Fail("c10", "nope")

	rows := Rows(&tl, "me", now, loc)
	type want struct {
		kind      RowKind
		day, body string
		cont, own bool
		pending   bool
		failed    string
	}
	wants := []want{
		{kind: RowDay, day: "Yesterday"},
		{kind: RowMessage, body: "a"},
		{kind: RowMessage, body: "b", cont: true},
		{kind: RowDay, day: "Today"},
		{kind: RowMessage, body: "c"},
		{kind: RowMessage, body: "d", own: true},
		{kind: RowMessage, body: "e", own: true},                            // 9 minutes later: new group
		{kind: RowMessage, body: "f", own: true, cont: true, pending: true}, // pending joins the group
		{kind: RowMessage, body: "g", own: true, cont: true, failed: "nope"},
	}
	if len(rows) != len(wants) {
		t.Fatalf("got %d rows, want %d: %+v", len(rows), len(wants), rows)
	}
	for i, w := range wants {
		r := rows[i]
		if r.Kind != w.kind || r.Day != w.day || r.Body != w.body || r.Continued != w.cont ||
			r.Own != w.own || r.Pending != w.pending || r.Failed != w.failed {
			t.Errorf("row %d = %+v, want %+v", i, r, w)
		}
	}
	if rows[1].Clock != "23:58" || rows[4].Clock != "00:03" {
		t.Errorf("clocks: %q %q", rows[1].Clock, rows[4].Clock)
	}
	if rows[1].Title != "Sunday, 9 March 2025 at 23:58:00" {
		t.Errorf("title = %q", rows[1].Title)
	}
}

func TestRowsEmpty(t *testing.T) {
	if rows := Rows(&Timeline{}, "me", time.Now(), time.UTC); len(rows) != 0 {
		t.Fatalf("rows of an empty timeline: %+v", rows)
	}
}

func BenchmarkRows1000(b *testing.B) {
	var tl Timeline
	base := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli()
	for i := range 1000 {
		tl.Add("me", protocol.Message{Room: "r", Offset: int64(i + 1), Author: []string{"ann", "bob", "me"}[i%3], Body: "hello there", TS: base + int64(i)*90_000})
	}
	now := time.UnixMilli(base).Add(48 * time.Hour)
	b.ReportAllocs()
	for range b.N {
		Rows(&tl, "me", now, time.UTC)
	}
}
