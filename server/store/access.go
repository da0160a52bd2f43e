package store

import (
	"time"

	"github.com/parleychat/parley/shared/protocol"
)

// Access is what one user may do in one room.
type Access struct {
	Kind   string // the room's kind
	Role   string // the user's role; empty when not a member
	Banned bool
}

// CanRead reports whether the user may subscribe to the room, read its
// history, see its presence and send to it: a member of any room, anyone
// not banned from a public room, or anyone at all for the room feed
// (protocol.KindFeed), which has no members.
func (a Access) CanRead() bool {
	return a.Role != "" || (a.Kind == protocol.KindPublic && !a.Banned) || a.Kind == protocol.KindFeed
}

// CanModerate reports whether the user may invite, kick, ban and set the
// topic: an owner or moderator of a public or private room (direct rooms
// and inboxes have no moderation).
func (a Access) CanModerate() bool {
	return (a.Kind == protocol.KindPublic || a.Kind == protocol.KindPrivate) &&
		(a.Role == protocol.RoleOwner || a.Role == protocol.RoleModerator)
}

// CanSend reports whether the user may send to the room: whoever may read
// it, except to an inbox or the room feed, which only nodes write.
func (a Access) CanSend() bool {
	return a.CanRead() && a.Kind != protocol.KindInbox && a.Kind != protocol.KindFeed
}

// MemberRoom is a room as one user sees it in their room list.
type MemberRoom struct {
	Room
	Role string // the user's role; empty in a public room they never joined
	Peer string // the other member of a direct room between two users
	// Peers are the other people of a direct room, by name key, members
	// or not (those it was made for).
	Peers []string
	// LastRead is the user's read marker (0 when not a member); Unread
	// counts the messages after it that others wrote, Mentions those of
	// them that mention the user (protocol.Mentioned). Both stop at
	// protocol.UnreadCap.
	LastRead int64
	Unread   int64
	Mentions int64
}

// Member is one member of a room.
type Member struct {
	User     string
	Role     string
	JoinedAt time.Time
}

// Ban is one user banned from a room.
type Ban struct {
	User     string
	BannedAt time.Time
}

// joinVerdict decides a Join from the user's access: insert a membership,
// or not (already a member, or the room feed, which everyone reads and
// nobody joins; or err). A private or direct room comes before a ban, so
// that not even a banned user learns more than ErrNotFound.
func joinVerdict(a Access) (insert bool, err error) {
	switch {
	case a.Role != "", a.Kind == protocol.KindFeed:
		return false, nil
	case a.Kind != protocol.KindPublic:
		return false, ErrNotFound
	case a.Banned:
		return false, ErrBanned
	}
	return true, nil
}

// addVerdict decides an AddMember from the user's access.
func addVerdict(a Access) (insert bool, err error) {
	switch {
	case a.Banned:
		return false, ErrBanned
	case a.Role != "":
		return false, nil
	}
	return true, nil
}
