package api

import (
	"errors"
	"net/http"

	"github.com/parleychat/parley/server/auth"
	"github.com/parleychat/parley/server/store"
	"github.com/parleychat/parley/shared/protocol"
)

// listSessions: GET /api/sessions → 200 SessionList.
func (h *Handler) listSessions(w http.ResponseWriter, r *http.Request, c auth.Claims) error {
	list, err := h.auth.Sessions(r.Context(), c)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, protocol.SessionList{Sessions: list})
	return nil
}

// endSession: DELETE /api/sessions/{id} → 204.
func (h *Handler) endSession(w http.ResponseWriter, r *http.Request, c auth.Claims) error {
	err := h.auth.EndSession(r.Context(), c, r.PathValue("id"))
	if errors.Is(err, store.ErrNotFound) {
		return errorf(http.StatusNotFound, protocol.ErrNotFound, "no such session")
	}
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// endAllSessions: DELETE /api/sessions → 204 (sign out everywhere).
func (h *Handler) endAllSessions(w http.ResponseWriter, r *http.Request, c auth.Claims) error {
	if err := h.auth.EndAllSessions(r.Context(), c); err != nil {
		return err
	}
	if cookieMode(r) {
		clearRefreshCookie(w)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// changePassword: POST /api/password ChangePassword → 204.
func (h *Handler) changePassword(w http.ResponseWriter, r *http.Request, c auth.Claims) error {
	var req protocol.ChangePassword
	if err := decodeBody(r, &req); err != nil {
		return err
	}
	if req.CurrentPassword == "" {
		return errorf(http.StatusBadRequest, protocol.ErrBadRequest, "current_password is required")
	}
	if err := h.auth.ChangePassword(r.Context(), c, req.CurrentPassword, req.NewPassword); err != nil {
		return wrongPassword(err)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// deleteAccount: DELETE /api/account DeleteAccount → 204.
func (h *Handler) deleteAccount(w http.ResponseWriter, r *http.Request, c auth.Claims) error {
	var req protocol.DeleteAccount
	if err := decodeBody(r, &req); err != nil {
		return err
	}
	if req.Password == "" {
		return errorf(http.StatusBadRequest, protocol.ErrBadRequest, "password is required")
	}
	heirs, err := h.auth.DeleteAccount(r.Context(), c, req.Password)
	if err != nil {
		return wrongPassword(err)
	}
	for _, heir := range heirs {
		h.notify(r.Context(), heir.User, protocol.UserEvent{Type: protocol.UserRole, Room: heir.Room, By: c.User, Role: protocol.RoleOwner})
		h.roomEvent(r.Context(), heir.Room, c.User, protocol.RoomEvent{What: protocol.RoomRole, User: heir.User, By: c.User, Role: protocol.RoleOwner})
	}
	if cookieMode(r) {
		clearRefreshCookie(w)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// wrongPassword answers a wrong password with its own message.
func wrongPassword(err error) error {
	if errors.Is(err, auth.ErrInvalidCredentials) {
		return errorf(http.StatusUnauthorized, protocol.ErrUnauthorized, "wrong password")
	}
	return err
}
