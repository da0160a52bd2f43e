package state

import (
	"sort"

	"github.com/parleychat/parley/shared/protocol"
)

// Pending is a message the user sent that the node has not acknowledged.
type Pending struct {
	CID  string `json:"cid"`
	Body string `json:"body"`
	// TS is when the user sent it, in Unix milliseconds.
	TS int64 `json:"ts"`
	// Failed holds why the node refused it for good; empty while it waits.
	Failed string `json:"failed,omitempty"`
}

// Timeline is one room's messages: stored ones sorted by offset without
// duplicates, followed by the user's pending ones in the order sent. The
// zero value is an empty timeline.
type Timeline struct {
	// Epoch is the room's history generation the messages belong to.
	Epoch int64 `json:"epoch,omitempty"`
	// Messages holds stored messages in increasing offset order.
	Messages []protocol.Message `json:"messages,omitempty"`
	// Pending holds unacknowledged messages of the user, oldest first.
	Pending []Pending `json:"pending,omitempty"`
	// NoMore is true once a history page said nothing older exists.
	NoMore bool `json:"no_more,omitempty"`
}

// Newest returns the highest stored offset, 0 when there is none.
func (t *Timeline) Newest() int64 {
	if len(t.Messages) == 0 {
		return 0
	}
	return t.Messages[len(t.Messages)-1].Offset
}

// Oldest returns the lowest stored offset, 0 when there is none.
func (t *Timeline) Oldest() int64 {
	if len(t.Messages) == 0 {
		return 0
	}
	return t.Messages[0].Offset
}

// HasOlder reports whether older messages may exist on the node.
func (t *Timeline) HasOlder() bool {
	return !t.NoMore && t.Oldest() != 1
}

// Add merges stored messages into the timeline: each offset appears once
// (a repeated one keeps the copy already held), order is by offset, and a
// message carrying the cid of one of me's pending messages replaces it. It
// returns how many messages were new.
//
// Edits and deletions (protocol.MsgEdit, MsgDelete) are kept by offset
// like messages and applied to the message they target whenever both are
// held, in whichever order they arrived: the message shows its latest
// edit's body (Edited) or is Deleted with no body; the edits of a message
// carry its latest body (none once deleted), so a timeline that is saved
// holds no text the room no longer has.
//
// Reaction events (protocol.MsgReact, MsgUnreact) are kept and applied
// the same way, in offset order, each only to a message whose Reacted
// is below its offset: the message's Reactions then count its author in
// or out. A deleted message has no reactions.
func (t *Timeline) Add(me string, msgs ...protocol.Message) int {
	added := 0
	for _, m := range msgs {
		if m.Offset <= 0 {
			continue
		}
		if m.CID != "" && m.Author == me {
			t.dropPending(m.CID)
		}
		if t.insert(m) {
			added++
			t.settle(m)
		}
	}
	return added
}

// settle applies the events held for the message m (or m's target, for
// an event) after m was inserted. A message appended at the end has no
// events yet: they come after it.
func (t *Timeline) settle(m protocol.Message) {
	target := m.Offset
	if m.IsEvent() {
		target = m.Target
	} else if m.Offset == t.Newest() {
		return
	}
	i := t.index(target)
	if i < 0 || t.Messages[i].IsEvent() {
		return
	}
	msg := &t.Messages[i]
	for j := i + 1; j < len(t.Messages); j++ {
		e := &t.Messages[j]
		if e.Target != target {
			continue
		}
		switch {
		case e.Kind == protocol.MsgDelete:
			msg.Deleted, msg.Body, msg.Reactions = true, "", nil
		case e.Kind == protocol.MsgEdit && !msg.Deleted && e.Offset > msg.Edited:
			msg.Body, msg.Edited = e.Body, e.Offset
		case e.IsReactionEvent():
			applyReaction(msg, e)
		}
	}
	if !msg.Deleted && msg.Edited == 0 {
		return
	}
	for j := i + 1; j < len(t.Messages); j++ {
		if e := &t.Messages[j]; e.Target == target && e.Kind == protocol.MsgEdit {
			e.Body = msg.Body
		}
	}
}

// refresh brings the held message at i to m's state when m is newer (a
// history page read after the message was cached, and after edits the
// timeline never held).
func (t *Timeline) refresh(i int, m protocol.Message) {
	held := &t.Messages[i]
	switch {
	case held.IsEvent() || held.Deleted:
		return
	case m.Deleted:
		held.Deleted, held.Body, held.Reactions = true, "", nil
	case m.Edited > held.Edited || m.Reacted > held.Reacted:
		if m.Edited > held.Edited {
			held.Body, held.Edited = m.Body, m.Edited
		}
		if m.Reacted > held.Reacted {
			held.Reactions, held.Reacted = m.Reactions, m.Reacted
		}
	default:
		return
	}
	t.settle(*held)
}

// index returns the index of the message at offset, or -1.
func (t *Timeline) index(offset int64) int {
	i := sort.Search(len(t.Messages), func(i int) bool { return t.Messages[i].Offset >= offset })
	if i < len(t.Messages) && t.Messages[i].Offset == offset {
		return i
	}
	return -1
}

// Message returns the message at offset in its latest state.
func (t *Timeline) Message(offset int64) (protocol.Message, bool) {
	if i := t.index(offset); i >= 0 {
		return t.Messages[i], true
	}
	return protocol.Message{}, false
}

// insert places m by offset; appending, the common case, costs O(1).
func (t *Timeline) insert(m protocol.Message) bool {
	n := len(t.Messages)
	if n == 0 || t.Messages[n-1].Offset < m.Offset {
		t.Messages = append(t.Messages, m)
		return true
	}
	i := sort.Search(n, func(i int) bool { return t.Messages[i].Offset >= m.Offset })
	if i < n && t.Messages[i].Offset == m.Offset {
		t.refresh(i, m)
		return false
	}
	t.Messages = append(t.Messages, protocol.Message{})
	copy(t.Messages[i+1:], t.Messages[i:])
	t.Messages[i] = m
	return true
}

// AddPage merges a history page. more is the node's "older messages exist"
// flag: once it is false, nothing older than the page exists.
func (t *Timeline) AddPage(me string, page []protocol.Message, more bool) int {
	added := t.Add(me, page...)
	if !more {
		t.NoMore = true
	}
	return added
}

// DropBefore forgets stored messages older than offset. A client that
// skipped a gap calls it so the timeline stays contiguous; paging back
// fills it again.
func (t *Timeline) DropBefore(offset int64) {
	i := sort.Search(len(t.Messages), func(i int) bool { return t.Messages[i].Offset >= offset })
	if i > 0 {
		t.Messages = append([]protocol.Message(nil), t.Messages[i:]...)
		t.NoMore = false
	}
}

// Queue appends a message the user just sent.
func (t *Timeline) Queue(cid, body string, ts int64) {
	if t.pendingIndex(cid) >= 0 {
		return
	}
	t.Pending = append(t.Pending, Pending{CID: cid, Body: body, TS: ts})
}

// Ack turns me's pending message cid into the stored message at offset. It
// reports whether the message was pending.
func (t *Timeline) Ack(me, room, cid string, offset, ts int64) bool {
	i := t.pendingIndex(cid)
	if i < 0 {
		return false
	}
	p := t.Pending[i]
	t.dropPending(cid)
	t.insert(protocol.Message{Room: room, Offset: offset, Author: me, Body: p.Body, TS: ts, CID: cid})
	return true
}

// Fail marks a pending message as refused by the node, with reason.
func (t *Timeline) Fail(cid, reason string) bool {
	i := t.pendingIndex(cid)
	if i < 0 {
		return false
	}
	t.Pending[i].Failed = reason
	return true
}

// Discard removes a pending message (the user dismissed a failed one).
func (t *Timeline) Discard(cid string) { t.dropPending(cid) }

// Reset empties the stored messages for a new epoch; pending ones stay,
// they were never stored.
func (t *Timeline) Reset(epoch int64) {
	t.Epoch = epoch
	t.Messages = nil
	t.NoMore = false
}

// Trim keeps at most n stored messages, dropping the oldest ones; the
// dropped ones can be paged back in.
func (t *Timeline) Trim(n int) {
	if n >= 0 && len(t.Messages) > n {
		t.Messages = append([]protocol.Message(nil), t.Messages[len(t.Messages)-n:]...)
		t.NoMore = false
	}
}

// Clone returns a deep copy of t, for readers outside the owner's lock.
func (t *Timeline) Clone() Timeline {
	c := *t
	c.Messages = append([]protocol.Message(nil), t.Messages...)
	c.Pending = append([]Pending(nil), t.Pending...)
	return c
}

func (t *Timeline) pendingIndex(cid string) int {
	for i := range t.Pending {
		if t.Pending[i].CID == cid {
			return i
		}
	}
	return -1
}

func (t *Timeline) dropPending(cid string) {
	if i := t.pendingIndex(cid); i >= 0 {
		t.Pending = append(t.Pending[:i:i], t.Pending[i+1:]...)
	}
}
