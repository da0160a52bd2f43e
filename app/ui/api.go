package ui

import (
	"context"

	"github.com/parleychat/parley/shared/client"
	"github.com/parleychat/parley/shared/protocol"
)

// accountAPI is the part of the HTTP API the app calls. Natively it is
// client.API; in the browser it is fetchAPI, which calls fetch directly:
// net/http's client would add about 5 MB to app.wasm. Both fail with
// *client.APIError.
type accountAPI interface {
	Signup(ctx context.Context, cred protocol.Credentials) (protocol.Session, error)
	Login(ctx context.Context, cred protocol.Credentials) (protocol.Session, error)
	Refresh(ctx context.Context, req protocol.RefreshRequest) (protocol.Session, error)
	Logout(ctx context.Context, req protocol.RefreshRequest) error
	Rooms(ctx context.Context, accessToken string) ([]protocol.Room, error)
	CreateRoom(ctx context.Context, accessToken, name string) (protocol.Room, error)
}

var _ accountAPI = (*client.API)(nil)
