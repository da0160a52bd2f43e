//go:build !js

package client

import (
	"testing"

	"github.com/parleychat/parley/shared/protocol"
)

func msg(off int64) *protocol.Message {
	return &protocol.Message{Room: "r", Offset: off, Author: "bob", Body: "m"}
}

func msgs(offs ...int64) []protocol.Message {
	out := make([]protocol.Message, len(offs))
	for i, o := range offs {
		out[i] = *msg(o)
	}
	return out
}

// feed accepts offsets in order and returns the delivered offsets, the
// gap events and whether a fetch was wanted after the last one.
func feed(rs *roomState, offs ...int64) (delivered []int64, gaps []Event, fetch bool) {
	for _, o := range offs {
		var evs []Event
		evs, fetch = rs.accept(msg(o), 1000, nil)
		d, g := split(evs)
		delivered, gaps = append(delivered, d...), append(gaps, g...)
	}
	return delivered, gaps, fetch
}

func split(evs []Event) (delivered []int64, gaps []Event) {
	for _, ev := range evs {
		switch ev.Kind {
		case EventMessage:
			delivered = append(delivered, ev.Offset)
		case EventGap:
			gaps = append(gaps, ev)
		}
	}
	return delivered, gaps
}

func TestRoomDropsDuplicatesByOffset(t *testing.T) {
	rs := newRoomState("r", 0, 0)
	got, gaps, _ := feed(rs, 1, 2, 2, 1, 3, 3)
	if !equalOffsets(got, seq(1, 3)) || len(gaps) != 0 {
		t.Fatalf("delivered %v gaps %v, want 1..3 once", got, gaps)
	}
	rs = newRoomState("r", 0, 10)
	if got, _, _ := feed(rs, 9, 10, 11); !equalOffsets(got, []int64{11}) {
		t.Fatalf("since 10: delivered %v, want [11]", got)
	}
}

func TestRoomBuffersGapAndFillsInOrder(t *testing.T) {
	rs := newRoomState("r", 0, 0)
	got, _, fetch := feed(rs, 1, 4, 6, 5)
	if !equalOffsets(got, []int64{1}) || !fetch {
		t.Fatalf("delivered %v fetch %v, want [1] and a fetch", got, fetch)
	}
	before, limit := rs.gapRequest()
	if before != 4 || limit != 2 {
		t.Fatalf("gap request before=%d limit=%d, want 4, 2", before, limit)
	}
	rs.gapID = "g1"
	evs, fetch := rs.fill("g1", msgs(2, 3), 1000, nil)
	got, gaps := split(evs)
	if !equalOffsets(got, seq(2, 6)) || len(gaps) != 0 || fetch {
		t.Fatalf("after fill: delivered %v gaps %v fetch %v, want 2..6", got, gaps, fetch)
	}
	if rs.last != 6 || rs.gapID != "" || len(rs.buf) != 0 {
		t.Fatalf("state last=%d gapID=%q buf=%d", rs.last, rs.gapID, len(rs.buf))
	}
}

func TestRoomOutOfOrderLiveResolvesItself(t *testing.T) {
	rs := newRoomState("r", 0, 0)
	got, _, _ := feed(rs, 1, 3)
	rs.gapID = "g1" // the fetch for 2 is in flight
	more, _, _ := feed(rs, 2)
	got = append(got, more...)
	if !equalOffsets(got, seq(1, 3)) {
		t.Fatalf("delivered %v, want 1..3", got)
	}
	// The late reply brings only what was delivered: nothing happens.
	evs, fetch := rs.fill("g1", msgs(2), 1000, nil)
	if len(evs) != 0 || fetch || rs.gapID != "" {
		t.Fatalf("late fill: events %v fetch %v gapID %q", evs, fetch, rs.gapID)
	}
}

func TestRoomLargeGapFetchedInPages(t *testing.T) {
	rs := newRoomState("r", 0, 0)
	feed(rs, 1)
	_, _, fetch := feed(rs, 502)
	if !fetch {
		t.Fatal("no fetch for a gap of 500")
	}
	before, limit := rs.gapRequest()
	if before != 502 || limit != protocol.HistoryPageMax {
		t.Fatalf("first page before=%d limit=%d", before, limit)
	}
	rs.gapID = "g1"
	page := make([]protocol.Message, 0, 200)
	for o := int64(302); o < 502; o++ {
		page = append(page, *msg(o))
	}
	evs, fetch := rs.fill("g1", page, 1000, nil)
	if got, _ := split(evs); len(got) != 0 || !fetch {
		t.Fatalf("partial fill delivered %v fetch %v; want nothing yet and another fetch", got, fetch)
	}
	if before, limit = rs.gapRequest(); before != 302 || limit != protocol.HistoryPageMax {
		t.Fatalf("second page before=%d limit=%d", before, limit)
	}
}

func TestRoomGapTooLargeIsSkipped(t *testing.T) {
	rs := newRoomState("r", 0, 5)
	evs, fetch := rs.accept(msg(2000), 1000, nil)
	got, gaps := split(evs)
	if fetch || len(gaps) != 1 || !equalOffsets(got, []int64{2000}) {
		t.Fatalf("delivered %v gaps %v fetch %v", got, gaps, fetch)
	}
	if g := gaps[0]; g.Since != 5 || g.Offset != 2000 {
		t.Fatalf("gap event since=%d offset=%d, want 5, 2000", g.Since, g.Offset)
	}
}

func TestRoomFreshSubscriptionTakesFirstOffset(t *testing.T) {
	rs := newRoomState("r", 0, 0)
	got, gaps, fetch := feed(rs, 4001, 4003, 4002)
	if !equalOffsets(got, []int64{4001, 4002, 4003}) || fetch || len(gaps) != 0 {
		t.Fatalf("delivered %v gaps %v fetch %v, want 4001..4003 and no gap", got, gaps, fetch)
	}
}

func TestRoomUnfetchableGapIsSkipped(t *testing.T) {
	rs := newRoomState("r", 0, 0)
	feed(rs, 1, 5)
	rs.gapID = "g1"
	evs, _ := rs.fill("g1", nil, 1000, nil)
	got, gaps := split(evs)
	if !equalOffsets(got, []int64{5}) || len(gaps) != 1 || gaps[0].Since != 1 || gaps[0].Offset != 5 {
		t.Fatalf("empty page: delivered %v gaps %v", got, gaps)
	}
	feed(rs, 8)
	rs.gapID = "g2"
	evs = rs.fetchFailed("g2", nil)
	if got, gaps := split(evs); !equalOffsets(got, []int64{8}) || len(gaps) != 1 {
		t.Fatalf("failed fetch: delivered %v gaps %v", got, gaps)
	}
}

func TestRoomEpochReset(t *testing.T) {
	rs := newRoomState("r", 0, 0)
	if reset, _ := rs.subscribed(7, 0, 0); reset {
		t.Fatal("first epoch reported as reset")
	}
	feed(rs, 1, 2, 3)
	if reset, _ := rs.subscribed(7, 3, 3); reset {
		t.Fatal("same epoch reported as reset")
	}
	// Offset 3 of epoch 7 means nothing in epoch 8, at head 10: start live.
	if reset, fetch := rs.subscribed(8, 3, 10); !reset || fetch || rs.last != 10 {
		t.Fatalf("new epoch: reset %v fetch %v last %d, want a reset starting live at 10", reset, fetch, rs.last)
	}
	if got, _, _ := feed(rs, 10, 11); !equalOffsets(got, []int64{11}) {
		t.Fatalf("after reset delivered %v, want [11]", got)
	}
}

func TestRoomSubscribedSetsBaselineOrTailGap(t *testing.T) {
	rs := newRoomState("r", 0, 0)
	if _, fetch := rs.subscribed(1, 0, 40); fetch || rs.last != 40 {
		t.Fatalf("new subscription: fetch %v last %d, want live from 40", fetch, rs.last)
	}
	// Reconnected with since 40: the node replays the backlog itself.
	if _, fetch := rs.subscribed(1, 40, 45); fetch {
		t.Fatal("fetch requested although the node replays the backlog")
	}

	// Subscribed to an empty room, reconnected after 3 messages: since 0
	// replays nothing, so the tail 1..3 is fetched.
	rs = newRoomState("r", 0, 0)
	rs.subscribed(1, 0, 0)
	_, fetch := rs.subscribed(1, 0, 3)
	before, limit := rs.gapRequest()
	if !fetch || before != 4 || limit != 3 {
		t.Fatalf("tail gap: fetch %v before %d limit %d, want before 4 limit 3", fetch, before, limit)
	}
	rs.gapID = "g1"
	got, _, _ := feed(rs, 4) // live while the fetch is in flight
	evs, fetch := rs.fill("g1", msgs(1, 2, 3), 1000, nil)
	more, gaps := split(evs)
	got = append(got, more...)
	if !equalOffsets(got, seq(1, 4)) || len(gaps) != 0 || fetch {
		t.Fatalf("delivered %v gaps %v fetch %v, want 1..4", got, gaps, fetch)
	}

	// A tail larger than a page is fetched page by page.
	rs = newRoomState("r", 0, 0)
	rs.subscribed(1, 0, 0)
	rs.subscribed(1, 0, 450)
	rs.gapID = "g1"
	page := make([]protocol.Message, 0, 200)
	for o := int64(251); o <= 450; o++ {
		page = append(page, *msg(o))
	}
	evs, fetch = rs.fill("g1", page, 1000, nil)
	if got, gaps := split(evs); len(got) != 0 || len(gaps) != 0 || !fetch {
		t.Fatalf("first tail page: delivered %d gaps %v fetch %v, want another fetch", len(got), gaps, fetch)
	}
	if before, limit := rs.gapRequest(); before != 251 || limit != 200 {
		t.Fatalf("second tail page before %d limit %d", before, limit)
	}
}
