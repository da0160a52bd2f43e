package client

import (
	"math/rand/v2"
	"time"
)

// Backoff returns the delay before reconnect attempt number attempt (0 for
// the first retry) using exponential backoff with full jitter: a uniformly
// random duration in [0, min(max, min·2^attempt)]. Full jitter spreads the
// reconnects of many clients that lost the same node.
func Backoff(attempt int, min, max time.Duration) time.Duration {
	return jitter(backoffCap(attempt, min, max))
}

// backoffCap is the upper bound of the delay for attempt.
func backoffCap(attempt int, min, max time.Duration) time.Duration {
	if min <= 0 {
		min = time.Millisecond
	}
	if max < min {
		max = min
	}
	d := min
	for i := 0; i < attempt && d < max; i++ {
		d *= 2
	}
	if d > max {
		d = max
	}
	return d
}

// jitter returns a uniformly random duration in [0, d].
func jitter(d time.Duration) time.Duration {
	if d <= 0 {
		return 0
	}
	return time.Duration(rand.Int64N(int64(d) + 1))
}
