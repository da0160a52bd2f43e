package protocol

// HTTP API. Requests and responses are JSON. Authenticated calls carry
// "Authorization: Bearer <access token>". A failure answers with a 4xx/5xx
// status and an APIError body.
//
//	POST /api/signup   Credentials   → 201 Session    (409 conflict when the name is taken)
//	POST /api/login    Credentials   → 200 Session    (401 unauthorized on a wrong name or password)
//	POST /api/refresh  RefreshRequest → 200 Session   (the old refresh token stops working)
//	POST /api/logout   RefreshRequest → 204
//	GET  /api/rooms                   → 200 RoomList   (auth)
//	POST /api/rooms    CreateRoom    → 201 Room       (auth; 409 when it exists)
//	GET  /healthz                     → 200 while the process runs
//	GET  /readyz                      → 200 when the store is reachable and the node is not draining
const (
	PathSignup  = "/api/signup"
	PathLogin   = "/api/login"
	PathRefresh = "/api/refresh"
	PathLogout  = "/api/logout"
	PathRooms   = "/api/rooms"
	PathWS      = "/ws"
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

// Room describes a room in the room list.
type Room struct {
	Name      string `json:"name"`
	Epoch     int64  `json:"epoch"`
	Head      int64  `json:"head"`
	CreatedBy string `json:"created_by,omitempty"`
	CreatedAt int64  `json:"created_at"`
}

// RoomList is the body of GET /api/rooms.
type RoomList struct {
	Rooms []Room `json:"rooms"`
}

// CreateRoom is the body of POST /api/rooms.
type CreateRoom struct {
	Name string `json:"name"`
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
