package client

import (
	"testing"
	"time"

	"golang.org/x/time/rate"

	"github.com/parleychat/parley/shared/protocol"
)

// drain simulates the throttle against the node's token bucket on a
// simulated clock without latency: n messages, written at least step
// apart, each answered at once. It returns the refusals and the simulated
// time the outbox took.
func drain(n int, step time.Duration, lim *rate.Limiter) (refusals int, took time.Duration) {
	var fl flow
	t0 := time.Unix(1_000_000, 0)
	now := t0
	for left := n; left > 0; {
		now = later(now.Add(step), fl.resume)
		gap := fl.wrote(now)
		r := lim.ReserveN(now, 1)
		if d := r.DelayFrom(now); d > 0 {
			r.CancelAt(now)
			refusals++
			se := &ServerError{Code: protocol.ErrRateLimited, RetryAfter: max(d.Truncate(time.Millisecond), time.Millisecond)}
			fl.refused(se, gap, now, time.Millisecond, time.Second)
			continue
		}
		left--
		fl.acked(left == 0)
	}
	return refusals, now.Sub(t0)
}

// Once throttled, the outbox is paced at the node's rate instead of
// being refused once per message, however the first refusal found the
// bucket (empty, or partly refilled).
func TestThrottleLearnsNodeRate(t *testing.T) {
	const n, burst = 200, 20
	const every = 20 * time.Millisecond // the node's refill interval: 50/s
	for _, step := range []time.Duration{0, time.Millisecond, 3 * time.Millisecond, 7 * time.Millisecond, 13 * time.Millisecond} {
		refusals, took := drain(n, step, rate.NewLimiter(rate.Every(every), burst))
		ideal := time.Duration(n-burst) * every
		t.Logf("writes %v apart: %d refusals, %v for %d messages (ideal %v)", step, refusals, took, n, ideal)
		if refusals > 5 {
			t.Errorf("writes %v apart: %d refusals for %d messages: the pacing did not learn the rate", step, refusals, n)
		}
		if took > ideal+ideal/5 {
			t.Errorf("writes %v apart: took %v, more than 1.2× the node's rate allows (%v)", step, took, ideal)
		}
	}
}
