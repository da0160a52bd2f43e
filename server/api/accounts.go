package api

import (
	"errors"
	"net/http"
	"time"

	"github.com/parleychat/parley/server/auth"
	"github.com/parleychat/parley/server/store"

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
	h.writeSession(w, r, http.StatusCreated, s)
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
	h.writeSession(w, r, http.StatusOK, s)
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
		if cookieMode(r) && errors.Is(err, auth.ErrInvalidRefreshToken) {
			clearRefreshCookie(w)
		}
		return err
	}
	h.writeSession(w, r, http.StatusOK, s)
	return nil
}

// logout: POST /api/logout RefreshRequest → 204. Without a refresh token
// in the body, the bearer access token names the session to end.
func (h *Handler) logout(w http.ResponseWriter, r *http.Request) error {
	var req protocol.RefreshRequest
	if err := decodeBody(r, &req); err != nil {
		return err
	}
	switch {
	case req.RefreshToken != "":
		if err := h.auth.Logout(r.Context(), req.RefreshToken); err != nil {
			return err
		}
	default:
		token, ok := BearerToken(r)
		if !ok {
			return errorf(http.StatusBadRequest, protocol.ErrBadRequest, "refresh_token or an Authorization: Bearer access token is required")
		}
		c, err := h.auth.Verify(r.Context(), token)
		switch {
		case errors.Is(err, auth.ErrSessionEnded): // logging out twice is fine
		case err != nil:
			return err
		default:
			if err := h.auth.EndSession(r.Context(), c, c.Session); err != nil && !errors.Is(err, store.ErrNotFound) {
				return err
			}
		}
	}
	if cookieMode(r) {
		clearRefreshCookie(w)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// refreshToken returns the refresh token of a refresh request: the body's,
// else (in cookie mode) the cookie's.
func refreshToken(r *http.Request) (string, error) {
	var req protocol.RefreshRequest
	if err := decodeBody(r, &req); err != nil {
		return "", err
	}
	if req.RefreshToken != "" {
		return req.RefreshToken, nil
	}
	if cookieMode(r) {
		if c, err := r.Cookie(protocol.RefreshCookie); err == nil && c.Value != "" {
			return c.Value, nil
		}
		return "", errorf(http.StatusUnauthorized, protocol.ErrUnauthorized, "no refresh cookie; sign in again")
	}
	return "", errorf(http.StatusBadRequest, protocol.ErrBadRequest, "refresh_token is required")
}

// cookieMode reports whether the client asked for the refresh token in a
// cookie (protocol.HeaderSession).
func cookieMode(r *http.Request) bool {
	return r.Header.Get(protocol.HeaderSession) == protocol.SessionCookie
}

// writeSession answers s; in cookie mode the refresh token goes in the
// cookie instead of the body.
func (h *Handler) writeSession(w http.ResponseWriter, r *http.Request, status int, s protocol.Session) {
	if cookieMode(r) {
		setRefreshCookie(w, s.RefreshToken, h.auth.RefreshTTL())
		s.RefreshToken = ""
	}
	writeJSON(w, status, s)
}

// setRefreshCookie sets the refresh cookie: HttpOnly (no script reads it),
// Secure, SameSite=Strict (no other site's page sends it) and sent only to
// the refresh path.
func setRefreshCookie(w http.ResponseWriter, value string, ttl time.Duration) {
	http.SetCookie(w, &http.Cookie{
		Name:     protocol.RefreshCookie,
		Value:    value,
		Path:     protocol.PathRefresh,
		MaxAge:   int(ttl / time.Second),
		HttpOnly: true,
		Secure:   true,
		SameSite: http.SameSiteStrictMode,
	})
}

func clearRefreshCookie(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{
		Name:     protocol.RefreshCookie,
		Value:    "",
		Path:     protocol.PathRefresh,
		MaxAge:   -1,
		HttpOnly: true,
		Secure:   true,
		SameSite: http.SameSiteStrictMode,
	})
}
