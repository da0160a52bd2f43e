package api

import (
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
