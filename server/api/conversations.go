package api

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"

	"github.com/parleychat/parley/server/store"
	"github.com/parleychat/parley/shared/protocol"
)

// errNoRoom is the one answer for a room that does not exist and for a
// private or direct room the caller is not a member of.
var errNoRoom = errorf(http.StatusNotFound, protocol.ErrNotFound, "no such room")

// roomAccess returns the caller's access to the {room} of the path, or
// errNoRoom when the caller may not even know it exists.
func (h *Handler) roomAccess(r *http.Request, user string) (string, store.Access, error) {
	room := r.PathValue("room")
	if !protocol.ValidRoomName(room) {
		return "", store.Access{}, errNoRoom
	}
	a, err := h.store.Access(r.Context(), room, user)
	if errors.Is(err, store.ErrNotFound) {
		return "", store.Access{}, errNoRoom
	}
	if err != nil {
		return "", store.Access{}, err
	}
	if a.Role == "" && a.Kind != protocol.KindPublic {
		return "", store.Access{}, errNoRoom
	}
	return room, a, nil
}

// moderated is roomAccess for owner and moderator actions.
func (h *Handler) moderated(r *http.Request, user string) (string, store.Access, error) {
	room, a, err := h.roomAccess(r, user)
	if err != nil {
		return "", a, err
	}
	if a.Kind == protocol.KindDirect {
		return "", a, errorf(http.StatusForbidden, protocol.ErrForbidden, "a direct room has no invites, kicks or bans")
	}
	if !a.CanModerate() {
		return "", a, errorf(http.StatusForbidden, protocol.ErrForbidden, "only owners and moderators may do that")
	}
	return room, a, nil
}

// lookupUser returns the canonical name of an existing account.
func (h *Handler) lookupUser(ctx context.Context, name string) (string, error) {
	if !protocol.ValidUsername(name) {
		return "", errorf(http.StatusNotFound, protocol.ErrNotFound, "no such user")
	}
	u, err := h.store.UserByName(ctx, name)
	if errors.Is(err, store.ErrNotFound) {
		return "", errorf(http.StatusNotFound, protocol.ErrNotFound, "no such user")
	}
	if err != nil {
		return "", err
	}
	return u.Name, nil
}

// updateRoom: PATCH /api/rooms/{room} UpdateRoom → 200 Room.
func (h *Handler) updateRoom(w http.ResponseWriter, r *http.Request, user string) error {
	room, a, err := h.roomAccess(r, user)
	if err != nil {
		return err
	}
	if !a.CanModerate() && (a.Kind != protocol.KindDirect || a.Role == "") {
		return errorf(http.StatusForbidden, protocol.ErrForbidden, "only owners and moderators may set the topic")
	}
	var req protocol.UpdateRoom
	if err := decodeBody(r, &req); err != nil {
		return err
	}
	if req.Topic != nil {
		if err := protocol.CheckTopic(*req.Topic); err != nil {
			return err
		}
		if err := h.store.SetTopic(r.Context(), room, *req.Topic); err != nil {
			return err
		}
		h.roomEvent(r.Context(), room, user, protocol.RoomEvent{What: protocol.RoomTopic, By: user, Topic: *req.Topic})
		if a.Kind == protocol.KindPublic {
			h.feed(r.Context(), protocol.FeedEvent{Type: protocol.FeedTopic, Room: room, By: user, Topic: *req.Topic})
		}
	}
	rm, err := h.store.Room(r.Context(), room)
	if err != nil {
		return err
	}
	wr := wireRoom(rm)
	wr.Role = a.Role
	writeJSON(w, http.StatusOK, wr)
	return nil
}

// deleteRoom: DELETE /api/rooms/{room} → 204. An owner deletes a public
// or private room with its members, bans and history. A direct room has
// no owner (each of its people leaves it instead), an inbox is the
// node's, and the default room is made again by every node that starts,
// so none of them is deleted. Members learn it from their inbox
// (protocol.UserDeleted), and every subscription to the room ends on
// every node (removed, protocol.RemovedDeleted).
func (h *Handler) deleteRoom(w http.ResponseWriter, r *http.Request, user string) error {
	room, a, err := h.roomAccess(r, user)
	if err != nil {
		return err
	}
	switch {
	case a.Kind == protocol.KindDirect:
		return errorf(http.StatusForbidden, protocol.ErrForbidden, "a direct room cannot be deleted; leave it instead")
	case a.Kind == protocol.KindInbox:
		return errorf(http.StatusForbidden, protocol.ErrForbidden, "an inbox cannot be deleted")
	case room == protocol.DefaultRoom:
		return errorf(http.StatusForbidden, protocol.ErrForbidden, "the default room %q cannot be deleted", room)
	case a.Role != protocol.RoleOwner:
		return errorf(http.StatusForbidden, protocol.ErrForbidden, "only owners may delete a room")
	}
	members, err := h.store.DeleteRoom(r.Context(), room)
	if errors.Is(err, store.ErrNotFound) {
		return errNoRoom // deleted meanwhile
	}
	if err != nil {
		return err
	}
	if h.deleted != nil {
		if err := h.deleted(r.Context(), room); err != nil {
			h.log.Warn("announce room deletion", "room", room, "err", err)
		}
	}
	for _, m := range members {
		h.notify(r.Context(), m, protocol.UserEvent{Type: protocol.UserDeleted, Room: room, By: user, Kind: a.Kind})
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// directRoom: POST /api/direct DirectRequest → 200 Room (201 when new):
// the direct room of the caller and the people named.
func (h *Handler) directRoom(w http.ResponseWriter, r *http.Request, user string) error {
	var req protocol.DirectRequest
	if err := decodeBody(r, &req); err != nil {
		return err
	}
	names, err := req.Check(user)
	if err != nil {
		return err
	}
	others := make([]string, len(names))
	for i, name := range names {
		if others[i], err = h.lookupUser(r.Context(), name); err != nil {
			if len(names) > 1 {
				return errorf(http.StatusNotFound, protocol.ErrNotFound, "no such user: %q", name)
			}
			return err
		}
	}
	room, created, err := h.store.DirectRoom(r.Context(), user, others...)
	if errors.Is(err, store.ErrConflict) {
		return errorf(http.StatusBadRequest, protocol.ErrBadRequest, "a direct room needs 2 to %d different people", protocol.MaxDirectUsers)
	}
	if err != nil {
		return err
	}
	wr := wireRoom(room)
	wr.Role, wr.Peers = protocol.RoleMember, sortedPeers(others)
	if len(others) == 1 {
		wr.Peer = others[0]
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
		for _, peer := range others {
			h.notify(r.Context(), peer, protocol.UserEvent{Type: protocol.UserInvited, Room: room.Name, By: user, Kind: protocol.KindDirect})
		}
	}
	writeJSON(w, status, wr)
	return nil
}

// sortedPeers orders a direct room's people as the room list does: by
// lowercased name.
func sortedPeers(users []string) []string {
	out := slices.Clone(users)
	slices.SortFunc(out, func(a, b string) int { return strings.Compare(strings.ToLower(a), strings.ToLower(b)) })
	return out
}

// listMembers: GET /api/rooms/{room}/members → 200 MemberList.
func (h *Handler) listMembers(w http.ResponseWriter, r *http.Request, user string) error {
	room, a, err := h.roomAccess(r, user)
	if err != nil {
		return err
	}
	if !a.CanRead() {
		return errorf(http.StatusForbidden, protocol.ErrForbidden, "banned from this room")
	}
	members, err := h.store.Roster(r.Context(), room)
	if err != nil {
		return err
	}
	list := protocol.MemberList{Members: make([]protocol.Member, 0, len(members))}
	for _, m := range members {
		list.Members = append(list.Members, protocol.Member{User: m.User, Role: m.Role, JoinedAt: m.JoinedAt.UnixMilli()})
	}
	writeJSON(w, http.StatusOK, list)
	return nil
}

// invite: POST /api/rooms/{room}/members Invite → 204. An owner may give
// any role, also to a member; a moderator invites members only.
func (h *Handler) invite(w http.ResponseWriter, r *http.Request, user string) error {
	room, a, err := h.moderated(r, user)
	if err != nil {
		return err
	}
	var req protocol.Invite
	if err := decodeBody(r, &req); err != nil {
		return err
	}
	if req.Role != "" && !protocol.ValidRole(req.Role) {
		return errorf(http.StatusBadRequest, protocol.ErrBadRequest, "role must be owner, moderator or member")
	}
	if req.Role != "" && req.Role != protocol.RoleMember && a.Role != protocol.RoleOwner {
		return errorf(http.StatusForbidden, protocol.ErrForbidden, "only owners give roles")
	}
	target, err := h.lookupUser(r.Context(), req.User)
	if err != nil {
		return err
	}
	if target == user {
		// An owner demoting themselves could leave the room ownerless;
		// leaving hands it on instead.
		return errorf(http.StatusBadRequest, protocol.ErrBadRequest, "you cannot invite yourself or change your own role")
	}
	before, err := h.store.Access(r.Context(), room, target)
	if err != nil {
		return err
	}
	err = h.store.AddMember(r.Context(), room, target, protocol.RoleMember)
	if errors.Is(err, store.ErrBanned) {
		return errorf(http.StatusForbidden, protocol.ErrForbidden, "%s is banned from this room; lift the ban first", target)
	}
	if err != nil {
		return err
	}
	if before.Role == "" {
		h.notify(r.Context(), target, protocol.UserEvent{Type: protocol.UserInvited, Room: room, By: user, Kind: a.Kind})
		h.roomEvent(r.Context(), room, user, protocol.RoomEvent{What: protocol.RoomJoined, User: target, By: user})
	}
	if req.Role != "" && a.Role == protocol.RoleOwner && req.Role != before.Role && (before.Role != "" || req.Role != protocol.RoleMember) {
		if err := h.store.SetRole(r.Context(), room, target, req.Role); err != nil {
			return err
		}
		h.notify(r.Context(), target, protocol.UserEvent{Type: protocol.UserRole, Room: room, By: user, Role: req.Role})
		h.roomEvent(r.Context(), room, user, protocol.RoomEvent{What: protocol.RoomRole, User: target, By: user, Role: req.Role})
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// removeMember: DELETE /api/rooms/{room}/members/{user} → 200 Left. The
// caller's own name leaves the room; another's kicks them.
func (h *Handler) removeMember(w http.ResponseWriter, r *http.Request, user string) error {
	if store.SameUser(r.PathValue("user"), user) {
		return h.leave(w, r, user)
	}
	room, target, err := h.moderateTarget(r, user)
	if err != nil {
		return err
	}
	if err := h.store.RemoveMember(r.Context(), room, target, false); errors.Is(err, store.ErrNotFound) {
		return errorf(http.StatusNotFound, protocol.ErrNotFound, "%s is not a member", target)
	} else if err != nil {
		return err
	}
	h.announceRemoved(r.Context(), room, target, protocol.RemovedKicked)
	h.notify(r.Context(), target, protocol.UserEvent{Type: protocol.UserRemoved, Room: room, By: user, Reason: protocol.RemovedKicked})
	h.roomEvent(r.Context(), room, user, protocol.RoomEvent{What: protocol.RoomRemoved, User: target, By: user, Reason: protocol.RemovedKicked})
	writeJSON(w, http.StatusOK, protocol.Left{})
	return nil
}

// leave removes the caller from the {room}.
func (h *Handler) leave(w http.ResponseWriter, r *http.Request, user string) error {
	room, a, err := h.roomAccess(r, user)
	if err != nil {
		return err
	}
	if a.Role == "" {
		return errorf(http.StatusNotFound, protocol.ErrNotFound, "not a member of this room")
	}
	heir, err := h.store.LeaveRoom(r.Context(), room, user)
	if errors.Is(err, store.ErrNotFound) {
		return errorf(http.StatusNotFound, protocol.ErrNotFound, "not a member of this room")
	}
	if err != nil {
		return err
	}
	h.announceRemoved(r.Context(), room, user, protocol.RemovedLeft)
	h.notify(r.Context(), user, protocol.UserEvent{Type: protocol.UserRemoved, Room: room, Reason: protocol.RemovedLeft})
	h.roomEvent(r.Context(), room, user, protocol.RoomEvent{What: protocol.RoomRemoved, User: user, Reason: protocol.RemovedLeft})
	if heir != "" {
		h.notify(r.Context(), heir, protocol.UserEvent{Type: protocol.UserRole, Room: room, By: user, Role: protocol.RoleOwner})
		h.roomEvent(r.Context(), room, user, protocol.RoomEvent{What: protocol.RoomRole, User: heir, By: user, Role: protocol.RoleOwner})
	}
	writeJSON(w, http.StatusOK, protocol.Left{NewOwner: heir})
	return nil
}

// moderateTarget checks that the caller may act on the {user} of the path
// in the {room} and returns the target's canonical name. Moderators may
// not act on owners or other moderators.
func (h *Handler) moderateTarget(r *http.Request, user string) (string, string, error) {
	room, a, err := h.moderated(r, user)
	if err != nil {
		return "", "", err
	}
	target, err := h.lookupUser(r.Context(), r.PathValue("user"))
	if err != nil {
		return "", "", err
	}
	if target == user {
		return "", "", errorf(http.StatusBadRequest, protocol.ErrBadRequest, "you cannot do that to yourself")
	}
	ta, err := h.store.Access(r.Context(), room, target)
	if err != nil {
		return "", "", err
	}
	if a.Role != protocol.RoleOwner && (ta.Role == protocol.RoleOwner || ta.Role == protocol.RoleModerator) {
		return "", "", errorf(http.StatusForbidden, protocol.ErrForbidden, "only owners may remove owners and moderators")
	}
	return room, target, nil
}

// ban: PUT /api/rooms/{room}/bans/{user} → 204.
func (h *Handler) ban(w http.ResponseWriter, r *http.Request, user string) error {
	room, target, err := h.moderateTarget(r, user)
	if err != nil {
		return err
	}
	if err := h.store.RemoveMember(r.Context(), room, target, true); err != nil {
		return err
	}
	h.announceRemoved(r.Context(), room, target, protocol.RemovedBanned)
	h.notify(r.Context(), target, protocol.UserEvent{Type: protocol.UserRemoved, Room: room, By: user, Reason: protocol.RemovedBanned})
	h.roomEvent(r.Context(), room, user, protocol.RoomEvent{What: protocol.RoomRemoved, User: target, By: user, Reason: protocol.RemovedBanned})
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// listBans: GET /api/rooms/{room}/bans → 200 BanList.
func (h *Handler) listBans(w http.ResponseWriter, r *http.Request, user string) error {
	room, _, err := h.moderated(r, user)
	if err != nil {
		return err
	}
	bans, err := h.store.Bans(r.Context(), room)
	if err != nil {
		return err
	}
	list := protocol.BanList{Bans: make([]protocol.Ban, 0, len(bans))}
	for _, b := range bans {
		list.Bans = append(list.Bans, protocol.Ban{User: b.User, BannedAt: b.BannedAt.UnixMilli()})
	}
	writeJSON(w, http.StatusOK, list)
	return nil
}

// unban: DELETE /api/rooms/{room}/bans/{user} → 204.
func (h *Handler) unban(w http.ResponseWriter, r *http.Request, user string) error {
	room, _, err := h.moderated(r, user)
	if err != nil {
		return err
	}
	target, err := h.lookupUser(r.Context(), r.PathValue("user"))
	if err != nil {
		return err
	}
	if err := h.store.Unban(r.Context(), room, target); errors.Is(err, store.ErrNotFound) {
		return errorf(http.StatusNotFound, protocol.ErrNotFound, "%s is not banned", target)
	} else if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// announceRemoved tells every node that user lost room's membership, so
// their subscriptions end now; a failure is logged (the rooms' reconcile
// catches up within a period).
func (h *Handler) announceRemoved(ctx context.Context, room, user, reason string) {
	if h.removed == nil {
		return
	}
	if err := h.removed(ctx, room, user, reason); err != nil {
		h.log.Warn("announce removal", "room", room, "user", user, "err", err)
	}
}

// notify appends ev to user's inbox and announces it to every node. A
// failure is logged, not answered: the change it reports is stored, and
// the room list shows it.
func (h *Handler) notify(ctx context.Context, user string, ev protocol.UserEvent) {
	m, err := store.AppendUserEvent(ctx, h.store, user, ev)
	if err != nil {
		h.log.Warn("append user event", "user", user, "type", ev.Type, "room", ev.Room, "err", err)
		return
	}
	if h.publish != nil {
		if err := h.publish(ctx, m); err != nil {
			h.log.Warn("publish user event", "user", user, "err", err)
		}
	}
}

// feed appends ev (about a public room) to the room feed and announces
// it to every node, so everyone's room list shows the change at once.
// Like notify, a failure is logged: the change is stored, and the room
// list shows it at its next reload.
func (h *Handler) feed(ctx context.Context, ev protocol.FeedEvent) {
	m, err := store.AppendFeedEvent(ctx, h.store, ev)
	if err != nil {
		h.log.Warn("append feed event", "type", ev.Type, "room", ev.Room, "err", err)
		return
	}
	if h.publish != nil {
		if err := h.publish(ctx, m); err != nil {
			h.log.Warn("publish feed event", "room", ev.Room, "err", err)
		}
	}
}

// roomEvent appends ev (made by by) to room's own stream as a room event
// (protocol.MsgRoom) and announces it to every node, so the room's other
// members see the change live and recover it after a reconnect. Like
// notify, a failure is logged: the change itself is stored.
func (h *Handler) roomEvent(ctx context.Context, room, by string, ev protocol.RoomEvent) {
	body, err := json.Marshal(ev)
	if err != nil {
		h.log.Warn("encode room event", "room", room, "err", err)
		return
	}
	m, _, err := h.store.Append(ctx, store.Message{Room: room, Author: by, Kind: protocol.MsgRoom, Body: string(body)})
	if err != nil {
		h.log.Warn("append room event", "room", room, "what", ev.What, "err", err)
		return
	}
	if h.publish != nil {
		if err := h.publish(ctx, m); err != nil {
			h.log.Warn("publish room event", "room", room, "err", err)
		}
	}
}
