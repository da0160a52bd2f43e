package ui

import (
	"context"

	"github.com/parleychat/parley/shared/protocol"
)

// accountAPI is the part of the HTTP API the app calls. In the browser it
// is fetchAPI, which calls fetch directly (net/http's client would add
// about 5 MB to app.wasm) and runs in cookie mode: the refresh token
// travels only in the node's HttpOnly cookie, never through Go. Natively
// (tests, the prerender) it is client.API, tokens in JSON bodies. Both
// fail with *client.APIError.
type accountAPI interface {
	Signup(ctx context.Context, cred protocol.Credentials) (protocol.Session, error)
	Login(ctx context.Context, cred protocol.Credentials) (protocol.Session, error)
	// Refresh rotates req.RefreshToken, or in cookie mode (req empty) the
	// cookie's.
	Refresh(ctx context.Context, req protocol.RefreshRequest) (protocol.Session, error)
	// Logout ends the session of req.RefreshToken, or when it is empty
	// the session of accessToken.
	Logout(ctx context.Context, accessToken string, req protocol.RefreshRequest) error
	Rooms(ctx context.Context, accessToken string) ([]protocol.Room, error)
	CreateRoomOf(ctx context.Context, accessToken, name, kind string) (protocol.Room, error)
	DirectRoom(ctx context.Context, accessToken, user string) (protocol.Room, error)
	DirectGroup(ctx context.Context, accessToken string, users ...string) (protocol.Room, error)
	Members(ctx context.Context, accessToken, room string) ([]protocol.Member, error)
	Invite(ctx context.Context, accessToken, room, user, role string) error
	Remove(ctx context.Context, accessToken, room, user string) (protocol.Left, error)
	Ban(ctx context.Context, accessToken, room, user string) error
	Unban(ctx context.Context, accessToken, room, user string) error
	Bans(ctx context.Context, accessToken, room string) ([]protocol.Ban, error)
	SetTopic(ctx context.Context, accessToken, room, topic string) (protocol.Room, error)
	DeleteRoom(ctx context.Context, accessToken, room string) error
	Sessions(ctx context.Context, accessToken string) ([]protocol.SessionInfo, error)
	EndSession(ctx context.Context, accessToken, id string) error
	EndAllSessions(ctx context.Context, accessToken string) error
	ChangePassword(ctx context.Context, accessToken string, req protocol.ChangePassword) error
	DeleteAccount(ctx context.Context, accessToken string, req protocol.DeleteAccount) error
}
