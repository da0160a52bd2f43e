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

// directSet is the people of a direct room, ordered by name key. Its key
// (the name keys joined by spaces, which no name holds) is the primary
// key of direct_sets: one room per set, whatever the order or case of the
// names.
type directSet struct {
	key   string
	users []string // canonical names, in key order
}

// newDirectSet is the set of caller and others; ErrConflict unless they
// are 2 to protocol.MaxDirectUsers distinct users.
func newDirectSet(caller string, others []string) (directSet, error) {
	users := append([]string{caller}, others...)
	slices.SortFunc(users, func(a, b string) int { return strings.Compare(nameKey(a), nameKey(b)) })
	keys := make([]string, len(users))
	for i, u := range users {
		keys[i] = nameKey(u)
		if i > 0 && keys[i] == keys[i-1] {
			return directSet{}, fmt.Errorf("%s named twice in a direct room: %w", u, ErrConflict)
		}
	}
	if len(users) < 2 || len(users) > protocol.MaxDirectUsers {
		return directSet{}, fmt.Errorf("a direct room needs 2 to %d users, not %d: %w", protocol.MaxDirectUsers, len(users), ErrConflict)
	}
	return directSet{key: strings.Join(keys, " "), users: users}, nil
}

// String names the set in errors.
func (d directSet) String() string { return strings.Join(d.users, ", ") }

// peersOf returns the people of a direct room (its stored users, joined
// by spaces) other than user.
func peersOf(users, user string) []string {
	if users == "" {
		return nil
	}
	var peers []string
	for _, u := range strings.Fields(users) {
		if nameKey(u) != nameKey(user) {
			peers = append(peers, u)
		}
	}
	return peers
}

// setPeers fills a direct room's Peers (and Peer, for a pair) from its
// stored users.
func (mr *MemberRoom) setPeers(users, user string) {
	mr.Peers = peersOf(users, user)
	if len(mr.Peers) == 1 {
		mr.Peer = mr.Peers[0]
	}
}

// directRoomName returns a fresh random direct room name: "dm-" and 32
// hex digits, a valid room name nobody can guess or squat.
func directRoomName() string {
	var b [16]byte
	crand.Read(b[:])
	return "dm-" + hex.EncodeToString(b[:])
}

// owners is the member list of a new room owned by owner: none for a
// room without an owner (a node's room).
func owners(owner string) []string {
	if owner == "" {
		return nil
	}
	return []string{owner}
}
