package protocol

// HTTP API. Requests and responses are JSON. Authenticated calls carry
// "Authorization: Bearer <access token>". A failure answers with a 4xx/5xx
// status and an APIError body.
//
//	POST /api/signup   Credentials   → 201 Session    (409 conflict when the name is taken)
//	POST /api/login    Credentials   → 200 Session    (401 unauthorized on a wrong name or password)
//	POST /api/refresh  RefreshRequest → 200 Session   (the old refresh token stops working)
//	POST /api/logout   RefreshRequest → 204            (ends the session on every node; see below; or with a Bearer token, its session)
//	GET  /api/sessions                → 200 SessionList (auth) the account's live sessions
//	DELETE /api/sessions              → 204            (auth) sign out everywhere, this session too
//	DELETE /api/sessions/{id}         → 204            (auth; 404 when not a live session of the account)
//	POST /api/password ChangePassword → 204            (auth; 401 on a wrong current password) ends every other session
//	DELETE /api/account DeleteAccount → 204            (auth; 401 on a wrong password) see below
//	GET  /api/rooms                   → 200 RoomList   (auth) the rooms the caller may see (see Conversations)
//	POST /api/rooms    CreateRoom    → 201 Room       (auth; 409 when it exists) the caller owns it
//	PATCH /api/rooms/{room} UpdateRoom → 200 Room      (auth; owner or moderator) set the topic
//	DELETE /api/rooms/{room}          → 204            (auth; owner; 403 for a direct room, an inbox or DefaultRoom) delete the room, see Conversations
//	POST /api/direct   DirectRequest → 200 Room       (auth; 201 when created; 404 unknown user; 400 see DirectRequest.Check) the direct room with one user or a small group
//	GET  /api/rooms/{room}/members    → 200 MemberList (auth; members, or anyone in a public room)
//	POST /api/rooms/{room}/members Invite → 204        (auth; owner or moderator; 404 unknown user, 403 banned) invite, or (owner) set a role
//	DELETE /api/rooms/{room}/members/{user} → 200 Left (auth) {user} is the caller: leave; else kick (owner or moderator)
//	GET  /api/rooms/{room}/bans       → 200 BanList    (auth; owner or moderator) who is banned
//	PUT  /api/rooms/{room}/bans/{user} → 204           (auth; owner or moderator) ban (and remove)
//	DELETE /api/rooms/{room}/bans/{user} → 204         (auth; owner or moderator; 404 when not banned) lift a ban
//	GET  /healthz                     → 200 while the process runs
//	GET  /readyz                      → 200 when the store is reachable and the node is not draining
//
// Limits. Signup, login, refresh, logout, password change and account
// deletion are limited per client address (and per IPv6 /48): beyond it,
// 429 rate_limited with a Retry-After header (seconds). After a few wrong
// passwords in a row, an account makes each further attempt wait longer
// (doubling), from whatever address: meanwhile its login, password change
// and account deletion answer 429 rate_limited with Retry-After without
// checking the password. When too many password hashes wait already, a
// node answers 503 unavailable with Retry-After at once: try again then.
const (
	PathSignup  = "/api/signup"
	PathLogin   = "/api/login"
	PathRefresh = "/api/refresh"
	PathLogout  = "/api/logout"
	PathRooms   = "/api/rooms"
	PathDirect  = "/api/direct"
	PathWS      = "/ws"

	PathSessions = "/api/sessions"
	PathPassword = "/api/password"
	PathAccount  = "/api/account"
)

// Sessions. Every login or signup starts a session; refreshing keeps it
// (the refresh token rotates within the session, its "family"), and
// access tokens name it in their "sid" claim. A session ends at logout,
// sign out everywhere, a password change (every other session of the
// account), account deletion, when it reaches its absolute lifetime, or
// when a refresh token that was already rotated is presented again after
// a short grace window (a replay: one of its holders is a thief). Once a
// session ends, every node closes its sockets with CloseSessionEnded,
// refuses its access tokens (401, or CloseSessionEnded on an auth or
// token frame) and its refresh tokens (401).
//
// Deleting an account ends its sessions and frees nothing else: its
// messages stay in their rooms under its name, and the name is never
// given to anyone else, so old messages cannot be mistaken for a new
// owner's.

// Cookie mode, for browsers. A signup, login, refresh or logout request
// with the header HeaderSession: SessionCookie keeps the refresh token out
// of JavaScript's reach: the node sets it in an HttpOnly, Secure,
// SameSite=Strict cookie named RefreshCookie, valid for the refresh path
// only, and the Session body carries no refresh_token. A refresh request
// in cookie mode may send {} (the cookie carries the token; a body token
// wins, which is how a client moves a token it stored to the cookie). A
// logout in cookie mode sends the access token (Authorization: Bearer)
// and ends its session; the node then expires the cookie. Browsers keep a
// Secure cookie only over https or from localhost: behind plain http on
// any other host, a browser app cannot refresh and signs in again when
// its access token expires. Without the header (the CLI, the load
// generator) tokens travel in JSON bodies as below.
const (
	HeaderSession = "Parley-Session"
	SessionCookie = "cookie"
	RefreshCookie = "parley_refresh"
)

// MaxAPIBodyBytes bounds an HTTP API request body.
const MaxAPIBodyBytes = 8 << 10

// Credentials is the body of signup and login.
type Credentials struct {
	Username string `json:"username"`
	Password string `json:"password"`
}

// Session is what signup, login and refresh return.
type Session struct {
	User         string `json:"user"`
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
	// ExpiresAt is when the access token expires, in Unix milliseconds.
	ExpiresAt int64 `json:"expires_at"`
}

// RefreshRequest is the body of refresh and logout.
type RefreshRequest struct {
	RefreshToken string `json:"refresh_token"`
}

// SessionInfo describes one live session in SessionList. Times are Unix
// milliseconds; LastSeen is the last login or refresh.
type SessionInfo struct {
	ID        string `json:"id"`
	UserAgent string `json:"user_agent"`
	CreatedAt int64  `json:"created_at"`
	LastSeen  int64  `json:"last_seen"`
	ExpiresAt int64  `json:"expires_at"`
	// Current marks the session the request's access token belongs to.
	Current bool `json:"current"`
}

// SessionList is the body of GET /api/sessions, oldest first.
type SessionList struct {
	Sessions []SessionInfo `json:"sessions"`
}

// ChangePassword is the body of POST /api/password.
type ChangePassword struct {
	CurrentPassword string `json:"current_password"`
	NewPassword     string `json:"new_password"`
}

// DeleteAccount is the body of DELETE /api/account.
type DeleteAccount struct {
	Password string `json:"password"`
}

// Conversations. A room is public, private or direct (see KindPublic).
// The room list holds every public room (except those the caller is
// banned from) and every room the caller is a member of. Room management
// answers a private or direct room the caller is not a member of exactly
// like a room that does not exist (404 not_found, "no such room"); a
// member without the right role gets 403 forbidden. Moderators may not
// kick or ban owners or other moderators; only owners set roles. Direct
// rooms have no invites, kicks or bans; either member sets the topic.
// Whoever loses a room's membership (kick, ban, leave) has every
// subscription to it ended at once on every node (a removed frame); a
// kick from a public room is not a ban: the user may join it again.

// Room describes a room in the room list.
type Room struct {
	Name      string `json:"name"`
	Epoch     int64  `json:"epoch"`
	Head      int64  `json:"head"`
	CreatedBy string `json:"created_by,omitempty"`
	CreatedAt int64  `json:"created_at"`
	// Kind is KindPublic, KindPrivate or KindDirect.
	Kind  string `json:"kind"`
	Topic string `json:"topic,omitempty"`
	// Role is the caller's role, empty when not a member (a public room
	// the caller never joined).
	Role string `json:"role,omitempty"`
	// Peer is the other member of a direct room between two users (empty
	// for a group).
	Peer string `json:"peer,omitempty"`
	// Peers are the other people of a direct room (two users or a
	// group), sorted by lowercased name: who the room is with, whether or
	// not they are still members. Name a direct room by them.
	Peers []string `json:"peers,omitempty"`
	// LastRead is the caller's read marker (TypeRead): the offset up to
	// which they have read. Unread counts the messages after it that
	// others wrote, Mentions those of them that mention the caller
	// (Mentioned); both stop at UnreadCap. All three are 0 in a room the
	// caller is not a member of. A new member starts at the room's head.
	LastRead int64 `json:"last_read,omitempty"`
	Unread   int64 `json:"unread,omitempty"`
	Mentions int64 `json:"mentions,omitempty"`
}

// RoomList is the body of GET /api/rooms.
type RoomList struct {
	Rooms []Room `json:"rooms"`
}

// CreateRoom is the body of POST /api/rooms. Kind is KindPublic (the
// default when empty) or KindPrivate.
type CreateRoom struct {
	Name string `json:"name"`
	Kind string `json:"kind,omitempty"`
}

// UpdateRoom is the body of PATCH /api/rooms/{room}: the fields to change
// (Topic: empty clears it; at most MaxTopicRunes, one line).
type UpdateRoom struct {
	Topic *string `json:"topic,omitempty"`
}

// DirectRequest is the body of POST /api/direct: the people to talk
// with besides the caller, either one in User (the form from before
// groups) or one to MaxDirectUsers-1 in Users, not both. There is one
// direct room per set of people (the caller and the others, by
// lowercased name, in any order): asking again for the same set, from
// any member, returns the same room (200; 201 when this call created
// it), and brings the caller back if they had left it. A room for the
// pair {alice, bob} is the one they had before groups existed.
type DirectRequest struct {
	User  string   `json:"user,omitempty"`
	Users []string `json:"users,omitempty"`
}

// Names returns the users the request names: User, or else Users.
func (d DirectRequest) Names() []string {
	if d.User != "" {
		return append([]string{d.User}, d.Users...)
	}
	return d.Users
}

// Invite is the body of POST /api/rooms/{room}/members. Role is
// RoleMember when empty; inviting someone already a member with a role
// changes their role (owners only).
type Invite struct {
	User string `json:"user"`
	Role string `json:"role,omitempty"`
}

// Member is one member of a room; JoinedAt is in Unix milliseconds.
type Member struct {
	User     string `json:"user"`
	Role     string `json:"role"`
	JoinedAt int64  `json:"joined_at"`
}

// MemberList is the body of GET /api/rooms/{room}/members, by name.
type MemberList struct {
	Members []Member `json:"members"`
}

// Ban is one user banned from a room; BannedAt is in Unix milliseconds.
type Ban struct {
	User     string `json:"user"`
	BannedAt int64  `json:"banned_at"`
}

// BanList is the body of GET /api/rooms/{room}/bans, by name.
type BanList struct {
	Bans []Ban `json:"bans"`
}

// Left answers a leave: NewOwner names who became owner because the
// caller was the last one (empty otherwise).
type Left struct {
	NewOwner string `json:"new_owner,omitempty"`
}

// APIError is the body of every failed API call.
type APIError struct {
	Error APIErrorBody `json:"error"`
}

// APIErrorBody holds a stable code and a message for people.
type APIErrorBody struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}
