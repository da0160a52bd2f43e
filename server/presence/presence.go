// Package presence tracks which users are in which room, across the whole
// cluster. Memory serves a single node; Redis shares presence between nodes
// with per-node heartbeats, so a crashed node's users disappear within
// Redis's expiry bound.
package presence

import (
	"context"
	"errors"
)

// ErrClosed is returned by a closed Presence.
var ErrClosed = errors.New("presence closed")

// Presence records room membership of live connections. The hub calls Join
// when a user's first local connection subscribes to a room and Leave when
// the last one leaves, so implementations see each (node, room, user) once.
type Presence interface {
	Join(ctx context.Context, room, user string) error
	Leave(ctx context.Context, room, user string) error
	// Users returns who is in the room on any node, sorted, without
	// duplicates.
	Users(ctx context.Context, room string) ([]string, error)
	// Run keeps this node's entries alive (heartbeats) until ctx is
	// cancelled or Close is called, and calls expired with rooms whose
	// lists changed because another node's entries timed out. Memory's
	// Run just waits. After Close, Run returns ErrClosed at once.
	Run(ctx context.Context, expired func(rooms []string)) error
	// Close ends Run; later calls to Join and Leave return ErrClosed.
	Close() error
}
