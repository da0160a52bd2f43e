package auth

import (
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"
)

// TestReleaserAfterBursts: memory is released once a burst has been over
// for the delay (not while hashes run), and at most once per
// releaseEvery however many bursts come.
func TestReleaserAfterBursts(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var frees atomic.Int32
		var busy atomic.Bool
		r := newReleaser(time.Second)
		r.free = func() { frees.Add(1) }
		idle := func() bool { return !busy.Load() }

		for range 5 { // a burst: each hash's end restarts the countdown
			r.schedule(idle)
			time.Sleep(500 * time.Millisecond)
		}
		if n := frees.Load(); n != 0 {
			t.Fatalf("%d releases during the burst", n)
		}
		time.Sleep(time.Second)
		if n := frees.Load(); n != 1 {
			t.Fatalf("%d releases a second after the burst, want 1", n)
		}

		// The next burst ends 5 s later: its release waits for
		// releaseEvery since the last one.
		time.Sleep(5 * time.Second)
		r.schedule(idle)
		time.Sleep(2 * time.Second)
		if n := frees.Load(); n != 1 {
			t.Fatalf("%d releases 7 s after the first, want still 1", n)
		}
		time.Sleep(releaseEvery)
		if n := frees.Load(); n != 2 {
			t.Fatalf("%d releases after releaseEvery, want 2", n)
		}

		// A hash running when the countdown ends: no release.
		r.schedule(idle)
		busy.Store(true)
		time.Sleep(2 * releaseEvery)
		if n := frees.Load(); n != 2 {
			t.Fatalf("%d releases while a hash runs, want still 2", n)
		}
	})
}
