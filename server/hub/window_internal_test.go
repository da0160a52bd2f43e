package hub

import (
	"testing"
	"time"
)

// TestWiden: a room's gathering window doubles, up to its top, after a
// flush whose messages came at busyRate or more per base window, and
// goes back to base after any other; it never widens when the top is
// not above base, or when gathering is off.
func TestWiden(t *testing.T) {
	const ms = time.Millisecond
	for _, c := range []struct {
		name          string
		w, base, top  time.Duration
		n             int
		elapsed, want time.Duration
	}{
		{"busy: 5 in 10 ms", 10 * ms, 10 * ms, 25 * ms, 5, 10 * ms, 20 * ms},
		{"busy, capped", 20 * ms, 10 * ms, 25 * ms, 10, 20 * ms, 25 * ms},
		{"busy at the top", 25 * ms, 10 * ms, 25 * ms, 12, 25 * ms, 25 * ms},
		{"exactly busyRate per base", 10 * ms, 10 * ms, 25 * ms, 2, 10 * ms, 20 * ms},
		{"one message", 10 * ms, 10 * ms, 25 * ms, 1, ms, 10 * ms},
		{"slower than busyRate", 20 * ms, 10 * ms, 25 * ms, 3, 20 * ms, 10 * ms},
		{"after a quiet spell", 25 * ms, 10 * ms, 25 * ms, 2, time.Hour, 10 * ms},
		{"top not above base", 10 * ms, 10 * ms, 10 * ms, 20, 10 * ms, 10 * ms},
		{"gathering off", -1, -1, 25 * ms, 20, 10 * ms, -1},
	} {
		if got := widen(c.w, c.base, c.top, c.n, c.elapsed); got != c.want {
			t.Errorf("%s: widen(%v, %v, %v, %d, %v) = %v, want %v", c.name, c.w, c.base, c.top, c.n, c.elapsed, got, c.want)
		}
	}
}
