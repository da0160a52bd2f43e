// Package presence tracks which users are in which room, across the whole
// cluster. Memory serves a single node; Redis shares presence between nodes
// with per-node heartbeats, so a crashed node's users disappear within
// Redis's expiry bound. One contract suite (package presencetest) runs
// against both.
package presence

import (
	"context"
	"errors"
)

// ErrClosed is returned by a closed Presence.
var ErrClosed = errors.New("presence closed")

// Presence records room membership of live connections, per node. The hub
// calls Join when a user's first local connection subscribes to a room and
// Leave when the last one leaves, so implementations see each (node, room,
// user) joined once between Leaves.
//
// Join, Leave and Users are safe for concurrent use, work whether or not
// Run is running (the hub may join a user before Run's goroutine starts),
// and take effect on every node by the time they return nil. Room and user
// names are opaque strings. The hub logs their errors and does not retry.
type Presence interface {
	// Join records user in room on this node. A repeated Join still lists
	// the user once; whether one Leave then undoes both is the
	// implementation's choice (Memory counts Joins, Redis does not).
	Join(ctx context.Context, room, user string) error
	// Leave removes user's entry in room on this node. Leaving a room or
	// user never joined here does nothing and returns nil; the user stays
	// listed while another node has them in the room.
	Leave(ctx context.Context, room, user string) error
	// Users returns who is in the room on any node, sorted (byte order),
	// without duplicates; empty for a room nobody is in.
	Users(ctx context.Context, room string) ([]string, error)
	// Run keeps this node's entries alive (heartbeats) until ctx is
	// cancelled or Close is called, then returns nil; it is called once.
	// Cancelling ctx without Close is a crash: the entries are no longer
	// renewed and expire like a dead node's. Run calls expired from its
	// own goroutine, one call at a time and never after returning, with a
	// sorted, non-empty list of rooms where this node has users and whose
	// lists changed without a Join or Leave: another node's entries timed
	// out. It may also list rooms whose users did not change (Redis does
	// after its server lost data); the hub just reads Users again. Memory's
	// Run just waits. After Close, Run returns ErrClosed at once.
	Run(ctx context.Context, expired func(rooms []string)) error
	// Close removes this node's entries (best effort, as a clean shutdown)
	// and ends Run. Later calls to Join, Leave and Run return ErrClosed,
	// and Users an error; closing again returns nil.
	Close() error
}
