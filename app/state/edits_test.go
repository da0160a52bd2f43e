package state

import (
	"testing"
	"time"

	"github.com/parleychat/parley/shared/protocol"
)

func edit(off, target int64, body string) protocol.Message {
	return protocol.Message{Room: "general", Offset: off, Author: "a", Body: body, TS: off * 1000, Kind: protocol.MsgEdit, Target: target}
}

func del(off, target int64) protocol.Message {
	return protocol.Message{Room: "general", Offset: off, Author: "mod", TS: off * 1000, Kind: protocol.MsgDelete, Target: target}
}

// check fails unless the message at off has body, edited and deleted.
func check(t *testing.T, tl *Timeline, off int64, body string, edited int64, deleted bool) {
	t.Helper()
	m, ok := tl.Message(off)
	if !ok || m.Body != body || m.Edited != edited || m.Deleted != deleted {
		t.Fatalf("message %d = %+v (held %v), want body %q edited %d deleted %v", off, m, ok, body, edited, deleted)
	}
}

func TestTimelineEditAfterItsMessage(t *testing.T) {
	var tl Timeline
	tl.Add("me", msg(1, "a"), msg(2, "b"))
	tl.Add("me", edit(3, 1, "first edit"))
	check(t, &tl, 1, "first edit", 3, false)
	tl.Add("me", edit(4, 1, "second edit"))
	check(t, &tl, 1, "second edit", 4, false)
	check(t, &tl, 3, "second edit", 0, false) // the older edit holds the latest text too
	tl.Add("me", edit(3, 1, "first edit"))    // a replay changes nothing
	check(t, &tl, 1, "second edit", 4, false)
	check(t, &tl, 2, "m2", 0, false)
}

func TestTimelineEventBeforeItsMessage(t *testing.T) {
	var tl Timeline
	// The newest page holds the events; the page with their target comes
	// later, still in the state it had before them (read earlier).
	tl.AddPage("me", []protocol.Message{edit(5, 2, "edited"), del(6, 3), msg(7, "b")}, true)
	tl.AddPage("me", []protocol.Message{msg(1, "a"), msg(2, "a"), msg(3, "a"), msg(4, "a")}, false)
	check(t, &tl, 2, "edited", 5, false)
	check(t, &tl, 3, "", 0, true)
	check(t, &tl, 4, "m4", 0, false)
}

func TestTimelineDeleteErasesText(t *testing.T) {
	var tl Timeline
	tl.Add("me", msg(1, "a"), edit(2, 1, "secret"), del(3, 1))
	check(t, &tl, 1, "", 2, true)
	check(t, &tl, 2, "", 0, false)
	tl.Add("me", edit(4, 1, "too late")) // cannot happen on a node; ignored here
	check(t, &tl, 1, "", 2, true)
	check(t, &tl, 4, "", 0, false)
	for _, m := range tl.Messages {
		if m.Body != "" {
			t.Fatalf("a deleted message's text is still held at %d: %q", m.Offset, m.Body)
		}
	}
}

func TestTimelineHistoryRefreshesCached(t *testing.T) {
	var tl Timeline
	tl.Add("me", msg(1, "a"), msg(2, "a"), msg(3, "a")) // cached, before any edit
	// A history page read later shows the latest state, without the events.
	latest := msg(1, "a")
	latest.Body, latest.Edited = "edited elsewhere", 9
	gone := msg(2, "a")
	gone.Body, gone.Deleted = "", true
	tl.AddPage("me", []protocol.Message{latest, gone, msg(3, "a")}, false)
	check(t, &tl, 1, "edited elsewhere", 9, false)
	check(t, &tl, 2, "", 0, true)
	older := msg(1, "a") // an older copy never rolls it back
	tl.Add("me", older)
	check(t, &tl, 1, "edited elsewhere", 9, false)
}

func TestRowsShowLatestState(t *testing.T) {
	var tl Timeline
	tl.Add("me", msg(1, "me"), msg(2, "b"), edit(3, 1, "fixed"), del(4, 2))
	rows := Rows(&tl, "me", time.UnixMilli(5000), time.UTC)
	var got []Row
	for _, r := range rows {
		if r.Kind == RowMessage {
			got = append(got, r)
		}
	}
	if len(got) != 2 {
		t.Fatalf("rows = %+v, want the two messages only (no row per event)", got)
	}
	if r := got[0]; r.Offset != 1 || r.Body != "fixed" || !r.Edited || r.Deleted || !r.Own {
		t.Fatalf("edited row = %+v", r)
	}
	if r := got[1]; r.Offset != 2 || r.Body != "" || !r.Deleted {
		t.Fatalf("deleted row = %+v", r)
	}
}
