package protocol

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
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
//   - KindDirect: between two users or a small group (at most
//     MaxDirectUsers people), one room per set of people, created (or
//     found) by the people it is for with POST PathDirect. Only its
//     members see or use it; it has no invites, kicks or bans.
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
// (SetRole) and delete a public or private room (DELETE
// PathRooms/{room}). Anyone may leave; when the last owner leaves, the
// longest standing moderator (else member) becomes owner.
const (
	RoleOwner     = "owner"
	RoleModerator = "moderator"
	RoleMember    = "member"
)

// TypeRemoved (node): {room, code} the connection's subscription to room
// ended because the user is no longer a member; code is one of the
// Removed* reasons. It comes once per subscription, on every node the user
// is subscribed on, right after the change. Forget the room: a
// resubscribe is answered not_found for a private or direct room (until
// an invitation) and forbidden after a ban from a public room; only a
// public room the user was kicked from (not banned) may be joined again.
const TypeRemoved = "removed"

// Reasons in a removed frame's code: why the subscription ended.
const (
	RemovedKicked = "kicked" // an owner or moderator removed the user
	RemovedBanned = "banned" // removed and banned
	RemovedLeft   = "left"   // the user left (on this or another device)
	// RemovedDeleted: an owner deleted the room; its members, history
	// and bans are gone. A room created later under the same name is
	// another room (another epoch, offsets from 1).
	RemovedDeleted = "deleted"
	// RemovedNotMember: a node found out later (its announcement was
	// lost, or raced a subscribe) and does not know why.
	RemovedNotMember = "not_member"
)

// MaxDirectUsers bounds the people of a direct room, its creator
// included: a direct request names at most MaxDirectUsers-1 others.
const MaxDirectUsers = 8

// Check returns the others a direct request of caller names (see
// DirectRequest), or a readable error: none named, both forms at once,
// more than MaxDirectUsers-1 others (too_large), the caller among them
// (the caller is in every direct room they open), or one named twice
// (names are case-insensitive). Whether the names are users is the
// node's to say (not_found).
func (d DirectRequest) Check(caller string) ([]string, error) {
	if d.User != "" && len(d.Users) > 0 {
		return nil, badRequest("give user or users, not both")
	}
	names := d.Names()
	switch {
	case len(names) == 0:
		return nil, badRequest("name at least one other user")
	case len(names) > MaxDirectUsers-1:
		return nil, &DecodeError{Code: ErrTooLarge, Msg: fmt.Sprintf("a direct room holds at most %d people: name at most %d others", MaxDirectUsers, MaxDirectUsers-1)}
	}
	seen := make(map[string]bool, len(names))
	for _, n := range names {
		key := strings.ToLower(n)
		switch {
		case key == strings.ToLower(caller) && len(names) == 1:
			return nil, badRequest("a direct room needs another user")
		case key == strings.ToLower(caller):
			return nil, badRequest("name only the others: you are in every direct room you open")
		case seen[key]:
			return nil, badRequest("%q is named twice", n)
		}
		seen[key] = true
	}
	return names, nil
}

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

// KindInbox is the kind of a user's inbox: the per-user event stream.
// Every user has one room of this kind, named InboxRoom(user), that only
// the user may read and only nodes write: each of its messages is a
// UserEvent (JSON in the body) about the user's rooms — an invitation, a
// removal, a new direct room, a role change. Subscribe to it like any
// room: its events are numbered, arrive live from every node and are
// recovered after a reconnect by subscribing with since = the last
// offset seen, with no gap and no duplicate. A send to it is refused
// (forbidden); it never appears in the room list. The inbox exists once
// its first event does: until then it is answered not_found, like any
// room the user cannot read, and a client retries after its next event
// (or simply subscribes again after a while).
const KindInbox = "inbox"

// inboxPrefix and directPrefix start the names of inboxes and direct
// rooms; a room created by a client may not take them.
const (
	inboxPrefix  = "inbox-"
	directPrefix = "dm-"
)

// InboxRoom returns the name of user's inbox: "inbox-" and 32 hex digits
// of the SHA-256 of the lowercased name (user names are case-insensitive).
func InboxRoom(user string) string {
	sum := sha256.Sum256([]byte(strings.ToLower(user)))
	return inboxPrefix + hex.EncodeToString(sum[:16])
}

// ReservedRoomName reports whether name is kept for rooms the node makes
// (inboxes, the room feed, direct rooms): POST PathRooms refuses it.
func ReservedRoomName(name string) bool {
	return strings.HasPrefix(name, inboxPrefix) || strings.HasPrefix(name, directPrefix)
}

// UserEvent types.
const (
	// UserInvited: the user was added to Room (invited by By, or a
	// direct room By opened with them and maybe others: the room list
	// says with whom, Room.Peers). Kind is the room's kind.
	UserInvited = "invited"
	// UserRemoved: the user lost Room's membership; Reason is a
	// Removed* code (kicked, banned, left on some device).
	UserRemoved = "removed"
	// UserRole: By changed the user's role in Room to Role; or By, the
	// room's last owner, left or deleted their account and the user
	// (the longest standing moderator, else member) now owns Room.
	UserRole = "role"
	// UserRead (see read.go): the user read Room up to Offset.

	// UserJoined: the user joined the public Room themselves, on some
	// device (a subscribe or read made them a new member; joining again
	// a room they are in says nothing). Kind is the room's kind (public),
	// Topic its topic when it joined. An old client skips it (an unknown
	// type) and sees the room at its next room list.
	UserJoined = "joined"

	// UserDeleted: By, an owner, deleted Room, of which the user was a
	// member; Kind is its kind. Forget the room and everything cached
	// of it: its history is gone from the node, and a room created later
	// under the same name is another room (a new epoch).
	UserDeleted = "deleted"
)

// UserEvent is the body of a message in a user's inbox.
type UserEvent struct {
	Type   string `json:"type"`
	Room   string `json:"room"`
	By     string `json:"by,omitempty"`
	Kind   string `json:"kind,omitempty"`
	Reason string `json:"reason,omitempty"`
	Role   string `json:"role,omitempty"`
	// Topic is the room's topic in a UserJoined event.
	Topic string `json:"topic,omitempty"`
	// Offset is the read marker of a UserRead event.
	Offset int64 `json:"offset,omitempty"`
}

// ParseUserEvent decodes and checks an inbox message's body. Clients
// skip an event whose type they do not know (a newer node's).
func ParseUserEvent(body string) (UserEvent, error) {
	var e UserEvent
	if len(body) > MaxBodyBytes {
		return e, &DecodeError{Code: ErrTooLarge, Msg: "user event too large"}
	}
	if err := json.Unmarshal([]byte(body), &e); err != nil {
		return UserEvent{}, badRequest("user event is not a JSON object: %v", err)
	}
	if e.Type == "" {
		return UserEvent{}, badRequest("user event has no type")
	}
	if err := CheckRoomName(e.Room); err != nil {
		return UserEvent{}, err
	}
	if e.By != "" && !ValidUsername(e.By) {
		return UserEvent{}, badRequest("user event names an invalid user")
	}
	return e, nil
}
