//go:build js && wasm

package ui

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"syscall/js"

	"github.com/parleychat/parley/shared/client"
	"github.com/parleychat/parley/shared/protocol"
)

// fetchAPI calls the HTTP API with the browser's fetch, in cookie mode
// (protocol.HeaderSession): the node keeps the refresh token in an
// HttpOnly cookie that only the browser sends, to the refresh path. It
// decodes answers exactly as client.API does.
type fetchAPI struct{ base string }

var _ accountAPI = fetchAPI{}

// newAccountAPI returns the API client for the node at base.
func newAccountAPI(base string) accountAPI { return fetchAPI{base: strings.TrimRight(base, "/")} }

func (f fetchAPI) Signup(ctx context.Context, cred protocol.Credentials) (protocol.Session, error) {
	var s protocol.Session
	if err := f.do(ctx, "POST", protocol.PathSignup, "", cred, &s); err != nil {
		return s, fmt.Errorf("sign up: %w", err)
	}
	return s, nil
}

func (f fetchAPI) Login(ctx context.Context, cred protocol.Credentials) (protocol.Session, error) {
	var s protocol.Session
	if err := f.do(ctx, "POST", protocol.PathLogin, "", cred, &s); err != nil {
		return s, fmt.Errorf("log in: %w", err)
	}
	return s, nil
}

func (f fetchAPI) Refresh(ctx context.Context, req protocol.RefreshRequest) (protocol.Session, error) {
	var s protocol.Session
	if err := f.do(ctx, "POST", protocol.PathRefresh, "", req, &s); err != nil {
		return s, fmt.Errorf("refresh session: %w", err)
	}
	return s, nil
}

func (f fetchAPI) Logout(ctx context.Context, accessToken string, req protocol.RefreshRequest) error {
	if req.RefreshToken != "" {
		accessToken = ""
	}
	if err := f.do(ctx, "POST", protocol.PathLogout, accessToken, req, nil); err != nil {
		return fmt.Errorf("log out: %w", err)
	}
	return nil
}

func (f fetchAPI) Sessions(ctx context.Context, accessToken string) ([]protocol.SessionInfo, error) {
	var list protocol.SessionList
	if err := f.do(ctx, "GET", protocol.PathSessions, accessToken, nil, &list); err != nil {
		return nil, fmt.Errorf("list sessions: %w", err)
	}
	return list.Sessions, nil
}

func (f fetchAPI) EndSession(ctx context.Context, accessToken, id string) error {
	path := protocol.PathSessions + "/" + url.PathEscape(id)
	if err := f.do(ctx, "DELETE", path, accessToken, nil, nil); err != nil {
		return fmt.Errorf("end session: %w", err)
	}
	return nil
}

func (f fetchAPI) EndAllSessions(ctx context.Context, accessToken string) error {
	if err := f.do(ctx, "DELETE", protocol.PathSessions, accessToken, nil, nil); err != nil {
		return fmt.Errorf("sign out everywhere: %w", err)
	}
	return nil
}

func (f fetchAPI) ChangePassword(ctx context.Context, accessToken string, req protocol.ChangePassword) error {
	if err := f.do(ctx, "POST", protocol.PathPassword, accessToken, req, nil); err != nil {
		return fmt.Errorf("change password: %w", err)
	}
	return nil
}

func (f fetchAPI) DeleteAccount(ctx context.Context, accessToken string, req protocol.DeleteAccount) error {
	if err := f.do(ctx, "DELETE", protocol.PathAccount, accessToken, req, nil); err != nil {
		return fmt.Errorf("delete account: %w", err)
	}
	return nil
}

func (f fetchAPI) Rooms(ctx context.Context, accessToken string) ([]protocol.Room, error) {
	var list protocol.RoomList
	if err := f.do(ctx, "GET", protocol.PathRooms, accessToken, nil, &list); err != nil {
		return nil, fmt.Errorf("list rooms: %w", err)
	}
	return list.Rooms, nil
}

func (f fetchAPI) CreateRoomOf(ctx context.Context, accessToken, name, kind string) (protocol.Room, error) {
	var r protocol.Room
	if err := protocol.CheckRoomName(name); err != nil {
		return r, fmt.Errorf("create room: %w", err)
	}
	if err := f.do(ctx, "POST", protocol.PathRooms, accessToken, protocol.CreateRoom{Name: name, Kind: kind}, &r); err != nil {
		return r, fmt.Errorf("create %s room: %w", kind, err)
	}
	return r, nil
}

func (f fetchAPI) DirectRoom(ctx context.Context, accessToken, user string) (protocol.Room, error) {
	var r protocol.Room
	if err := f.do(ctx, "POST", protocol.PathDirect, accessToken, protocol.DirectRequest{User: user}, &r); err != nil {
		return r, fmt.Errorf("direct room with %s: %w", user, err)
	}
	return r, nil
}

func (f fetchAPI) DirectGroup(ctx context.Context, accessToken string, users ...string) (protocol.Room, error) {
	var r protocol.Room
	if err := f.do(ctx, "POST", protocol.PathDirect, accessToken, protocol.DirectRequest{Users: users}, &r); err != nil {
		return r, fmt.Errorf("direct room with %s: %w", strings.Join(users, ", "), err)
	}
	return r, nil
}

func (f fetchAPI) Members(ctx context.Context, accessToken, room string) ([]protocol.Member, error) {
	var list protocol.MemberList
	if err := f.do(ctx, "GET", roomAPIPath(room, "members"), accessToken, nil, &list); err != nil {
		return nil, fmt.Errorf("list members of %s: %w", room, err)
	}
	return list.Members, nil
}

func (f fetchAPI) Invite(ctx context.Context, accessToken, room, user, role string) error {
	if err := f.do(ctx, "POST", roomAPIPath(room, "members"), accessToken, protocol.Invite{User: user, Role: role}, nil); err != nil {
		return fmt.Errorf("invite %s to %s: %w", user, room, err)
	}
	return nil
}

func (f fetchAPI) Remove(ctx context.Context, accessToken, room, user string) (protocol.Left, error) {
	var left protocol.Left
	if err := f.do(ctx, "DELETE", roomAPIPath(room, "members", user), accessToken, nil, &left); err != nil {
		return left, fmt.Errorf("remove %s from %s: %w", user, room, err)
	}
	return left, nil
}

func (f fetchAPI) Ban(ctx context.Context, accessToken, room, user string) error {
	if err := f.do(ctx, "PUT", roomAPIPath(room, "bans", user), accessToken, nil, nil); err != nil {
		return fmt.Errorf("ban %s from %s: %w", user, room, err)
	}
	return nil
}

func (f fetchAPI) Unban(ctx context.Context, accessToken, room, user string) error {
	if err := f.do(ctx, "DELETE", roomAPIPath(room, "bans", user), accessToken, nil, nil); err != nil {
		return fmt.Errorf("unban %s from %s: %w", user, room, err)
	}
	return nil
}

func (f fetchAPI) Bans(ctx context.Context, accessToken, room string) ([]protocol.Ban, error) {
	var list protocol.BanList
	if err := f.do(ctx, "GET", roomAPIPath(room, "bans"), accessToken, nil, &list); err != nil {
		return nil, fmt.Errorf("list bans of %s: %w", room, err)
	}
	return list.Bans, nil
}

func (f fetchAPI) SetTopic(ctx context.Context, accessToken, room, topic string) (protocol.Room, error) {
	var r protocol.Room
	if err := f.do(ctx, "PATCH", roomAPIPath(room), accessToken, protocol.UpdateRoom{Topic: &topic}, &r); err != nil {
		return r, fmt.Errorf("set topic of %s: %w", room, err)
	}
	return r, nil
}

func (f fetchAPI) DeleteRoom(ctx context.Context, accessToken, room string) error {
	if err := f.do(ctx, "DELETE", roomAPIPath(room), accessToken, nil, nil); err != nil {
		return fmt.Errorf("delete room %s: %w", room, err)
	}
	return nil
}

// roomAPIPath is the API path of room with more segments after it.
func roomAPIPath(room string, more ...string) string {
	p := protocol.PathRooms + "/" + url.PathEscape(room)
	for _, m := range more {
		p += "/" + url.PathEscape(m)
	}
	return p
}

// do sends one JSON request and decodes a 2xx answer into out (nil: no body
// expected) or a failure into a *client.APIError.
func (f fetchAPI) do(ctx context.Context, method, path, token string, in, out any) error {
	headers := map[string]any{"Accept": "application/json", protocol.HeaderSession: protocol.SessionCookie}
	init := map[string]any{"method": method, "credentials": "same-origin", "cache": "no-store"}
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("encode request: %w", err)
		}
		headers["Content-Type"] = "application/json"
		init["body"] = string(b)
	}
	if token != "" {
		headers["Authorization"] = "Bearer " + token
	}
	init["headers"] = headers
	abort := js.Global().Get("AbortController").New()
	init["signal"] = abort.Get("signal")
	stop := context.AfterFunc(ctx, func() { abort.Call("abort") })
	defer stop()

	resp, err := await(ctx, js.Global().Call("fetch", f.base+path, init))
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	text, err := await(ctx, resp.Call("text"))
	if err != nil {
		return fmt.Errorf("read response: %w", err)
	}
	status, data := resp.Get("status").Int(), []byte(text.String())
	if status >= 300 {
		return apiError(status, resp.Get("headers").Call("get", "Retry-After"), data)
	}
	if out == nil || status == 204 { // No Content
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("decode response: %w", err)
	}
	return nil
}

// await waits for a JavaScript promise.
func await(ctx context.Context, promise js.Value) (js.Value, error) {
	type result struct {
		v   js.Value
		err error
	}
	done := make(chan result, 1)
	then := js.FuncOf(func(this js.Value, args []js.Value) any {
		done <- result{v: args[0]}
		return nil
	})
	defer then.Release()
	catch := js.FuncOf(func(this js.Value, args []js.Value) any {
		msg := "fetch failed"
		if len(args) > 0 && args[0].Truthy() {
			msg = args[0].Call("toString").String()
		}
		done <- result{err: errors.New(msg)}
		return nil
	})
	defer catch.Release()
	promise.Call("then", then, catch)
	select {
	case r := <-done:
		return r.v, r.err
	case <-ctx.Done():
		return js.Undefined(), ctx.Err()
	}
}

// apiError builds the *client.APIError of a failed call, exactly as
// client.API does.
func apiError(status int, retryAfter js.Value, data []byte) *client.APIError {
	ra := ""
	if retryAfter.Type() == js.TypeString {
		ra = retryAfter.String()
	}
	return client.NewAPIError(status, ra, data)
}
