package client

import (
	"time"

	"github.com/parleychat/parley/shared/protocol"
)

// EventKind says what an Event reports.
type EventKind int

// Event kinds. The comment lists the Event fields each one sets.
const (
	// EventConnected: a connection was authenticated. User, Node.
	EventConnected EventKind = iota + 1
	// EventDisconnected: a connection attempt failed or a connection ended.
	// Err says why; Code is the close code when the node sent one (else 0);
	// Retry is the delay before the next attempt (0 when Run is returning).
	EventDisconnected
	// EventSubscribed: a subscription is live. Room, Epoch, Head; Reset is
	// true when the epoch differs from the one known before, so cached
	// history of the room must be discarded.
	EventSubscribed
	// EventMessage: a room event, delivered once, in offset order. Room,
	// Msg, Offset, CID (the message's cid, if any).
	EventMessage
	// EventAck: the node stored a message this client sent. Room, CID,
	// Offset, TS.
	EventAck
	// EventPresence: who is in a room now. Room, Count (how many), and
	// either the full list in Users (Delta false: replace what you hold;
	// at most protocol.MaxPresenceUsers in a bigger room) or, with Delta,
	// the change since the previous one in Joined and Left. Presence
	// applies them.
	EventPresence
	// EventTyping: someone else is typing. Room, User.
	EventTyping
	// EventError: an error frame, or a message the node refused for good
	// (then CID names it and it has left the outbox). Err is a
	// *ServerError; Ref is the request it answers; Room is set when the
	// request named one (a failed subscribe answers with ref=room).
	EventError
	// EventResync: the node may have missed events; the client resubscribes
	// from its last offset by itself. Room, Epoch, Head.
	EventResync
	// EventGap: events after Since and before Offset were skipped because
	// the gap was too large (more than Config.MaxGap) or the node answered
	// that it cannot be fetched; page back with Client.History(room,
	// Offset, …) to show them. Room, Since, Offset.
	EventGap
	// EventRoomRetry: the node could not serve a room's subscribe or gap
	// fetch right now (unavailable, rate_limited or internal_error: its
	// database may be down). The client tries again by itself after Retry,
	// with backoff and jitter, until it succeeds or the room is
	// unsubscribed; nothing is skipped meanwhile. EventSubscribed (or the
	// next message of the room) says it is served again. Room, Err, Retry.
	EventRoomRetry
	// EventRemoved: the user is no longer a member of Room (kicked,
	// banned, or left on another device); the client has forgotten the
	// room and will not resubscribe to it. Room, Reason (a
	// protocol.Removed* code).
	EventRemoved
	// EventWatching: a watch (Client.Watch) is live on this connection:
	// messages stored after Head come as EventWatched. Room, Head.
	EventWatching
	// EventWatched: a new message in a watched room the client is not
	// subscribed to (raise its unread count; it is not in the room's
	// offsets). Room, Msg, Offset, CID, TS.
	EventWatched
)

var kindNames = [...]string{
	EventConnected:    "connected",
	EventDisconnected: "disconnected",
	EventSubscribed:   "subscribed",
	EventMessage:      "message",
	EventAck:          "ack",
	EventPresence:     "presence",
	EventTyping:       "typing",
	EventError:        "error",
	EventResync:       "resync",
	EventGap:          "gap",
	EventRoomRetry:    "room retry",
	EventRemoved:      "removed",
	EventWatching:     "watching",
	EventWatched:      "watched",
}

func (k EventKind) String() string {
	if k > 0 && int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "unknown"
}

// Event is what Config.OnEvent receives. Kind says which fields are set.
type Event struct {
	Kind   EventKind
	Room   string
	Msg    *protocol.Message
	CID    string
	Offset int64
	Since  int64
	TS     int64
	Epoch  int64
	Head   int64
	Reset  bool
	Users  []string
	Joined []string
	Left   []string
	Count  int
	Delta  bool
	User   string
	Node   string
	Ref    string
	Err    error
	Code   protocol.CloseCode
	Retry  time.Duration
	Reason string
}
