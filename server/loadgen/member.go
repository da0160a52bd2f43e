package loadgen

import (
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"

	"github.com/parleychat/parley/shared/protocol"
)

// member is one connection of a worker and what it saw. Its counters are
// atomics (the worker reads them while the connection runs); messages,
// frames, seen, last, lat and buf belong to its reader (the goroutine in
// run) until it has stopped.
type member struct {
	spec       ClientSpec
	prefix     []byte // the run's body prefix, "RUN "
	subscribed chan struct{}
	subOnce    sync.Once

	got        atomic.Int64 // distinct deliveries of this run's messages
	dups       atomic.Int64
	disorder   atomic.Int64 // events that came after a later offset of the room
	acked      atomic.Int64
	refused    atomic.Int64 // sends answered with an error
	reconnects atomic.Int64
	errs       atomic.Int64
	decoded    atomic.Int64 // frames decoded in full (not scanned)
	first      atomic.Int64
	lastNanos  atomic.Int64

	messages, frames int64 // WebSocket messages read and the frames they held

	cmdID atomic.Uint32 // Centrifugo: the last command id used
	epoch string        // Centrifugo: the channel stream's epoch, once subscribed

	seen []uint64 // offsets of this run's messages delivered, a bitset
	last int64    // the room's highest offset delivered (or its head when subscribed from 0)
	lat  Hist
	buf  []byte // the message being read

	mu      sync.Mutex      // guards ws and pending
	ws      *websocket.Conn // the live connection; nil between connections
	pending []outgoing      // sends not yet answered, in send order
}

// maxOffset bounds the offsets a member keeps in its bitset (256 MiB of
// it): a run's room holds far fewer events.
const maxOffset = 1 << 31

// outgoing is one send frame awaiting its ack.
type outgoing struct {
	cid   string
	frame []byte
}

// centrifugo reports whether the member speaks Centrifugo's protocol.
func (m *member) centrifugo() bool { return m.spec.Target == TargetCentrifugo }

func newMember(cs ClientSpec, run string) *member {
	return &member{spec: cs, prefix: []byte(run + " "), subscribed: make(chan struct{})}
}

// handle acts on one frame from the node, at now: a plain msg frame is
// scanned (scanMsg), anything else decoded in full.
func (m *member) handle(frame []byte, now int64) {
	if lm, ok := scanMsg(frame); ok {
		m.delivered(lm.Room, lm.Offset, lm.Body, now)
		return
	}
	m.decoded.Add(1)
	f, err := protocol.Decode(frame)
	if err != nil {
		m.errs.Add(1)
		return
	}
	switch f.Type {
	case protocol.TypeMsg:
		if f.Msg != nil {
			m.delivered([]byte(f.Msg.Room), f.Msg.Offset, []byte(f.Msg.Body), now)
		}
	case protocol.TypeSubscribed:
		if f.Room == m.spec.Room {
			if f.Since == 0 {
				// Live messages start after the head; nothing before
				// it is replayed.
				m.last = max(m.last, f.Head)
			}
			m.subOnce.Do(func() { close(m.subscribed) })
		}
	case protocol.TypeAck:
		if m.answered(f.CID) {
			m.acked.Add(1)
		}
	case protocol.TypeError:
		m.errs.Add(1)
		if m.answered(f.Ref) {
			m.refused.Add(1)
		}
	case protocol.TypeResync, protocol.TypeRemoved:
		m.errs.Add(1)
	}
}

// delivered counts one event of a room: this run's messages once per
// offset, with their latency from the send time their bodies carry, and
// every event of the member's room in offset order.
func (m *member) delivered(room []byte, offset int64, body []byte, now int64) {
	if string(room) != m.spec.Room {
		return
	}
	late := offset <= m.last
	m.last = max(m.last, offset)
	if len(body) < len(m.prefix) || string(body[:len(m.prefix)]) != string(m.prefix) {
		if late {
			m.disorder.Add(1)
		}
		return
	}
	sent, ok := sendTime(body[len(m.prefix):])
	if !ok || offset <= 0 || offset > maxOffset {
		m.errs.Add(1)
		return
	}
	word, bit := offset/64, uint64(1)<<(offset%64)
	for int64(len(m.seen)) <= word {
		m.seen = append(m.seen, 0)
	}
	if m.seen[word]&bit != 0 {
		m.dups.Add(1)
		return
	}
	if late {
		m.disorder.Add(1)
	}
	m.seen[word] |= bit
	m.lat.Record(time.Duration(now - sent))
	m.first.CompareAndSwap(0, now)
	m.lastNanos.Store(now)
	m.got.Add(1)
}

// answered removes the send cid from pending; false if it was not there
// (answered already, or not a send of this member).
func (m *member) answered(cid string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	for i, o := range m.pending {
		if o.cid == cid {
			m.pending = append(m.pending[:i], m.pending[i+1:]...)
			return true
		}
	}
	return false
}

// unanswered is how many sends await their answer.
func (m *member) unanswered() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.pending)
}

// body is "RUN SENDER SEQ SENDNANOS " padded to bodyBytes.
func body(run string, sender int, seq int64, sent time.Time) string {
	b := fmt.Sprintf("%s %d %d %d ", run, sender, seq, sent.UnixNano())
	if len(b) < bodyBytes {
		b += strings.Repeat(".", bodyBytes-len(b))
	}
	return b
}

// cid names a sender's seq-th message of the run.
func cid(run string, sender int, seq int64) string {
	return run + "-" + strconv.Itoa(sender) + "-" + strconv.FormatInt(seq, 10)
}
