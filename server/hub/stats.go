package hub

import "sync/atomic"

// Stats counts events worth watching; all fields are cumulative.
type Stats struct {
	publishFailures  atomic.Int64
	interruptions    atomic.Int64
	backfilled       atomic.Int64
	overflows        atomic.Int64
	slowClosed       atomic.Int64
	backfillFailures atomic.Int64
	beyondHead       atomic.Int64
	removed          atomic.Int64
	reconciles       atomic.Int64
}

// StatsSnapshot is a copy of the counters.
type StatsSnapshot struct {
	PublishFailures int64 // broker publishes that failed (delivered locally instead)
	Interruptions   int64 // broker interruptions reported
	Backfilled      int64 // messages read from the store to fill gaps
	Overflows       int64 // room inbox overflows (recovered from the store)
	SlowClosed      int64 // subscribers dropped for not keeping up
	// BackfillFailures counts store reads for a gap that failed; each
	// stalls its room until a retry succeeds.
	BackfillFailures int64
	// BeyondHead counts broker messages dropped because their offset was
	// above the store's head (forged or corrupt payloads).
	BeyondHead int64
	// Removed counts subscriptions ended because their user lost the
	// room's membership (kick, ban, leave).
	Removed int64
	// Reconciles counts rooms' checks of the store's head.
	Reconciles int64
}

// Stats returns the hub's counters.
func (h *Hub) Stats() StatsSnapshot {
	return StatsSnapshot{
		PublishFailures:  h.stats.publishFailures.Load(),
		Interruptions:    h.stats.interruptions.Load(),
		Backfilled:       h.stats.backfilled.Load(),
		Overflows:        h.stats.overflows.Load(),
		SlowClosed:       h.stats.slowClosed.Load(),
		BackfillFailures: h.stats.backfillFailures.Load(),
		BeyondHead:       h.stats.beyondHead.Load(),
		Removed:          h.stats.removed.Load(),
		Reconciles:       h.stats.reconciles.Load(),
	}
}
