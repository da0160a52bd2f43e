package store

import (
	"math"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/parleychat/parley/shared/protocol"
)

// migration is one forward-only schema change. Versions start at 1 and
// increase by one; a migration, once released, never changes.
type migration struct {
	version int
	name    string
	sql     string
}

// limit returns the number of messages page p asks for: Limit, or
// protocol.HistoryPageDefault when Limit <= 0, capped at protocol.MaxBacklog.
func (p Page) limit() int {
	switch {
	case p.Limit <= 0:
		return protocol.HistoryPageDefault
	case p.Limit > protocol.MaxBacklog:
		return protocol.MaxBacklog
	default:
		return p.Limit
	}
}

// newEpoch returns a random positive room epoch.
func newEpoch() int64 {
	return rand.Int64N(math.MaxInt64) + 1
}

// nameKey is the case-insensitive key of a user name.
func nameKey(name string) string {
	return strings.ToLower(name)
}

// now is the store's clock: UTC, millisecond precision, the precision both
// backends keep.
func now() time.Time {
	return time.Now().UTC().Truncate(time.Millisecond)
}

// fromMillis converts stored unix milliseconds to a UTC time.
func fromMillis(ms int64) time.Time {
	return time.UnixMilli(ms).UTC()
}

// reverse puts a page read newest-first into ascending offset order.
func reverse(msgs []Message) {
	for i, j := 0, len(msgs)-1; i < j; i, j = i+1, j-1 {
		msgs[i], msgs[j] = msgs[j], msgs[i]
	}
}
