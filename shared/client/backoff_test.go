package client

import (
	"testing"
	"time"
)

func TestBackoffCapDoublesUpToMax(t *testing.T) {
	min, max := 250*time.Millisecond, 30*time.Second
	want := []time.Duration{250 * time.Millisecond, 500 * time.Millisecond, time.Second, 2 * time.Second,
		4 * time.Second, 8 * time.Second, 16 * time.Second, 30 * time.Second, 30 * time.Second}
	for attempt, w := range want {
		if got := backoffCap(attempt, min, max); got != w {
			t.Errorf("backoffCap(%d) = %v, want %v", attempt, got, w)
		}
	}
	if got := backoffCap(1000, min, max); got != max {
		t.Errorf("backoffCap(1000) = %v, want %v", got, max)
	}
}

func TestBackoffFullJitterWithinBounds(t *testing.T) {
	min, max := 100*time.Millisecond, 3*time.Second
	for attempt := 0; attempt < 8; attempt++ {
		limit := backoffCap(attempt, min, max)
		seen := map[time.Duration]bool{}
		var sum time.Duration
		const n = 2000
		for i := 0; i < n; i++ {
			d := Backoff(attempt, min, max)
			if d < 0 || d > limit {
				t.Fatalf("Backoff(%d) = %v, outside [0, %v]", attempt, d, limit)
			}
			seen[d] = true
			sum += d
		}
		if len(seen) < n/2 {
			t.Errorf("attempt %d: only %d distinct delays in %d: not jittered", attempt, len(seen), n)
		}
		// Full jitter is uniform on [0, limit]: the mean is near limit/2.
		mean := sum / n
		if mean < limit*35/100 || mean > limit*65/100 {
			t.Errorf("attempt %d: mean %v, want about %v", attempt, mean, limit/2)
		}
	}
}

func TestBackoffDegenerateBounds(t *testing.T) {
	if d := Backoff(3, 0, 0); d < 0 || d > time.Millisecond {
		t.Errorf("Backoff with zero bounds = %v", d)
	}
	if d := backoffCap(5, time.Second, time.Millisecond); d != time.Second {
		t.Errorf("max below min: cap = %v, want min", d)
	}
	if d := jitter(0); d != 0 {
		t.Errorf("jitter(0) = %v", d)
	}
}
