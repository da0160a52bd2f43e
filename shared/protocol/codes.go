package protocol

// Error codes carried in error frames and in the JSON bodies of failed HTTP
// API calls ({"error": {"code": …, "message": …}}). They are stable: clients
// switch on them.
const (
	ErrBadRequest   = "bad_request"    // malformed or invalid input; fix it, do not retry as is
	ErrUnauthorized = "unauthorized"   // missing, invalid or expired credentials
	ErrForbidden    = "forbidden"      // authenticated but not allowed (the wrong role; banned from a public room; another's message)
	ErrNotFound     = "not_found"      // unknown room, user or message (edit, delete), or a private or direct room the user is not in (the same answer)
	ErrConflict     = "conflict"       // name already taken; a cid naming another message; editing or deleting a deleted message
	ErrRateLimited  = "rate_limited"   // too many requests; retry after the given delay
	ErrTooLarge     = "too_large"      // body or name too long
	ErrUnknownType  = "unknown_type"   // frame type not understood
	ErrUnavailable  = "unavailable"    // a dependency is down; retry later
	ErrInternal     = "internal_error" // a bug or an unexpected failure
	// ErrSessionEnded: the session of this connection's token ended; a
	// node sends it just before it closes with CloseSessionEnded, for
	// clients that cannot read close codes (browsers). Sign in again.
	ErrSessionEnded = "session_ended"
)

// CloseCode is a WebSocket close status code a node uses. Codes in
// 4000–4499 ask the client to reconnect (with backoff and jitter) and recover
// from its last offsets; codes in 4500–4999 are terminal for the current
// credentials. Standard codes a client may also see: 1001 (going away),
// 1009 (frame larger than MaxFrameBytes), 1011 (internal error).
type CloseCode int

// Close codes.
const (
	// CloseGoingAway: the node is draining (shutdown or deploy); reconnect
	// to another node after a random delay in [0, DrainJitter].
	CloseGoingAway CloseCode = 4000
	// CloseSlowConsumer: the client did not read fast enough and its queue
	// overflowed; reconnect and recover from the last offsets.
	CloseSlowConsumer CloseCode = 4001
	// CloseIdle: nothing was received for IdleTimeout.
	CloseIdle CloseCode = 4002
	// CloseTokenExpired: the access token expired on a live connection;
	// refresh it and reconnect.
	CloseTokenExpired CloseCode = 4003
	// CloseAuthTimeout: no auth frame arrived within AuthTimeout.
	CloseAuthTimeout CloseCode = 4004
	// CloseFlood: too many frames too fast; reconnect after a pause.
	CloseFlood CloseCode = 4005
	// CloseTooManyConnections: the account already has as many open
	// connections on this node as it may (the node's --max-conns-per-user);
	// close another one, or reconnect with backoff.
	CloseTooManyConnections CloseCode = 4006

	// CloseUnauthorized: the token is invalid (forged, malformed, wrong
	// key); do not reconnect without signing in again.
	CloseUnauthorized CloseCode = 4500
	// CloseProtocolError: the client sent something that is not a Parley
	// frame (not a JSON object, bad JSON, wrong version, no type, a frame
	// before auth). Valid frames with bad fields get an error frame.
	CloseProtocolError CloseCode = 4501
	// CloseSessionEnded: the session this connection belongs to was ended
	// (signed out here or everywhere, password changed, account deleted,
	// or its refresh token was replayed). Its tokens no longer work: sign
	// in again, do not refresh or reconnect.
	CloseSessionEnded CloseCode = 4502
)

// Reconnect reports whether a client should reconnect after this close code.
func (c CloseCode) Reconnect() bool {
	return c < 4500
}

// DrainJitterSeconds is the window over which clients of a draining node
// spread their reconnects.
const DrainJitterSeconds = 5
