package auth

import (
	"runtime/debug"
	"sync"
	"time"
)

// Defaults of Config.
const (
	// DefaultHashQueue is how many password hashes may wait for a slot.
	// With two 40 ms slots that is at most about 0.3 s of waiting; more
	// callers are told to come back (503) instead of piling up.
	DefaultHashQueue = 16
	// DefaultReleaseMemory is how long a node stays without a hash before
	// it hands the hashes' memory back to the operating system (at most
	// once every 10 s).
	DefaultReleaseMemory = 2 * time.Second
)

// releaser hands freed heap memory back to the operating system a while
// after a burst of password hashes: each argon2id hash allocates
// Params.Memory (64 MiB by default) that the Go runtime would otherwise
// keep mapped for minutes (after 20 signups a node stayed at 375 MB).
type releaser struct {
	after time.Duration
	free  func() // debug.FreeOSMemory

	mu    sync.Mutex // guards timer and last; a leaf lock
	timer *time.Timer
	last  time.Time // the last release
}

// releaseEvery bounds how often memory is released: each release is a
// full garbage collection, which a trickle of logins (one every few
// seconds) must not turn into a steady cost.
const releaseEvery = 10 * time.Second

func newReleaser(after time.Duration) *releaser {
	if after == 0 {
		after = DefaultReleaseMemory
	}
	return &releaser{after: after, free: debug.FreeOSMemory}
}

// schedule (re)starts the countdown (at least releaseEvery after the last
// release); when it ends and idle still says so, the memory is released.
// The timer's goroutine lives only while it releases.
func (r *releaser) schedule(idle func() bool) {
	if r.after < 0 {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	d := max(r.after, time.Until(r.last.Add(releaseEvery)))
	if r.timer != nil {
		r.timer.Reset(d)
		return
	}
	r.timer = time.AfterFunc(d, func() {
		if !idle() {
			return
		}
		r.mu.Lock()
		r.last = time.Now()
		r.mu.Unlock()
		r.free()
	})
}
