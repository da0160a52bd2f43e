package api

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/parleychat/parley/shared/protocol"
)

// TestAccountEndpointsRefuseBadInput checks that every account endpoint
// refuses bad input with a clear answer and changes nothing.
func TestAccountEndpointsRefuseBadInput(t *testing.T) {
	e := newEnv(t, nil)
	s := e.signup("gina", "password1")
	auth := bearer(s)
	cases := []struct {
		name, method, path, body string
		headers                  []string
		status                   int
		code                     string
	}{
		{"sessions without a token", "GET", protocol.PathSessions, "", nil, http.StatusUnauthorized, protocol.ErrUnauthorized},
		{"end all without a token", "DELETE", protocol.PathSessions, "", nil, http.StatusUnauthorized, protocol.ErrUnauthorized},
		{"end an unknown session", "DELETE", protocol.PathSessions + "/nope", "", auth, http.StatusNotFound, protocol.ErrNotFound},
		{"sessions with a wrong method", "PUT", protocol.PathSessions, "", auth, http.StatusMethodNotAllowed, protocol.ErrBadRequest},
		{"password without a body", "POST", protocol.PathPassword, "", auth, http.StatusUnsupportedMediaType, protocol.ErrBadRequest},
		{"password without the current one", "POST", protocol.PathPassword, `{"new_password":"password2"}`, auth, http.StatusBadRequest, protocol.ErrBadRequest},
		{"password too short", "POST", protocol.PathPassword, `{"current_password":"password1","new_password":"x"}`, auth, http.StatusBadRequest, protocol.ErrBadRequest},
		{"password wrong", "POST", protocol.PathPassword, `{"current_password":"password9","new_password":"password2"}`, auth, http.StatusUnauthorized, protocol.ErrUnauthorized},
		{"delete without a password", "DELETE", protocol.PathAccount, `{}`, auth, http.StatusBadRequest, protocol.ErrBadRequest},
		{"delete with bad JSON", "DELETE", protocol.PathAccount, `{"password":`, auth, http.StatusBadRequest, protocol.ErrBadRequest},
		{"delete with a wrong password", "DELETE", protocol.PathAccount, `{"password":"password9"}`, auth, http.StatusUnauthorized, protocol.ErrUnauthorized},
		{"account with a wrong method", "GET", protocol.PathAccount, "", auth, http.StatusMethodNotAllowed, protocol.ErrBadRequest},
	}
	for _, c := range cases {
		headers := c.headers
		if c.body != "" {
			headers = append([]string{"Content-Type", "application/json"}, headers...)
		}
		r := e.do(c.method, c.path, c.body, headers...)
		if r.status != c.status || r.apiError(t).Code != c.code {
			t.Errorf("%s: %d %s, want %d %s", c.name, r.status, r.body, c.status, c.code)
		}
	}
	// Nothing changed: the session lives, the password is the old one.
	if r := e.do("GET", protocol.PathSessions, "", auth...); r.status != http.StatusOK {
		t.Fatalf("sessions after the refusals: %d %s", r.status, r.body)
	}
	if r := e.do("POST", protocol.PathLogin, creds("gina", "password1")); r.status != http.StatusOK {
		t.Fatalf("login with the old password: %d %s", r.status, r.body)
	}
}

// refreshCookie returns the refresh cookie r sets, failing the test if it
// sets none or sets it without its protections.
func refreshCookie(t *testing.T, r response) *http.Cookie {
	t.Helper()
	for _, c := range (&http.Response{Header: r.header}).Cookies() {
		if c.Name != protocol.RefreshCookie {
			continue
		}
		if !c.HttpOnly || !c.Secure || c.SameSite != http.SameSiteStrictMode || c.Path != protocol.PathRefresh {
			t.Fatalf("refresh cookie %q lacks HttpOnly, Secure, SameSite=Strict or Path=%s", c.String(), protocol.PathRefresh)
		}
		return c
	}
	t.Fatalf("no %s cookie in %v", protocol.RefreshCookie, r.header.Values("Set-Cookie"))
	return nil
}

func TestCookieMode(t *testing.T) {
	e := newEnv(t, nil)
	mode := []string{protocol.HeaderSession, protocol.SessionCookie}
	r := e.do("POST", protocol.PathSignup, creds("hank", "password1"), mode...)
	if r.status != http.StatusCreated {
		t.Fatalf("signup: %d %s", r.status, r.body)
	}
	var s protocol.Session
	if err := json.Unmarshal(r.body, &s); err != nil || s.RefreshToken != "" || s.AccessToken == "" {
		t.Fatalf("cookie-mode session body = %s, %v; want no refresh_token", r.body, err)
	}
	c1 := refreshCookie(t, r)
	if c1.MaxAge <= 0 || c1.Value == "" {
		t.Fatalf("refresh cookie %q", c1.String())
	}
	// Refresh with the cookie only.
	r = e.do("POST", protocol.PathRefresh, `{}`, append(mode, "Cookie", c1.Name+"="+c1.Value)...)
	if r.status != http.StatusOK {
		t.Fatalf("cookie refresh: %d %s", r.status, r.body)
	}
	c2 := refreshCookie(t, r)
	if c2.Value == c1.Value {
		t.Fatal("cookie refresh did not rotate the token")
	}
	if err := json.Unmarshal(r.body, &s); err != nil || s.RefreshToken != "" {
		t.Fatalf("cookie refresh body = %s", r.body)
	}
	// No cookie in cookie mode: 401 (sign in), and the cookie is cleared.
	r = e.do("POST", protocol.PathRefresh, `{}`, mode...)
	if r.status != http.StatusUnauthorized {
		t.Fatalf("cookie refresh without a cookie: %d %s", r.status, r.body)
	}
	// Without the header the JSON mode is unchanged.
	r = e.do("POST", protocol.PathRefresh, `{}`)
	if r.status != http.StatusBadRequest {
		t.Fatalf("JSON refresh without a token: %d %s", r.status, r.body)
	}
	// Logout with the access token ends the session and clears the cookie.
	r = e.do("POST", protocol.PathLogout, `{}`, append(mode, bearer(s)...)...)
	if r.status != http.StatusNoContent {
		t.Fatalf("cookie logout: %d %s", r.status, r.body)
	}
	if c := refreshCookie(t, r); c.MaxAge >= 0 || c.Value != "" {
		t.Fatalf("logout left the cookie: %q", c.String())
	}
	r = e.do("POST", protocol.PathRefresh, `{}`, append(mode, "Cookie", c2.Name+"="+c2.Value)...)
	if r.status != http.StatusUnauthorized {
		t.Fatalf("refresh after logout: %d %s", r.status, r.body)
	}
	if c := refreshCookie(t, r); c.MaxAge >= 0 {
		t.Fatalf("a refused refresh left the cookie: %q", c.String())
	}
	if r := e.do("GET", protocol.PathRooms, "", bearer(s)...); r.status != http.StatusUnauthorized {
		t.Fatalf("access token after logout: %d", r.status)
	}
	// Logging out again is fine; logging out with nothing is a clear 400.
	if r := e.do("POST", protocol.PathLogout, `{}`, append(mode, bearer(s)...)...); r.status != http.StatusNoContent {
		t.Fatalf("second logout: %d %s", r.status, r.body)
	}
	if r := e.do("POST", protocol.PathLogout, `{}`); r.status != http.StatusBadRequest {
		t.Fatalf("logout with nothing: %d %s", r.status, r.body)
	}
}

// TestCookieModeMovesStoredToken: a client that stored a refresh token
// (before cookie mode) moves it into the cookie with one refresh.
func TestCookieModeMovesStoredToken(t *testing.T) {
	e := newEnv(t, nil)
	old := e.signup("ivy", "password1")
	r := e.do("POST", protocol.PathRefresh, refreshBody(old.RefreshToken), protocol.HeaderSession, protocol.SessionCookie)
	if r.status != http.StatusOK {
		t.Fatalf("refresh: %d %s", r.status, r.body)
	}
	c := refreshCookie(t, r)
	r = e.do("POST", protocol.PathRefresh, `{}`, protocol.HeaderSession, protocol.SessionCookie, "Cookie", c.Name+"="+c.Value)
	if r.status != http.StatusOK {
		t.Fatalf("refresh with the moved cookie: %d %s", r.status, r.body)
	}
}
