package protocol

// FeatureWatch ("watch"): the node accepts watch and unwatch frames. A
// client uses them only when the welcome confirms the feature.
const FeatureWatch = "watch"

// Watching a room: its new messages without being in it.
const (
	// TypeWatch (client): {room} asks for the room's new messages
	// without subscribing: no presence (the user does not appear in the
	// room), no backlog, no typing, no events (edits, deletions, room
	// events). Answered by watching, or by an error with ref=room
	// exactly like a subscribe the user may not make (not_found for a
	// private or direct room the user is not a member of). Watching a
	// room the connection already watches answers watching again.
	TypeWatch = "watch"
	// TypeUnwatch (client): {room} ends a watch; no answer.
	TypeUnwatch = "unwatch"
	// TypeWatching (node): {room, head} the watch is live: every message
	// stored after head comes as a msg frame, in offset order, except
	// while the connection is also subscribed to the room (the
	// subscription delivers it, once). A watch is not recovered: after a
	// reconnect, read the room list (its unread counts) and watch again.
	// It ends without a frame when the user loses the room's membership
	// (the inbox says so).
	TypeWatching = "watching"
)

// MaxWatches bounds the rooms one connection may watch.
const MaxWatches = 500
