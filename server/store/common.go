package store

import (
	crand "crypto/rand"
	"encoding/hex"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/parleychat/parley/shared/protocol"
)

// migration is one forward-only schema change. Versions start at 1 and
// increase; a migration, once released, never changes. Versions may have
// gaps (a change developed in parallel takes a later number): migrate
// applies every migration whose version is not recorded as applied, in
// order, so a version below the newest applied one that arrives later is
// still applied.
type migration struct {
	version int
	name    string
	sql     string
}

// checkApplied refuses a database that recorded a migration this program
// does not know (a newer program migrated it).
func checkApplied(applied map[int]bool, known []migration) error {
	for v := range applied {
		if !slices.ContainsFunc(known, func(m migration) bool { return m.version == v }) {
			return fmt.Errorf("database schema has migration %d, which this program (newest %d) does not know", v, known[len(known)-1].version)
		}
	}
	return nil
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

// SameUser reports whether a and b name one account (names are
// case-insensitive).
func SameUser(a, b string) bool { return nameKey(a) == nameKey(b) }

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

// pair is the two users of a direct room, ordered by name key.
type pair struct {
	keyA, keyB   string
	userA, userB string
}

// newPair orders a and b by name key; ErrConflict when they are one user.
func newPair(a, b string) (pair, error) {
	ka, kb := nameKey(a), nameKey(b)
	switch {
	case ka == kb:
		return pair{}, fmt.Errorf("a direct room needs two users: %w", ErrConflict)
	case ka > kb:
		ka, kb, a, b = kb, ka, b, a
	}
	return pair{keyA: ka, keyB: kb, userA: a, userB: b}, nil
}

// directRoomName returns a fresh random direct room name: "dm-" and 32
// hex digits, a valid room name nobody can guess or squat.
func directRoomName() string {
	var b [16]byte
	crand.Read(b[:])
	return "dm-" + hex.EncodeToString(b[:])
}
