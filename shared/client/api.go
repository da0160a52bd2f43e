//go:build !js

package client

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/parleychat/parley/shared/protocol"
)

// maxResponseBytes bounds an API response body the client reads.
const maxResponseBytes = 1 << 20

// API calls a node's HTTP API. It is safe for concurrent use. It is not
// built for js/wasm: net/http would cost app.wasm about 2 MB of package
// initializers, so the browser app calls the API with fetch
// (app/ui/api_fetch.go) and shares APIError (apierror.go).
type API struct {
	base string
	hc   *http.Client
}

// NewAPI returns an API client for the node at baseURL (http:// or
// https://host[:port], no path). A nil hc means http.DefaultClient.
func NewAPI(baseURL string, hc *http.Client) *API {
	if hc == nil {
		hc = http.DefaultClient
	}
	return &API{base: strings.TrimRight(baseURL, "/"), hc: hc}
}

// Signup creates an account and signs it in.
func (a *API) Signup(ctx context.Context, cred protocol.Credentials) (protocol.Session, error) {
	var s protocol.Session
	err := a.do(ctx, http.MethodPost, protocol.PathSignup, "", cred, &s)
	if err != nil {
		return s, fmt.Errorf("sign up: %w", err)
	}
	return s, nil
}

// Login signs in with a username and password.
func (a *API) Login(ctx context.Context, cred protocol.Credentials) (protocol.Session, error) {
	var s protocol.Session
	if err := a.do(ctx, http.MethodPost, protocol.PathLogin, "", cred, &s); err != nil {
		return s, fmt.Errorf("log in: %w", err)
	}
	return s, nil
}

// Refresh trades a refresh token for a new session; the old refresh token
// stops working.
func (a *API) Refresh(ctx context.Context, req protocol.RefreshRequest) (protocol.Session, error) {
	var s protocol.Session
	if err := a.do(ctx, http.MethodPost, protocol.PathRefresh, "", req, &s); err != nil {
		return s, fmt.Errorf("refresh session: %w", err)
	}
	return s, nil
}

// Logout revokes a refresh token.
func (a *API) Logout(ctx context.Context, req protocol.RefreshRequest) error {
	if err := a.do(ctx, http.MethodPost, protocol.PathLogout, "", req, nil); err != nil {
		return fmt.Errorf("log out: %w", err)
	}
	return nil
}

// Sessions lists the account's live sessions.
func (a *API) Sessions(ctx context.Context, accessToken string) ([]protocol.SessionInfo, error) {
	var list protocol.SessionList
	if err := a.do(ctx, http.MethodGet, protocol.PathSessions, accessToken, nil, &list); err != nil {
		return nil, fmt.Errorf("list sessions: %w", err)
	}
	return list.Sessions, nil
}

// EndSession ends one of the account's sessions (possibly this one).
func (a *API) EndSession(ctx context.Context, accessToken, id string) error {
	if err := a.do(ctx, http.MethodDelete, protocol.PathSessions+"/"+url.PathEscape(id), accessToken, nil, nil); err != nil {
		return fmt.Errorf("end session: %w", err)
	}
	return nil
}

// EndAllSessions signs the account out everywhere, this session too.
func (a *API) EndAllSessions(ctx context.Context, accessToken string) error {
	if err := a.do(ctx, http.MethodDelete, protocol.PathSessions, accessToken, nil, nil); err != nil {
		return fmt.Errorf("sign out everywhere: %w", err)
	}
	return nil
}

// ChangePassword sets a new password; every other session ends.
func (a *API) ChangePassword(ctx context.Context, accessToken string, req protocol.ChangePassword) error {
	if err := a.do(ctx, http.MethodPost, protocol.PathPassword, accessToken, req, nil); err != nil {
		return fmt.Errorf("change password: %w", err)
	}
	return nil
}

// DeleteAccount deletes the account; every session ends.
func (a *API) DeleteAccount(ctx context.Context, accessToken string, req protocol.DeleteAccount) error {
	if err := a.do(ctx, http.MethodDelete, protocol.PathAccount, accessToken, req, nil); err != nil {
		return fmt.Errorf("delete account: %w", err)
	}
	return nil
}

// Rooms lists the rooms.
func (a *API) Rooms(ctx context.Context, accessToken string) ([]protocol.Room, error) {
	var list protocol.RoomList
	if err := a.do(ctx, http.MethodGet, protocol.PathRooms, accessToken, nil, &list); err != nil {
		return nil, fmt.Errorf("list rooms: %w", err)
	}
	return list.Rooms, nil
}

// CreateRoom creates a room; an *APIError with status 409 means it exists.
func (a *API) CreateRoom(ctx context.Context, accessToken, name string) (protocol.Room, error) {
	var r protocol.Room
	if err := protocol.CheckRoomName(name); err != nil {
		return r, fmt.Errorf("create room: %w", err)
	}
	err := a.do(ctx, http.MethodPost, protocol.PathRooms, accessToken, protocol.CreateRoom{Name: name}, &r)
	if err != nil {
		return r, fmt.Errorf("create room: %w", err)
	}
	return r, nil
}

// do sends one JSON request and decodes a 2xx answer into out (nil: no
// body expected) or a failure into an *APIError.
func (a *API) do(ctx context.Context, method, path, token string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("encode request: %w", err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, a.base+path, body)
	if err != nil {
		return fmt.Errorf("build request: %w", err)
	}
	req.Header.Set("Accept", "application/json")
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := a.hc.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes))
	if err != nil {
		return fmt.Errorf("read response: %w", err)
	}
	if resp.StatusCode >= 300 {
		return apiError(resp, data)
	}
	if out == nil || len(bytes.TrimSpace(data)) == 0 && resp.StatusCode == http.StatusNoContent {
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("decode response: %w", err)
	}
	return nil
}

// apiError builds the *APIError of a failed call.
func apiError(resp *http.Response, data []byte) *APIError {
	return NewAPIError(resp.StatusCode, resp.Header.Get("Retry-After"), data)
}
