//go:build !js

package client

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/parleychat/parley/shared/protocol"
)

// roomPath is the API path of room, with more path segments after it.
func roomPath(room string, more ...string) string {
	p := protocol.PathRooms + "/" + url.PathEscape(room)
	for _, m := range more {
		p += "/" + url.PathEscape(m)
	}
	return p
}

// CreateRoomOf creates a room of kind (protocol.KindPublic or
// KindPrivate) owned by the caller; an *APIError with status 409 means
// the name is taken.
func (a *API) CreateRoomOf(ctx context.Context, accessToken, name, kind string) (protocol.Room, error) {
	var r protocol.Room
	if err := protocol.CheckRoomName(name); err != nil {
		return r, fmt.Errorf("create room: %w", err)
	}
	err := a.do(ctx, http.MethodPost, protocol.PathRooms, accessToken, protocol.CreateRoom{Name: name, Kind: kind}, &r)
	if err != nil {
		return r, fmt.Errorf("create %s room: %w", kind, err)
	}
	return r, nil
}

// DirectRoom returns the direct room with user, creating it if needed.
func (a *API) DirectRoom(ctx context.Context, accessToken, user string) (protocol.Room, error) {
	var r protocol.Room
	if err := a.do(ctx, http.MethodPost, protocol.PathDirect, accessToken, protocol.DirectRequest{User: user}, &r); err != nil {
		return r, fmt.Errorf("direct room with %s: %w", user, err)
	}
	return r, nil
}

// DirectGroup returns the direct room of the caller and users (one to
// protocol.MaxDirectUsers-1 others), creating it if needed: one room per
// set of people.
func (a *API) DirectGroup(ctx context.Context, accessToken string, users ...string) (protocol.Room, error) {
	var r protocol.Room
	if err := a.do(ctx, http.MethodPost, protocol.PathDirect, accessToken, protocol.DirectRequest{Users: users}, &r); err != nil {
		return r, fmt.Errorf("direct room with %s: %w", strings.Join(users, ", "), err)
	}
	return r, nil
}

// Members lists room's members.
func (a *API) Members(ctx context.Context, accessToken, room string) ([]protocol.Member, error) {
	var list protocol.MemberList
	if err := a.do(ctx, http.MethodGet, roomPath(room, "members"), accessToken, nil, &list); err != nil {
		return nil, fmt.Errorf("list members of %s: %w", room, err)
	}
	return list.Members, nil
}

// Invite adds user to room (role empty: member), or as an owner changes a
// member's role.
func (a *API) Invite(ctx context.Context, accessToken, room, user, role string) error {
	if err := a.do(ctx, http.MethodPost, roomPath(room, "members"), accessToken, protocol.Invite{User: user, Role: role}, nil); err != nil {
		return fmt.Errorf("invite %s to %s: %w", user, room, err)
	}
	return nil
}

// Remove kicks user from room, or, when user is the caller, leaves it
// (the answer names a new owner if the caller was the last one).
func (a *API) Remove(ctx context.Context, accessToken, room, user string) (protocol.Left, error) {
	var left protocol.Left
	if err := a.do(ctx, http.MethodDelete, roomPath(room, "members", user), accessToken, nil, &left); err != nil {
		return left, fmt.Errorf("remove %s from %s: %w", user, room, err)
	}
	return left, nil
}

// Ban removes user from room and keeps them out; Unban lifts it.
func (a *API) Ban(ctx context.Context, accessToken, room, user string) error {
	if err := a.do(ctx, http.MethodPut, roomPath(room, "bans", user), accessToken, nil, nil); err != nil {
		return fmt.Errorf("ban %s from %s: %w", user, room, err)
	}
	return nil
}

// Bans lists the users banned from room (owners and moderators only).
func (a *API) Bans(ctx context.Context, accessToken, room string) ([]protocol.Ban, error) {
	var list protocol.BanList
	if err := a.do(ctx, http.MethodGet, roomPath(room, "bans"), accessToken, nil, &list); err != nil {
		return nil, fmt.Errorf("list bans of %s: %w", room, err)
	}
	return list.Bans, nil
}

// Unban lifts user's ban from room.
func (a *API) Unban(ctx context.Context, accessToken, room, user string) error {
	if err := a.do(ctx, http.MethodDelete, roomPath(room, "bans", user), accessToken, nil, nil); err != nil {
		return fmt.Errorf("unban %s from %s: %w", user, room, err)
	}
	return nil
}

// DeleteRoom deletes room with its members and history (owners only;
// not a direct room, an inbox or protocol.DefaultRoom).
func (a *API) DeleteRoom(ctx context.Context, accessToken, room string) error {
	if err := a.do(ctx, http.MethodDelete, roomPath(room), accessToken, nil, nil); err != nil {
		return fmt.Errorf("delete room %s: %w", room, err)
	}
	return nil
}

// SetTopic sets room's topic (empty clears it).
func (a *API) SetTopic(ctx context.Context, accessToken, room, topic string) (protocol.Room, error) {
	var r protocol.Room
	if err := a.do(ctx, http.MethodPatch, roomPath(room), accessToken, protocol.UpdateRoom{Topic: &topic}, &r); err != nil {
		return r, fmt.Errorf("set topic of %s: %w", room, err)
	}
	return r, nil
}
