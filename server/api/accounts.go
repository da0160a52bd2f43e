package api

import (
	"net/http"

	"github.com/parleychat/parley/shared/protocol"
)

// signup: POST /api/signup Credentials → 201 Session.
func (h *Handler) signup(w http.ResponseWriter, r *http.Request) error {
	var c protocol.Credentials
	if err := decodeBody(r, &c); err != nil {
		return err
	}
	s, err := h.auth.Signup(r.Context(), c.Username, c.Password, r.UserAgent())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, s)
	return nil
}

// login: POST /api/login Credentials → 200 Session.
func (h *Handler) login(w http.ResponseWriter, r *http.Request) error {
	var c protocol.Credentials
	if err := decodeBody(r, &c); err != nil {
		return err
	}
	s, err := h.auth.Login(r.Context(), c.Username, c.Password, r.UserAgent())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, s)
	return nil
}

// refresh: POST /api/refresh RefreshRequest → 200 Session.
func (h *Handler) refresh(w http.ResponseWriter, r *http.Request) error {
	token, err := refreshToken(r)
	if err != nil {
		return err
	}
	s, err := h.auth.Refresh(r.Context(), token)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, s)
	return nil
}

// logout: POST /api/logout RefreshRequest → 204.
func (h *Handler) logout(w http.ResponseWriter, r *http.Request) error {
	token, err := refreshToken(r)
	if err != nil {
		return err
	}
	if err := h.auth.Logout(r.Context(), token); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func refreshToken(r *http.Request) (string, error) {
	var req protocol.RefreshRequest
	if err := decodeBody(r, &req); err != nil {
		return "", err
	}
	if req.RefreshToken == "" {
		return "", errorf(http.StatusBadRequest, protocol.ErrBadRequest, "refresh_token is required")
	}
	return req.RefreshToken, nil
}
