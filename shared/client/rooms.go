package client

import (
	"slices"
	"time"

	"github.com/parleychat/parley/shared/protocol"
)

// maxBuffered bounds the out-of-order messages a room holds while a gap is
// being fetched; beyond it the gap is skipped.
const maxBuffered = protocol.MaxBacklog + protocol.HistoryPageMax

// roomState is what the client remembers about one subscribed room. It is
// guarded by Client.mu. Only the reader (the Run goroutine) delivers
// messages; the events it appends are emitted after the lock is released.
type roomState struct {
	name  string
	last  int64 // offset of the last delivered event
	epoch int64 // 0 until a subscribed frame told it
	// fresh: subscribed without an offset and no baseline yet. The
	// subscribed frame's head (the node starts such a subscription live)
	// or else the first message sets it, instead of opening a gap.
	fresh bool
	// target is the newest offset known to exist; above last with an
	// empty buffer it is a gap at the tail, which a resubscribe from 0
	// (no backlog) leaves to be fetched.
	target int64
	// buf holds messages above last+1, sorted by offset, while the gap
	// below them is fetched.
	buf []protocol.Message
	// gapID is the id of the history request fetching the gap, if any.
	gapID string

	// subscribing: a subscribe frame went out on the current connection
	// and nothing has answered it yet.
	subscribing bool
	// retries counts the node's refusals in a row (of a subscribe or a gap
	// fetch) for the retry backoff; an answer that works resets it.
	retries int
	// resubAt and gapAt: when to try the refused subscribe or gap fetch
	// again (zero: nothing waits). While gapAt waits, no gap fetch goes out.
	resubAt, gapAt time.Time
}

func newRoomState(name string, epoch, since int64) *roomState {
	return &roomState{name: name, last: since, epoch: epoch, fresh: since == 0}
}

// accept takes one live or replayed message and appends the events it
// makes deliverable to out. needFetch reports that a gap is open and no
// request for it is in flight.
func (rs *roomState) accept(m *protocol.Message, maxGap int64, out []Event) (_ []Event, needFetch bool) {
	switch {
	case m.Offset <= rs.last:
		return out, false // duplicate
	case m.Offset == rs.last+1:
		out = rs.deliver(m, out)
	case rs.fresh:
		rs.last = m.Offset - 1
		out = rs.deliver(m, out)
	default:
		rs.insert(*m)
	}
	return rs.settle(maxGap, out)
}

// fill merges a history page fetched for the gap. id is the request it
// answers; a page that brings nothing below the gap's upper end closes the
// gap as unfetchable.
func (rs *roomState) fill(id string, msgs []protocol.Message, maxGap int64, out []Event) (_ []Event, needFetch bool) {
	top := rs.gapTop()
	progress := false
	for i := range msgs {
		m := msgs[i]
		if m.Offset <= rs.last {
			continue
		}
		if m.Offset < top {
			progress = true
		}
		rs.insert(m)
	}
	out = rs.drain(out)
	if progress {
		rs.retries = 0
	}
	if id != "" && id == rs.gapID {
		rs.gapID = ""
		if !progress && rs.gapTop() > rs.last+1 {
			out = rs.skip(out)
		}
	}
	return rs.settle(maxGap, out)
}

// fetchFailed closes the gap whose request id the node refused for good.
func (rs *roomState) fetchFailed(id string, out []Event) []Event {
	if id == "" || id != rs.gapID {
		return out
	}
	rs.gapID = ""
	if rs.gapTop() > rs.last+1 {
		out = rs.skip(out)
	}
	return out
}

// settle skips a gap that is too large or has buffered too much, and
// reports whether the remaining gap needs a request.
func (rs *roomState) settle(maxGap int64, out []Event) ([]Event, bool) {
	if rs.gapTop() == rs.last+1 {
		return out, false
	}
	if len(rs.buf) > maxBuffered || rs.gapTop()-rs.last-1 > maxGap {
		rs.gapID = ""
		return rs.skip(out), false
	}
	return out, rs.gapID == "" && rs.gapAt.IsZero()
}

// gapTop is the offset just above the open gap (the first buffered one,
// or target+1 for a gap at the tail), or last+1 when there is no gap.
func (rs *roomState) gapTop() int64 {
	switch {
	case len(rs.buf) > 0:
		return rs.buf[0].Offset
	case rs.target > rs.last:
		return rs.target + 1
	}
	return rs.last + 1
}

// gapRequest describes the history page that fetches the newest part of
// the open gap: messages before gapTop, as many as the gap holds.
func (rs *roomState) gapRequest() (before int64, limit int) {
	before = rs.gapTop()
	n := before - rs.last - 1
	if n > protocol.HistoryPageMax {
		n = protocol.HistoryPageMax
	}
	return before, int(n)
}

// skip gives up on the open gap: it reports it and delivers what follows.
func (rs *roomState) skip(out []Event) []Event {
	rs.gapAt = time.Time{}
	top := rs.gapTop()
	out = append(out, Event{Kind: EventGap, Room: rs.name, Since: rs.last, Offset: top})
	rs.last = top - 1
	return rs.drain(out)
}

func (rs *roomState) deliver(m *protocol.Message, out []Event) []Event {
	rs.last = m.Offset
	rs.fresh = false
	out = append(out, Event{Kind: EventMessage, Room: rs.name, Msg: m, Offset: m.Offset, CID: m.CID, TS: m.TS})
	return rs.drain(out)
}

// drain delivers buffered messages that have become contiguous.
func (rs *roomState) drain(out []Event) []Event {
	n := 0
	for n < len(rs.buf) && rs.buf[n].Offset <= rs.last+1 {
		if m := rs.buf[n]; m.Offset == rs.last+1 {
			rs.last = m.Offset
			rs.fresh = false
			out = append(out, Event{Kind: EventMessage, Room: rs.name, Msg: &m, Offset: m.Offset, CID: m.CID, TS: m.TS})
		}
		n++
	}
	if n > 0 {
		rs.buf = slices.Delete(rs.buf, 0, n)
		if len(rs.buf) == 0 {
			rs.buf = nil
		}
	}
	return out
}

// insert adds m to the buffer in offset order, ignoring a duplicate.
func (rs *roomState) insert(m protocol.Message) {
	i, found := slices.BinarySearchFunc(rs.buf, m.Offset, func(b protocol.Message, off int64) int {
		switch {
		case b.Offset < off:
			return -1
		case b.Offset > off:
			return 1
		}
		return 0
	})
	if !found {
		rs.buf = slices.Insert(rs.buf, i, m)
	}
}

// subscribed takes a subscribed frame: the subscription asked from since
// is live and the room's newest offset is head.
//
// A new epoch means the room's history was reset and offsets start again:
// the state starts over like a new subscription (and the caller refetches
// the latest page, as EventSubscribed.Reset tells it). A subscription
// without a baseline takes head as its baseline: the node starts it live.
// A node replays no backlog for since 0 (and for since beyond head), so if
// the room has events this client has not seen, they are a gap at the
// tail: needFetch asks for them.
func (rs *roomState) subscribed(epoch, since, head int64) (reset, needFetch bool) {
	reset = rs.epoch != 0 && epoch != rs.epoch
	rs.epoch = epoch
	rs.subscribing, rs.resubAt = false, time.Time{}
	if reset {
		rs.last, rs.fresh, rs.buf, rs.gapID, rs.target, rs.gapAt = 0, true, nil, "", 0, time.Time{}
	}
	if rs.fresh {
		rs.last, rs.fresh = max(rs.last, head), false
		return reset, false
	}
	if head > rs.last && (since == 0 || since > head) {
		rs.target = max(rs.target, head)
		return reset, rs.gapID == "" && rs.gapAt.IsZero()
	}
	if rs.gapAt.IsZero() {
		rs.retries = 0
	}
	return reset, false
}

// disconnected forgets what a connection had in flight, retries included:
// the resubscribe after the next connect replays everything after last.
func (rs *roomState) disconnected() {
	rs.buf, rs.gapID, rs.target = nil, "", 0
	rs.subscribing, rs.resubAt, rs.gapAt = false, time.Time{}, time.Time{}
}

// retryDue reports whether a refused subscribe or gap fetch waits for a
// retry, and when the first is due.
func (rs *roomState) retryDue() (time.Time, bool) {
	switch {
	case rs.resubAt.IsZero():
		return rs.gapAt, !rs.gapAt.IsZero()
	case rs.gapAt.IsZero() || rs.resubAt.Before(rs.gapAt):
		return rs.resubAt, true
	}
	return rs.gapAt, true
}
