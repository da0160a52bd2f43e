package api

import (
	"bytes"
	"encoding/json"
	"github.com/parleychat/parley/server/auth"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/parleychat/parley/shared/protocol"
)

func TestSignupReturnsUsableSession(t *testing.T) {
	e := newEnv(t, nil)
	s := e.signup("Alice", "password1")
	if s.User != "Alice" || s.AccessToken == "" || s.RefreshToken == "" || s.ExpiresAt <= e.clock.Now().UnixMilli() {
		t.Fatalf("session = %+v", s)
	}
	if r := e.do("GET", protocol.PathRooms, "", bearer(s)...); r.status != http.StatusOK {
		t.Fatalf("rooms with the new token: %d %s", r.status, r.body)
	}
	r := e.do("POST", protocol.PathLogin, creds("alice", "password1"))
	if r.status != http.StatusOK {
		t.Fatalf("login: %d %s", r.status, r.body)
	}
}

func TestSignupDuplicate(t *testing.T) {
	e := newEnv(t, nil)
	e.signup("bob", "password1")
	for _, name := range []string{"bob", "BOB", "Bob"} {
		r := e.do("POST", protocol.PathSignup, creds(name, "password2"))
		if r.status != http.StatusConflict || r.apiError(t).Code != protocol.ErrConflict {
			t.Errorf("signup %q again: %d %s", name, r.status, r.body)
		}
	}
	// The original password still works: nothing was overwritten.
	if r := e.do("POST", protocol.PathLogin, creds("bob", "password1")); r.status != http.StatusOK {
		t.Fatalf("login after conflicts: %d %s", r.status, r.body)
	}
}

func TestLoginFailuresLookAlike(t *testing.T) {
	e := newEnv(t, nil)
	e.signup("carol", "password1")
	wrong := e.do("POST", protocol.PathLogin, creds("carol", "password2"))
	unknown := e.do("POST", protocol.PathLogin, creds("nobody", "password1"))
	for _, r := range []response{wrong, unknown} {
		if r.status != http.StatusUnauthorized {
			t.Fatalf("status %d, want 401: %s", r.status, r.body)
		}
		if got := r.apiError(t); got.Code != protocol.ErrUnauthorized || got.Message != "wrong username or password" {
			t.Errorf("error = %+v", got)
		}
	}
	if !bytes.Equal(wrong.body, unknown.body) {
		t.Errorf("bodies differ:\n%s\n%s", wrong.body, unknown.body)
	}
}

func TestBadRequestsStoreNothing(t *testing.T) {
	e := newEnv(t, nil)
	big := `{"username":"victim","password":"` + strings.Repeat("x", protocol.MaxAPIBodyBytes) + `"}`
	cases := []struct {
		name        string
		path        string
		body        string
		contentType string
		status      int
		code        string
	}{
		{"empty", protocol.PathSignup, "", "application/json", 400, protocol.ErrBadRequest},
		{"whitespace", protocol.PathSignup, "  \n", "application/json", 400, protocol.ErrBadRequest},
		{"null", protocol.PathSignup, "null", "application/json", 400, protocol.ErrBadRequest},
		{"array", protocol.PathSignup, `[{"username":"victim"}]`, "application/json", 400, protocol.ErrBadRequest},
		{"invalid JSON", protocol.PathSignup, `{"username":"victim",`, "application/json", 400, protocol.ErrBadRequest},
		{"trailing data", protocol.PathSignup, creds("victim", "password1") + "x", "application/json", 400, protocol.ErrBadRequest},
		{"two objects", protocol.PathSignup, creds("victim", "password1") + creds("victim", "password1"), "application/json", 400, protocol.ErrBadRequest},
		{"number username", protocol.PathSignup, `{"username":5,"password":"password1"}`, "application/json", 400, protocol.ErrBadRequest},
		{"object password", protocol.PathSignup, `{"username":"victim","password":{}}`, "application/json", 400, protocol.ErrBadRequest},
		{"oversized", protocol.PathSignup, big, "application/json", 413, protocol.ErrTooLarge},
		{"no content type", protocol.PathSignup, creds("victim", "password1"), "", 415, protocol.ErrBadRequest},
		{"text/plain", protocol.PathSignup, creds("victim", "password1"), "text/plain", 415, protocol.ErrBadRequest},
		{"invalid name", protocol.PathSignup, creds("vi ctim", "password1"), "application/json", 400, protocol.ErrBadRequest},
		{"long name", protocol.PathSignup, creds(strings.Repeat("v", 40), "password1"), "application/json", 400, protocol.ErrTooLarge},
		{"short password", protocol.PathSignup, creds("victim", "short"), "application/json", 400, protocol.ErrBadRequest},
		{"missing password", protocol.PathSignup, `{"username":"victim"}`, "application/json", 400, protocol.ErrBadRequest},
		{"login wrong type", protocol.PathLogin, `{"username":"victim","password":true}`, "application/json", 400, protocol.ErrBadRequest},
		{"login oversized", protocol.PathLogin, big, "application/json", 413, protocol.ErrTooLarge},
		{"refresh missing token", protocol.PathRefresh, `{}`, "application/json", 400, protocol.ErrBadRequest},
		{"refresh wrong type", protocol.PathRefresh, `{"refresh_token":1}`, "application/json", 400, protocol.ErrBadRequest},
		{"logout invalid JSON", protocol.PathLogout, `{`, "application/json", 400, protocol.ErrBadRequest},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := e.do("POST", c.path, c.body, "Content-Type", c.contentType)
			if r.status != c.status {
				t.Fatalf("status = %d, want %d: %s", r.status, c.status, r.body)
			}
			if got := r.apiError(t); got.Code != c.code || got.Message == "" {
				t.Errorf("error = %+v, want code %s", got, c.code)
			}
		})
	}
	for _, name := range []string{"victim", "vi ctim", strings.Repeat("v", 40)} {
		if e.userExists(name) {
			t.Errorf("a rejected request stored user %q", name)
		}
	}
}

func TestContentTypeWithCharset(t *testing.T) {
	e := newEnv(t, nil)
	r := e.do("POST", protocol.PathSignup, creds("dave", "password1"), "Content-Type", "application/json; charset=utf-8")
	if r.status != http.StatusCreated {
		t.Fatalf("status = %d: %s", r.status, r.body)
	}
}

func TestRefreshRotates(t *testing.T) {
	e := newEnv(t, nil)
	first := e.signup("erin", "password1")
	r := e.do("POST", protocol.PathRefresh, refreshBody(first.RefreshToken))
	if r.status != http.StatusOK {
		t.Fatalf("refresh: %d %s", r.status, r.body)
	}
	var second protocol.Session
	if err := json.Unmarshal(r.body, &second); err != nil {
		t.Fatal(err)
	}
	if second.User != "erin" || second.RefreshToken == first.RefreshToken || second.AccessToken == "" {
		t.Fatalf("refreshed session = %+v", second)
	}
	if r := e.do("GET", protocol.PathRooms, "", bearer(second)...); r.status != http.StatusOK {
		t.Fatalf("rooms with refreshed token: %d", r.status)
	}
	// Past the grace window, the old token is a replay: refused, and the
	// session it belongs to ends.
	e.clock.Advance(auth.DefaultReuseGrace)
	again := e.do("POST", protocol.PathRefresh, refreshBody(first.RefreshToken))
	if again.status != http.StatusUnauthorized || again.apiError(t).Code != protocol.ErrUnauthorized {
		t.Fatalf("old refresh token reused: %d %s", again.status, again.body)
	}
	if r := e.do("GET", protocol.PathRooms, "", bearer(second)...); r.status != http.StatusUnauthorized {
		t.Fatalf("rooms with the replayed session's token: %d", r.status)
	}
	garbage := e.do("POST", protocol.PathRefresh, refreshBody("not-a-token"))
	if garbage.status != http.StatusUnauthorized {
		t.Fatalf("garbage refresh token: %d %s", garbage.status, garbage.body)
	}
}

func TestLogoutRevokes(t *testing.T) {
	e := newEnv(t, nil)
	s := e.signup("frank", "password1")
	for i := range 2 { // logging out twice is fine
		r := e.do("POST", protocol.PathLogout, refreshBody(s.RefreshToken))
		if r.status != http.StatusNoContent || len(r.body) != 0 {
			t.Fatalf("logout #%d: %d %q", i+1, r.status, r.body)
		}
	}
	r := e.do("POST", protocol.PathRefresh, refreshBody(s.RefreshToken))
	if r.status != http.StatusUnauthorized {
		t.Fatalf("refresh after logout: %d %s", r.status, r.body)
	}
}

func TestUnknownPathAndMethod(t *testing.T) {
	e := newEnv(t, nil)
	r := e.do("GET", "/api/nope", "")
	if r.status != http.StatusNotFound || r.apiError(t).Code != protocol.ErrNotFound {
		t.Errorf("unknown path: %d %s", r.status, r.body)
	}
	r = e.do("GET", protocol.PathLogin, "")
	if r.status != http.StatusMethodNotAllowed || r.header.Get("Allow") != "POST" {
		t.Errorf("GET login: %d Allow=%q %s", r.status, r.header.Get("Allow"), r.body)
	}
	r = e.do("DELETE", protocol.PathRooms, "")
	if r.status != http.StatusMethodNotAllowed {
		t.Errorf("DELETE rooms: %d %s", r.status, r.body)
	}
}

func TestInternalErrorIsGenericAndLogged(t *testing.T) {
	e := newEnv(t, nil)
	s := e.signup("grace", "password1")
	if err := e.store.Close(); err != nil {
		t.Fatal(err)
	}
	r := e.do("GET", protocol.PathRooms, "", bearer(s)...)
	if r.status != http.StatusInternalServerError {
		t.Fatalf("status = %d: %s", r.status, r.body)
	}
	if got := r.apiError(t); got.Code != protocol.ErrInternal || got.Message != "internal error" {
		t.Errorf("error = %+v", got)
	}
	if !strings.Contains(e.log.String(), "api request failed") {
		t.Errorf("internal error not logged; log: %s", e.log.String())
	}
}

func TestConcurrentSignupOneWins(t *testing.T) {
	e := newEnv(t, nil)
	const n = 8
	statuses := make(chan int, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			name := []string{"race", "RACE", "Race"}[i%3]
			resp, err := http.Post(e.url+protocol.PathSignup, "application/json", strings.NewReader(creds(name, "password1")))
			if err != nil {
				t.Error(err)
				return
			}
			resp.Body.Close()
			statuses <- resp.StatusCode
		})
	}
	wg.Wait()
	close(statuses)
	created, conflicts := 0, 0
	for s := range statuses {
		switch s {
		case http.StatusCreated:
			created++
		case http.StatusConflict:
			conflicts++
		default:
			t.Errorf("unexpected status %d", s)
		}
	}
	if created != 1 || conflicts != n-1 {
		t.Fatalf("created %d, conflicts %d; want 1 and %d", created, conflicts, n-1)
	}
}
