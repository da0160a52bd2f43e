// Package faultlog logs a failing dependency without flooding the log: the
// first failure once, then at most one summary per interval while it keeps
// failing, and one line when it recovers. A Redis outage at 75 messages a
// second used to write one WARN per message; now it writes a handful.
package faultlog

import (
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultEvery is the summary interval of a Log with none set.
const DefaultEvery = time.Minute

// Log tracks one kind of failure (what). It is safe for concurrent use.
type Log struct {
	log   *slog.Logger
	what  string
	every time.Duration
	now   func() time.Time

	failing atomic.Bool // fast path for OK on the happy path

	// mu guards the fields below; a leaf lock (logging runs after it is
	// released).
	mu        sync.Mutex
	since     time.Time // first failure of this outage
	lastLog   time.Time // last line written
	failures  int64     // in this outage
	unlogged  int64     // since the last line
	lastError error
}

// New returns a Log naming what fails (such as "broker publish"); every is
// the summary interval (<= 0: DefaultEvery), now the clock (nil: time.Now).
func New(log *slog.Logger, what string, every time.Duration, now func() time.Time) *Log {
	if every <= 0 {
		every = DefaultEvery
	}
	if now == nil {
		now = time.Now
	}
	return &Log{log: log, what: what, every: every, now: now}
}

// Fail records one failure; it logs the first of an outage at once and
// then one summary per interval. attrs describe this failure (room, …)
// and are logged with the lines it writes.
func (l *Log) Fail(err error, attrs ...any) {
	now := l.now()
	l.mu.Lock()
	l.failures++
	l.unlogged++
	l.lastError = err
	first := !l.failing.Load()
	due := first || now.Sub(l.lastLog) >= l.every
	var n, total int64
	var since time.Time
	if due {
		if first {
			l.since = now
			l.failing.Store(true)
		}
		n, total, since = l.unlogged, l.failures, l.since
		l.unlogged, l.lastLog = 0, now
	}
	l.mu.Unlock()
	switch {
	case first:
		l.log.Warn(l.what+" failing", append(attrs, "err", err)...)
	case due:
		l.log.Warn(l.what+" still failing", append(attrs, "failures", n, "total", total, "for", now.Sub(since).Round(time.Millisecond), "err", err)...)
	}
}

// OK records a success; it logs the end of an outage, with its count.
func (l *Log) OK() {
	if !l.failing.Load() {
		return
	}
	now := l.now()
	l.mu.Lock()
	if !l.failing.Load() {
		l.mu.Unlock()
		return
	}
	total, since, err := l.failures, l.since, l.lastError
	l.failing.Store(false)
	l.failures, l.unlogged, l.lastError = 0, 0, nil
	l.mu.Unlock()
	l.log.Info(l.what+" recovered", "failures", total, "for", now.Sub(since).Round(time.Millisecond), "last_err", err)
}
