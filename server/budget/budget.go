// Package budget bounds what one account may do, across all of its
// sockets and, with Redis, across every node: send messages (per second
// and bytes per second, each with a burst), and try passwords (an
// exponential backoff after failed logins, see Policy).
//
// Both budgets are GCRA (the generic cell rate algorithm, a token bucket
// kept as one "theoretical arrival time" per key): a send of n bytes costs
// one message and n bytes, and is taken only when both budgets have room,
// so a refused send costs nothing. Memory keeps the state in this process
// (one node); Redis keeps it in Redis and takes a send with one atomic Lua
// script on the Redis server's clock, so N nodes share one budget per user
// whatever their own clocks say. The login backoff is kept the same way
// (MemoryBackoff, RedisBackoff). While Redis fails, both fall back to
// this node's own state (sends and logins keep working, each node
// enforces the limits on its own) and log the outage once, then a
// summary.
package budget

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"
)

// Limits are the per-user budgets. Rate and ByteRate are per second;
// Burst and ByteBurst are how much may be sent at once.
type Limits struct {
	Rate      float64
	Burst     int
	ByteRate  float64
	ByteBurst int
}

// Defaults: 1.5 times what one socket may send (20/s, burst 40), and
// 128 KiB/s with a 512 KiB burst (forty 12 KiB messages at once).
var Defaults = Limits{Rate: 30, Burst: 60, ByteRate: 128 << 10, ByteBurst: 512 << 10}

// Check reports whether l is usable: every value positive, and a burst of
// bytes that admits a message of maxMessage bytes (else such a message
// could never be sent).
func (l Limits) Check(maxMessage int) error {
	switch {
	case !(l.Rate > 0) || math.IsInf(l.Rate, 0) || l.Burst < 1:
		return errors.New("message rate must be above 0 and burst at least 1")
	case !(l.ByteRate > 0) || math.IsInf(l.ByteRate, 0):
		return errors.New("byte rate must be above 0")
	case l.ByteBurst < maxMessage:
		return fmt.Errorf("byte burst must be at least %d (the largest message)", maxMessage)
	}
	return nil
}

// Budget takes sends from per-user budgets.
type Budget interface {
	// Take takes one message of n bytes from user's budget. It returns 0
	// when the send may go ahead, else how long until it could (nothing
	// was taken).
	Take(ctx context.Context, user string, n int) time.Duration
	// TakeAll takes messages of sizes[0], sizes[1]… bytes from user's
	// budget in that order, as one Take each would, and stops at the
	// first that does not fit: it returns how many it took and, when
	// that is fewer than len(sizes), how long until the next would fit.
	// One call (one Redis round trip) for a sender's queued messages.
	TakeAll(ctx context.Context, user string, sizes []int) (taken int, wait time.Duration)
	// Return gives back messages of sizes[0], sizes[1]… bytes that Take
	// or TakeAll took from user's budget and that were not sent after all
	// (the send path takes the budget while it checks membership, and
	// a send the check refuses must cost nothing). It never fills the
	// budget beyond full. A Redis budget returns them to where it would
	// take now: when Redis failed or recovered between the take and the
	// return (a take in Redis returned locally, or the other way round),
	// the budget that took them keeps them until they refill (at most
	// Burst/Rate and ByteBurst/ByteRate: 2 s and 4 s by default), and the
	// other is at most refilled early.
	Return(ctx context.Context, user string, sizes []int)
	// Close releases the budget's resources.
	Close() error
}

// state is one user's two theoretical arrival times, in microseconds on
// the budget's clock.
type state struct{ msgs, bytes float64 }

// params are Limits as GCRA intervals and tolerances, in microseconds.
type params struct {
	msgInterval, msgTolerance   float64 // per message; Burst messages
	byteInterval, byteTolerance float64 // per byte; ByteBurst bytes
}

func (l Limits) params() params {
	mi, bi := 1e6/l.Rate, 1e6/l.ByteRate
	return params{msgInterval: mi, msgTolerance: float64(l.Burst) * mi, byteInterval: bi, byteTolerance: float64(l.ByteBurst) * bi}
}

// take is GCRA over both budgets at now: the new state and 0, or the old
// state and the wait (µs) until both have room. redisScript is the same
// arithmetic in Lua.
func (p params) take(s state, now float64, n int) (state, float64) {
	m := math.Max(s.msgs, now) + p.msgInterval
	b := math.Max(s.bytes, now) + float64(n)*p.byteInterval
	wait := math.Max(m-now-p.msgTolerance, b-now-p.byteTolerance)
	if wait > 0 {
		return s, wait
	}
	return state{msgs: m, bytes: b}, 0
}

// give is take undone for messages of sizes: both arrival times move
// back by what those messages cost. A time at or before now is a full
// budget (take starts from max(s, now)), so giving back more than was
// taken fills it and no more.
func (p params) give(s state, sizes []int) state {
	var bytes float64
	for _, n := range sizes {
		bytes += float64(n)
	}
	return state{msgs: s.msgs - float64(len(sizes))*p.msgInterval, bytes: s.bytes - bytes*p.byteInterval}
}

// micros converts a wait in microseconds, rounding up so that a client
// waiting that long finds room.
func micros(us float64) time.Duration {
	return time.Duration(math.Ceil(us)) * time.Microsecond
}
