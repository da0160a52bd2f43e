package client

import (
	"time"

	"github.com/parleychat/parley/shared/protocol"
)

// sendWindow is how many outbox messages may await their answer on one
// connection while the node takes them as fast as they come. Acks open the
// window again.
const sendWindow = 8

// maxInternalFailures bounds the internal_error answers one message may get
// before it is dropped: a message that keeps hitting a node bug must not
// block the outbox forever. rate_limited and unavailable never count.
const maxInternalFailures = 5

// flow is the outbox's flow control on one connection; the node's send
// limit is per connection, so it starts afresh with each one. Guarded by
// Client.mu.
//
// While the node takes every message, up to sendWindow are in flight.
// When it refuses one with a retryable error the connection is throttled:
// nothing is written until the pause the node asked for (retry_after, or a
// backoff) has passed, then one message at a time, each after the
// previous one's answer and at least interval after the previous write.
// The throttle ends when the outbox is empty.
//
// interval estimates the refill interval I of the node's token bucket. A
// send refused with retry_after R, written e after the send before it,
// found the bucket with 1-R/I tokens, and that send had left at least
// none, so 1-R/I ≥ e/I, that is I ≥ R+e, with equality when the send
// before it had emptied the bucket, which is what a throttled send right
// after its pause does. interval is the largest R+e seen.
type flow struct {
	throttled bool
	interval  time.Duration // least time between writes while throttled
	resume    time.Time     // no outbox write before this
	last      time.Time     // the last outbox write
	strikes   int           // retryable refusals since the last ack
}

// window is how many messages may be in flight now.
func (fl *flow) window() int {
	if fl.throttled {
		return 1
	}
	return sendWindow
}

// wrote records an outbox write at now and returns the time since the
// previous one (0 for the first).
func (fl *flow) wrote(now time.Time) (gap time.Duration) {
	if !fl.last.IsZero() {
		gap = now.Sub(fl.last)
	}
	fl.last = now
	if fl.throttled && fl.interval > 0 {
		fl.resume = later(fl.resume, now.Add(fl.interval))
	}
	return gap
}

// acked records that the node stored a message; empty says the outbox has
// nothing left, which ends a throttle.
func (fl *flow) acked(empty bool) {
	fl.strikes = 0
	if empty {
		fl.throttled = false
	}
}

// refused throttles after a retryable refusal at now of a send written gap
// after the one before it: pause for the node's retry_after, else for a
// jittered backoff that grows with each refusal until an ack.
func (fl *flow) refused(se *ServerError, gap time.Duration, now time.Time, minWait, maxWait time.Duration) {
	fl.throttled = true
	fl.strikes++
	pause := se.RetryAfter
	if se.Code == protocol.ErrRateLimited && pause > 0 {
		pause = min(pause, maxWait)
		// A margin for the jitter of the link: arriving a little after the
		// next token is cheaper than arriving a little before it.
		est := min(pause+gap, maxWait)
		fl.interval = max(fl.interval, est+est/16)
	} else {
		d := backoffCap(fl.strikes-1, minWait, maxWait)
		pause = d/2 + jitter(d/2)
	}
	fl.resume = later(fl.resume, now.Add(pause))
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
