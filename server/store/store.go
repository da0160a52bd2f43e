// Package store keeps Parley's durable state: accounts, refresh tokens,
// rooms, memberships and room history. Store is the contract; SQLite (the
// embedded default) and PostgreSQL implement it, and one conformance suite
// (package storetest) runs against both.
package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/parleychat/parley/shared/protocol"
)

// Errors every implementation returns (wrapped is fine: test with errors.Is).
var (
	ErrNotFound = errors.New("not found")
	ErrConflict = errors.New("already exists")
	// ErrBanned: the user is banned from the room (Join, AddMember).
	ErrBanned = errors.New("banned from the room")
	// ErrForbidden: the user may not change that message (Amend).
	ErrForbidden = errors.New("not allowed")
	// ErrGone: the message was deleted (Amend).
	ErrGone = errors.New("message deleted")
	// ErrReplayed: a refresh token that was already rotated, longer ago
	// than the grace window, was presented again. The store has ended
	// its session (the whole token family) by the time it returns this.
	ErrReplayed = errors.New("refresh token replayed")
)

// User is an account.
type User struct {
	ID           int64
	Name         string
	PasswordHash string
	CreatedAt    time.Time
}

// RefreshToken is a stored refresh token. Only its hash is kept. Every
// token belongs to a session: the tokens of one session are its family.
type RefreshToken struct {
	Hash      string
	SessionID string
	ExpiresAt time.Time
}

// Session is one sign-in: the refresh tokens rotated from one login share
// it, and access tokens name it in their sid claim. It lives until
// ExpiresAt (the absolute lifetime) unless it is ended first. An ended
// session keeps its row (EndedAt set, its refresh tokens gone) until
// PurgeExpired, so that a node can tell its access tokens are revoked.
type Session struct {
	ID        string
	UserID    int64
	UserAgent string
	CreatedAt time.Time
	LastSeen  time.Time // the last login or refresh
	ExpiresAt time.Time
	EndedAt   time.Time // zero while the session is live
}

// Ended reports whether the session was ended (signed out, revoked).
func (s Session) Ended() bool { return !s.EndedAt.IsZero() }

// Rotation is what a successful RotateRefreshToken returns.
type Rotation struct {
	User    User
	Session Session
}

// Room is a chat room. Epoch is set once when the room is created (a random
// positive number): a room deleted and made again under its name
// (DeleteRoom) has another, which is how nodes and clients tell the two
// apart. Head is the
// offset of its newest message (0 when empty).
//
// Kind is protocol.KindPublic, KindPrivate or KindDirect. Roster counts the
// changes that took someone's access away (a kick, a ban, a leave): a node
// that sees it move re-checks the members it serves.
type Room struct {
	Name      string
	Epoch     int64
	Head      int64
	CreatedBy string
	CreatedAt time.Time
	Kind      string
	Topic     string
	Roster    int64
}

// Message is one stored room event: a message, or (Kind set) an edit or
// deletion of the message at offset Target in the same room. A message
// is stored in its latest state: Edited is the offset of the edit its
// Body comes from; Deleted says it was deleted, and then its Body and the
// bodies of its edits are empty.
type Message struct {
	Room   string
	Offset int64
	Author string
	Body   string
	CID    string
	TS     time.Time

	Kind    string // "", protocol.MsgEdit, MsgDelete, MsgReact, MsgUnreact or MsgRoom
	Target  int64
	Edited  int64
	Deleted bool
	// Reactions are a message's reactions (protocol.Message.Reactions);
	// Reacted is the offset of the latest reaction event they include.
	// Only History fills Reactions.
	Reactions []protocol.Reaction
	Reacted   int64
}

// Appended is one message AppendAll stored, or found stored (Dup).
type Appended struct {
	Message
	Dup bool
}

// oneRoom checks that ms, an AppendAll batch, are all for one room.
func oneRoom(ms []Message) error {
	for _, m := range ms {
		if m.Room != ms[0].Room {
			return fmt.Errorf("append messages: one batch names rooms %q and %q; a batch is for one room", ms[0].Room, m.Room)
		}
	}
	return nil
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

// Heir names who became owner of Room when its last owner's account was
// deleted (Store.DeleteUser).
type Heir struct {
	Room string
	User string
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
	UserByName(ctx context.Context, name string) (User, error)               // ErrNotFound (also for a deleted account); case-insensitive lookup
	SetPasswordHash(ctx context.Context, userID int64, hash string) error    // ErrNotFound for an unknown or deleted user
	// DeleteUser deletes an account: its sessions end, its memberships
	// go (each room it was the last owner of passes to the longest
	// standing moderator, else member, as in LeaveRoom, and moves its
	// Roster), its name stays reserved (a tombstone:
	// UserByName no longer finds it, CreateUser of the name is still
	// ErrConflict) and its messages stay, under that name. It returns the
	// ids of the sessions it ended and who inherited which room, by room
	// name. ErrNotFound for an unknown user.
	DeleteUser(ctx context.Context, userID int64) (sessions []string, heirs []Heir, err error)

	// CreateSession stores s and its first refresh token (first.SessionID
	// is ignored). ErrNotFound for an unknown user, ErrConflict for a
	// stored id or hash.
	CreateSession(ctx context.Context, s Session, first RefreshToken) error
	// RotateRefreshToken exchanges the token with oldHash for next, in the
	// same session (next.SessionID is ignored), and sets the session's
	// LastSeen to now. The old token must exist, not be expired at now (a
	// token or session is expired once now >= ExpiresAt), its session
	// must not have ended and, if the token was rotated before, that must
	// be less than grace ago (two tabs racing on one token both get a new
	// one). A missing or expired token is ErrNotFound and nothing
	// changes. A token rotated grace or longer ago is ErrReplayed: its
	// whole session is ended, and the returned Rotation names it.
	RotateRefreshToken(ctx context.Context, oldHash string, next RefreshToken, now time.Time, grace time.Duration) (Rotation, error)
	SessionByToken(ctx context.Context, hash string) (Session, error)             // ErrNotFound; the token may be rotated, or expired until purged
	Session(ctx context.Context, id string) (Session, error)                      // ErrNotFound when unknown or purged; ended ones too until purged
	Sessions(ctx context.Context, userID int64, now time.Time) ([]Session, error) // the live ones (not ended, not expired), oldest first
	EndSession(ctx context.Context, userID int64, id string) error                // ErrNotFound unless it is a live session of the user
	// EndSessions ends every live session of the user except the one with
	// id except (none when empty) and returns the ids it ended.
	EndSessions(ctx context.Context, userID int64, except string) ([]string, error)
	// EndedSessions returns those of ids whose session has ended, in any
	// order, with few queries however many ids (a node's periodic check of
	// the sessions it holds sockets of). Unknown ids are not in it, as
	// Session finds no ended session for them.
	EndedSessions(ctx context.Context, ids []string) ([]string, error)
	// PurgeExpired deletes refresh tokens expired at now, and sessions
	// that expired or ended keep or longer before now; it returns how
	// many rows went. keep must outlive the access tokens of a session.
	PurgeExpired(ctx context.Context, now time.Time, keep time.Duration) (int64, error)

	CreateRoom(ctx context.Context, name, createdBy string) (Room, error) // ErrConflict if it exists
	EnsureRoom(ctx context.Context, name string) (Room, error)            // create if missing (system rooms)
	Room(ctx context.Context, name string) (Room, error)                  // ErrNotFound
	Rooms(ctx context.Context) ([]Room, error)                            // by name

	// Join makes user a member (role member) of a public room, the
	// implicit join of a subscribe; idempotent, an existing member keeps
	// their role. ErrNotFound for an unknown room and for a private or
	// direct room user is not a member of (a no-op for a member, and for
	// the room feed, which everyone reads and nobody joins); ErrBanned
	// for a banned user. joined reports whether this call made user a
	// member (a new membership row): false for a member already, the room
	// feed and every refusal, so of many joins at once (on any node) one
	// reports it.
	Join(ctx context.Context, room, user string) (joined bool, err error)
	Members(ctx context.Context, room string) ([]string, error) // sorted; ErrNotFound for an unknown room

	// CreateRoomOf creates a room of kind with owner as its first member
	// (role owner); ErrConflict if the name exists. An empty owner makes
	// a room without members (a node's room: the room feed).
	CreateRoomOf(ctx context.Context, name, kind, owner string) (Room, error)
	// DirectRoom returns the direct room of caller and others (canonical
	// names), creating it with all of them as members if that set of
	// people has none. There is one per set whatever the order or case of
	// the names, even when many nodes create it at once; created reports
	// whether this call made it. Calling it adds caller back if they left
	// the room. The room's name is random (prefix "dm-"). ErrConflict
	// unless they are 2 to protocol.MaxDirectUsers distinct users.
	DirectRoom(ctx context.Context, caller string, others ...string) (room Room, created bool, err error)
	// Access tells what user may do in room; ErrNotFound for an unknown
	// room.
	Access(ctx context.Context, room, user string) (Access, error)
	// RoomsOf returns the rooms user may see, by name: every public room
	// and every room user is a member of (but no inbox; never the room
	// feed, which has no members), with user's
	// role, read marker and unread and mention counts and, for a direct
	// room, the other people (Peers; Peer too for a pair). One query,
	// however many rooms.
	RoomsOf(ctx context.Context, user string) ([]MemberRoom, error)
	// Roster returns room's members with their roles, by name;
	// ErrNotFound for an unknown room.
	Roster(ctx context.Context, room string) ([]Member, error)
	// AddMember adds user to room with role (an invite); an existing
	// member keeps the role they have. ErrNotFound for an unknown room,
	// ErrBanned when user is banned there.
	AddMember(ctx context.Context, room, user, role string) error
	// SetRole changes a member's role; ErrNotFound unless user is a member.
	SetRole(ctx context.Context, room, user, role string) error
	// RemoveMember removes user from room (a kick) and, with ban, bans
	// them so that Join and AddMember refuse them until Unban. A kick of a
	// non-member is ErrNotFound; a ban of one records the ban. Either
	// moves the room's Roster.
	RemoveMember(ctx context.Context, room, user string, ban bool) error
	// Unban lifts a ban; ErrNotFound when user is not banned.
	Unban(ctx context.Context, room, user string) error
	// Bans returns the users banned from room, by name; ErrNotFound for
	// an unknown room.
	Bans(ctx context.Context, room string) ([]Ban, error)
	// LeaveRoom removes user from room and moves its Roster. When user
	// was its last owner, the longest standing moderator, else member,
	// becomes owner and is returned. ErrNotFound unless user is a member.
	LeaveRoom(ctx context.Context, room, user string) (newOwner string, err error)
	// DeleteRoom deletes room with everything of it in one transaction:
	// its members, bans, read markers, messages, events and mentions
	// (nothing is kept; SQLite overwrites the freed pages). It returns
	// who its members were, by name. A room created later under the same
	// name is a new room: a new Epoch, Head 0, only its creator, no
	// history, bans or roster of the old one. ErrNotFound for an unknown
	// room. Whether the caller may (an owner; not a direct room, inbox
	// or protocol.DefaultRoom) is the API's to decide.
	DeleteRoom(ctx context.Context, room string) (members []string, err error)
	// SetTopic sets room's topic; ErrNotFound for an unknown room.
	SetTopic(ctx context.Context, room, topic string) error
	// SetReadMarker moves user's read marker in room forward to offset,
	// clamped to the room's head; a marker already at or past it stays.
	// It returns the marker after the call and whether it moved.
	// ErrNotFound unless user is a member of room (a new member's marker
	// starts at the room's head).
	SetReadMarker(ctx context.Context, room, user string, offset int64) (marker int64, moved bool, err error)

	// Append stores m (Room, Author, Body, CID; TS is set by the store)
	// and returns it with Offset and TS filled, and records whom it
	// mentions (protocol.Mentioned, except its author) for RoomsOf's
	// counts. Kind protocol.MsgRoom stores a room event (Body a
	// protocol.RoomEvent; it mentions nobody and is never unread); any
	// other Kind is cleared (edits and deletions go through Amend).
	// ErrNotFound for an unknown room. An empty CID is never a duplicate. The (author, cid)
	// key spans rooms: a duplicate returns the original wherever it was
	// stored. Times (TS, CreatedAt) are UTC with millisecond precision.
	Append(ctx context.Context, m Message) (stored Message, dup bool, err error)
	// AppendAll stores ms, messages to one room, in one transaction, as
	// one Append each would in that order: each new message takes the
	// room's next offset (the batch's offsets are contiguous and in the
	// order of ms, whatever other nodes append meanwhile), a message
	// whose (author, cid) is stored already (before, or earlier in ms)
	// is returned as stored with Dup set and takes no offset. The result
	// has one entry per message of ms, in order. On an error nothing of
	// ms is stored: ErrNotFound for an unknown room; an error for ms
	// naming more than one room. A sender's queued messages cost one
	// transaction (one round trip with PostgreSQL) instead of one each.
	AppendAll(ctx context.Context, ms []Message) ([]Appended, error)
	History(ctx context.Context, room string, p Page) ([]Message, error)
	// Amend stores e, an edit or deletion (Kind protocol.MsgEdit or
	// MsgDelete; Room, Author, CID, Target, and Body for an edit) of the
	// message at offset e.Target, as a room event under the room's next
	// offset, and brings the target to its latest state in the same
	// transaction: an edit replaces its body (and that of its earlier
	// edits) and sets Edited; a deletion empties its body and those of
	// its edits and sets Deleted. Only the target's author may edit it;
	// its author, or anyone when moderator is true, may delete it.
	// ErrNotFound when the room or target does not exist or the target
	// is itself an event, ErrForbidden for anyone else, ErrGone when
	// it was deleted. Idempotent on (author, cid) like Append; a cid
	// naming another message or event is ErrConflict.
	Amend(ctx context.Context, e Message, moderator bool) (stored Message, dup bool, err error)
	// React stores e, a reaction event (Kind protocol.MsgReact or
	// MsgUnreact; Room, Author, CID, Target, and Body one of
	// protocol.Reactions) under the room's next offset, and in the same
	// transaction adds Author's reaction to the message at e.Target or
	// removes it, and sets the message's Reacted. A user has at most one
	// reaction of each emoji on a message (users compare as SameUser). A
	// reaction that changes nothing (react twice, unreact what is not
	// there) stores nothing and returns e with Offset = e.Target and
	// dup=true. ErrNotFound when the room or target does not exist or
	// the target is itself an event, ErrGone when it was deleted.
	// Idempotent on (author, cid) like Append; a cid naming another
	// message or event is ErrConflict. Deleting a message (Amend) deletes
	// its reactions.
	React(ctx context.Context, e Message) (stored Message, dup bool, err error)

	Ping(ctx context.Context) error
	Close() error
}
