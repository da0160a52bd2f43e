package api

import (
	"errors"
	"github.com/parleychat/parley/server/auth"
	"net/http"
	"slices"
	"strings"

	"github.com/parleychat/parley/server/store"
	"github.com/parleychat/parley/shared/protocol"
)

// userFunc is a route that needs an authenticated user.
type userFunc func(w http.ResponseWriter, r *http.Request, user string) error

// authed checks the request's bearer access token and passes its user on.
func (h *Handler) authed(next userFunc) apiFunc {
	return h.withClaims(func(w http.ResponseWriter, r *http.Request, c auth.Claims) error {
		return next(w, r, c.User)
	})
}

// claimsFunc is a route that needs the caller's verified token.
type claimsFunc func(w http.ResponseWriter, r *http.Request, c auth.Claims) error

// withClaims verifies the bearer token (and that its session has not
// ended) before next.
func (h *Handler) withClaims(next claimsFunc) apiFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		token, ok := BearerToken(r)
		if !ok {
			return errorf(http.StatusUnauthorized, protocol.ErrUnauthorized, "missing Authorization: Bearer access token")
		}
		c, err := h.auth.Verify(r.Context(), token)
		if err != nil {
			return err
		}
		return next(w, r, c)
	}
}

// BearerToken returns the token of an "Authorization: Bearer <token>"
// header (the scheme in any case).
func BearerToken(r *http.Request) (string, bool) {
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	token = strings.TrimSpace(token)
	return token, token != ""
}

// listRooms: GET /api/rooms → 200 RoomList: the rooms the caller may see,
// by name.
func (h *Handler) listRooms(w http.ResponseWriter, r *http.Request, user string) error {
	rooms, err := h.store.RoomsOf(r.Context(), user)
	if err != nil {
		return err
	}
	list := protocol.RoomList{Rooms: make([]protocol.Room, 0, len(rooms))}
	for _, room := range rooms {
		wr := wireRoom(room.Room)
		wr.Role, wr.Peer, wr.Peers = room.Role, room.Peer, room.Peers
		wr.LastRead, wr.Unread, wr.Mentions = room.LastRead, room.Unread, room.Mentions
		list.Rooms = append(list.Rooms, wr)
	}
	slices.SortFunc(list.Rooms, func(a, b protocol.Room) int { return strings.Compare(a.Name, b.Name) })
	writeJSON(w, http.StatusOK, list)
	return nil
}

// createRoom: POST /api/rooms CreateRoom → 201 Room, owned by the caller;
// 409 if it exists.
func (h *Handler) createRoom(w http.ResponseWriter, r *http.Request, user string) error {
	var req protocol.CreateRoom
	if err := decodeBody(r, &req); err != nil {
		return err
	}
	if err := protocol.CheckRoomName(req.Name); err != nil {
		return err
	}
	if protocol.ReservedRoomName(req.Name) {
		return errorf(http.StatusBadRequest, protocol.ErrBadRequest, "room names starting with %q or %q are reserved", "inbox-", "dm-")
	}
	if req.Kind == "" {
		req.Kind = protocol.KindPublic
	}
	if !protocol.ValidKind(req.Kind) {
		return errorf(http.StatusBadRequest, protocol.ErrBadRequest, "kind must be %q or %q", protocol.KindPublic, protocol.KindPrivate)
	}
	room, err := h.store.CreateRoomOf(r.Context(), req.Name, req.Kind, user)
	if errors.Is(err, store.ErrConflict) {
		return errorf(http.StatusConflict, protocol.ErrConflict, "room %q already exists", req.Name)
	}
	if err != nil {
		return err
	}
	if room.Kind == protocol.KindPublic {
		h.feed(r.Context(), protocol.FeedEvent{Type: protocol.FeedCreated, Room: room.Name, Kind: room.Kind, By: user})
	}
	wr := wireRoom(room)
	wr.Role = protocol.RoleOwner
	writeJSON(w, http.StatusCreated, wr)
	return nil
}

func wireRoom(r store.Room) protocol.Room {
	return protocol.Room{
		Name:      r.Name,
		Epoch:     r.Epoch,
		Head:      r.Head,
		CreatedBy: r.CreatedBy,
		CreatedAt: r.CreatedAt.UnixMilli(),
		Kind:      r.Kind,
		Topic:     r.Topic,
	}
}
