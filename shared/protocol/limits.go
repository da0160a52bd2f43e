package protocol

import "time"

// Version is the protocol version carried in every frame's "v" field.
const Version = 1

// Limits both sides enforce. A node rejects anything beyond them; a client
// validates before sending so the user sees the problem at once.
const (
	// MaxFrameBytes is the largest WebSocket message a node reads. A larger
	// one closes the connection with WebSocket status 1009.
	MaxFrameBytes = 16 << 10

	// MaxBodyRunes is the longest message body, in Unicode code points.
	MaxBodyRunes = 4000
	// MaxBodyBytes is the longest message body in bytes (UTF-8).
	MaxBodyBytes = 12 << 10

	// MaxRoomNameLen bounds a room name; names match [RoomNamePattern].
	MaxRoomNameLen = 48
	// MinUsernameLen and MaxUsernameLen bound a username; usernames match
	// [UsernamePattern].
	MinUsernameLen = 3
	MaxUsernameLen = 32
	// MinPasswordLen and MaxPasswordLen bound a password, in bytes.
	MinPasswordLen = 8
	MaxPasswordLen = 128

	// MaxCIDLen bounds a client message id.
	MaxCIDLen = 64
	// MaxIDLen bounds a request id (history, ping).
	MaxIDLen = 64
	// MaxTokenLen bounds an access token in an auth or token frame.
	MaxTokenLen = 4096

	// HistoryPageDefault and HistoryPageMax are the default and largest
	// number of messages in one history page.
	HistoryPageDefault = 50
	HistoryPageMax     = 200

	// MaxBacklog is how many stored messages a subscribe replays at most.
	// A client further behind than this receives the newest MaxBacklog
	// messages and a subscribed frame whose head tells it a gap exists; it
	// can page back with history requests.
	MaxBacklog = 1000

	// HistoryPageMaxBytes bounds a history reply in bytes as well: it
	// holds the newest messages of the page whose encoded size adds up to
	// about this much (always at least one), with more=true when it held
	// back older ones.
	HistoryPageMaxBytes = 256 << 10
	// MaxBacklogBytes bounds a subscribe backlog in bytes the same way: a
	// client whose missed messages are larger gets the newest ones, sees
	// the gap before them and pages back with history.
	MaxBacklogBytes = 512 << 10

	// MaxSubscriptions bounds the rooms one connection may subscribe to.
	MaxSubscriptions = 100

	// MaxPresenceUsers bounds the users a presence frame lists: in a
	// bigger room it lists the first MaxPresenceUsers in byte order, and
	// its count says how many there are. A presence_delta never names
	// more: a change that large is sent as a full presence frame.
	MaxPresenceUsers = 1000
)

// Timing both sides agree on.
const (
	// AuthTimeout is how long a node waits for the auth frame.
	AuthTimeout = 5 * time.Second
	// PingInterval is how often a client sends a ping frame.
	PingInterval = 20 * time.Second
	// IdleTimeout is how long a node waits without any frame from a
	// client before closing with CloseIdle; it is well above PingInterval.
	IdleTimeout = 60 * time.Second
	// TypingTTL is how long a typing indicator stays shown without a new
	// typing frame.
	TypingTTL = 6 * time.Second
)

// RoomNamePattern and UsernamePattern describe valid names, for humans and
// for third-party clients; ValidRoomName and ValidUsername implement them.
const (
	RoomNamePattern = `^[a-z0-9][a-z0-9_-]{0,47}$`
	UsernamePattern = `^[A-Za-z0-9][A-Za-z0-9_.-]{2,31}$`
)

// DefaultRoom always exists.
const DefaultRoom = "general"
