package protocol

import "encoding/json"

// FeatureRoomEvents ("room_events"): the client understands room events
// (messages of Kind MsgRoom). A client without it is never sent one: not
// live, not in a subscribe backlog, not in a history reply; their
// offsets are gaps to it, like edits to a client without FeatureEdits.
const FeatureRoomEvents = "room_events"

// MsgRoom is the Kind of a room event: something about the room itself
// changed (its members, their roles, its topic). Its Author is who made
// the change, its Body a RoomEvent (JSON), its Target 0. Like an edit it
// has its own offset in the room's stream, so it is live on every node
// and recovered after a reconnect like any message; it is never shown
// as a message, never counted as unread and never mentions anyone.
const MsgRoom = "room"

// RoomEvent.What values.
const (
	// RoomJoined: User became a member (invited by By).
	RoomJoined = "joined"
	// RoomRemoved: User lost the membership; Reason is a Removed* code
	// (kicked or banned by By, or left).
	RoomRemoved = "removed"
	// RoomRole: User's role is now Role (set by By; after the last
	// owner left, By is the one who left).
	RoomRole = "role"
	// RoomTopic: By set the topic to Topic (empty: cleared).
	RoomTopic = "topic"
)

// RoomEvent is the body of a MsgRoom message. A client that holds the
// room's member list or topic applies it (or reads them again); skip a
// What you do not know (a newer node's).
type RoomEvent struct {
	What   string `json:"what"`
	User   string `json:"user,omitempty"`
	By     string `json:"by,omitempty"`
	Role   string `json:"role,omitempty"`
	Reason string `json:"reason,omitempty"`
	Topic  string `json:"topic,omitempty"`
}

// IsRoomEvent reports whether m is a room event (Kind MsgRoom).
func (m *Message) IsRoomEvent() bool { return m.Kind == MsgRoom }

// ParseRoomEvent decodes and checks a room event's body.
func ParseRoomEvent(body string) (RoomEvent, error) {
	var e RoomEvent
	if len(body) > MaxBodyBytes {
		return e, &DecodeError{Code: ErrTooLarge, Msg: "room event too large"}
	}
	if err := json.Unmarshal([]byte(body), &e); err != nil {
		return RoomEvent{}, badRequest("room event is not a JSON object: %v", err)
	}
	if e.What == "" {
		return RoomEvent{}, badRequest("room event has no what")
	}
	for _, name := range []string{e.User, e.By} {
		if name != "" && !ValidUsername(name) {
			return RoomEvent{}, badRequest("room event names an invalid user")
		}
	}
	if e.Role != "" && !ValidRole(e.Role) {
		return RoomEvent{}, badRequest("room event has an invalid role %q", e.Role)
	}
	return e, nil
}
