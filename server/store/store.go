// Package store keeps Parley's durable state: accounts, refresh tokens,
// rooms, memberships and room history. Store is the contract; SQLite (the
// embedded default) and PostgreSQL implement it, and one conformance suite
// (package storetest) runs against both.
package store

import (
	"context"
	"errors"
	"time"
)

// Errors every implementation returns (wrapped is fine: test with errors.Is).
var (
	ErrNotFound = errors.New("not found")
	ErrConflict = errors.New("already exists")
)

// User is an account.
type User struct {
	ID           int64
	Name         string
	PasswordHash string
	CreatedAt    time.Time
}

// RefreshToken is a stored refresh token. Only its hash is kept.
type RefreshToken struct {
	Hash      string
	UserID    int64
	ExpiresAt time.Time
}

// Room is a chat room. Epoch is set once when the room is created (a random
// positive number) and changes only if its history is reset. Head is the
// offset of its newest message (0 when empty).
type Room struct {
	Name      string
	Epoch     int64
	Head      int64
	CreatedBy string
	CreatedAt time.Time
}

// Message is one stored room event.
type Message struct {
	Room   string
	Offset int64
	Author string
	Body   string
	CID    string
	TS     time.Time
}

// Page selects part of a room's history; results are always in ascending
// offset order and hold at most Limit messages (Limit <= 0 means
// protocol.HistoryPageDefault; a Limit above protocol.MaxBacklog is capped
// at protocol.MaxBacklog):
//   - Before > 0: the newest messages with offset < Before (scrolling back);
//   - otherwise, Newest: the newest messages of the room;
//   - otherwise: the oldest messages with offset > After (replaying a backlog).
type Page struct {
	Before int64
	After  int64
	Newest bool
	Limit  int
}

// Store is Parley's durable state. All methods are safe for concurrent use,
// including from many processes sharing one database (PostgreSQL).
//
// Append is the heart of it: it assigns the room's next offset (1, 2, 3…,
// strictly increasing per room, no duplicates and no committed gaps even
// when many nodes append to one room at once) and is idempotent on
// (author, cid): appending a message whose author already stored that cid
// returns the original message and dup=true, whenever the first one was
// stored.
type Store interface {
	CreateUser(ctx context.Context, name, passwordHash string) (User, error) // ErrConflict if taken (case-insensitive)
	UserByName(ctx context.Context, name string) (User, error)               // ErrNotFound; case-insensitive lookup

	SaveRefreshToken(ctx context.Context, t RefreshToken) error // ErrNotFound for an unknown user, ErrConflict for a stored hash
	// RotateRefreshToken atomically deletes the token with oldHash (which
	// must exist and not be expired at now) and saves next for the same
	// user (next.UserID is ignored); it returns that user. A token is
	// expired once now >= ExpiresAt. A missing or expired token is
	// ErrNotFound, and then nothing is saved.
	RotateRefreshToken(ctx context.Context, oldHash string, next RefreshToken, now time.Time) (User, error)
	DeleteRefreshToken(ctx context.Context, hash string) error // no error if missing

	CreateRoom(ctx context.Context, name, createdBy string) (Room, error) // ErrConflict if it exists
	EnsureRoom(ctx context.Context, name string) (Room, error)            // create if missing (system rooms)
	Room(ctx context.Context, name string) (Room, error)                  // ErrNotFound
	Rooms(ctx context.Context) ([]Room, error)                            // by name

	Join(ctx context.Context, room, user string) error          // idempotent; ErrNotFound for an unknown room
	Members(ctx context.Context, room string) ([]string, error) // sorted; ErrNotFound for an unknown room

	// Append stores m (Room, Author, Body, CID; TS is set by the store)
	// and returns it with Offset and TS filled. ErrNotFound for an
	// unknown room. An empty CID is never a duplicate. The (author, cid)
	// key spans rooms: a duplicate returns the original wherever it was
	// stored. Times (TS, CreatedAt) are UTC with millisecond precision.
	Append(ctx context.Context, m Message) (stored Message, dup bool, err error)
	History(ctx context.Context, room string, p Page) ([]Message, error)

	Ping(ctx context.Context) error
	Close() error
}
