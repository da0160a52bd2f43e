package protocol

import (
	"fmt"
	"unicode"
	"unicode/utf8"
)

// Room kinds (Room.Kind, CreateRoom.Kind).
//
//   - KindPublic: listed to everyone; anyone not banned may read it, and
//     subscribing joins it (a send needs no subscribe, as before rooms had
//     kinds). Every room from before kinds existed is public.
//   - KindPrivate: invite only. Only members see it in the room list and
//     may subscribe, send, read history, type or see presence in it.
//   - KindDirect: between two users, one room per pair, created (or
//     found) with POST PathDirect. Only its two members see or use it; it
//     has no invites, kicks or bans.
//
// To anyone who may not read a private or direct room, the room is
// answered exactly like a room that does not exist (not_found, "no such
// room"), whatever the request: nobody learns that it exists or what it
// is called.
const (
	KindPublic  = "public"
	KindPrivate = "private"
	KindDirect  = "direct"
)

// Member roles (Room.Role, Member.Role). Owners and moderators invite,
// kick, ban and set the topic; only owners make moderators and owners
// (SetRole). Anyone may leave; when the last owner leaves, the longest
// standing moderator (else member) becomes owner.
const (
	RoleOwner     = "owner"
	RoleModerator = "moderator"
	RoleMember    = "member"
)

// TypeRemoved (node): {room, code} the connection's subscription to room
// ended because the user is no longer a member; code is one of the
// Removed* reasons. It comes once per subscription, on every node the user
// is subscribed on, right after the change. Do not resubscribe (it would
// be answered not_found, or forbidden when banned from a public room);
// forget the room unless it is invited again.
const TypeRemoved = "removed"

// Reasons in a removed frame's code: why the subscription ended.
const (
	RemovedKicked = "kicked" // an owner or moderator removed the user
	RemovedBanned = "banned" // removed and banned
	RemovedLeft   = "left"   // the user left (on this or another device)
	// RemovedNotMember: a node found out later (its announcement was
	// lost, or raced a subscribe) and does not know why.
	RemovedNotMember = "not_member"
)

// MaxTopicRunes bounds a room topic, in Unicode code points.
const MaxTopicRunes = 250

// ValidKind reports whether kind is a room kind a client may create
// with POST PathRooms (public or private; direct rooms have their own
// endpoint).
func ValidKind(kind string) bool { return kind == KindPublic || kind == KindPrivate }

// ValidRole reports whether role is a member role.
func ValidRole(role string) bool {
	return role == RoleOwner || role == RoleModerator || role == RoleMember
}

// CheckTopic returns a readable error when topic is not a valid room
// topic: invalid UTF-8, too long, or holding control or bidirectional
// formatting characters (a topic is one line). Empty clears it.
func CheckTopic(topic string) error {
	if !utf8.ValidString(topic) {
		return badRequest("topic is not valid UTF-8")
	}
	if utf8.RuneCountInString(topic) > MaxTopicRunes {
		return &DecodeError{Code: ErrTooLarge, Msg: fmt.Sprintf("topic longer than %d characters", MaxTopicRunes)}
	}
	for _, r := range topic {
		if unicode.IsControl(r) || IsBidiControl(r) {
			return badRequest("topic contains control or formatting character %U", r)
		}
	}
	return nil
}
