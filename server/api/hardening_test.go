package api

import (
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"golang.org/x/time/rate"

	"github.com/parleychat/parley/server/auth"
	"github.com/parleychat/parley/server/budget"
	"github.com/parleychat/parley/shared/protocol"
	"github.com/parleychat/parley/shared/testenv"
)

// waitTimeout bounds a wait for a condition: a guard against hangs.
const waitTimeout = 20 * time.Second

// TestLoginBackoffPerAccount: after the free failures every wrong
// password makes the account wait longer (429 with Retry-After, the
// password not even checked), whichever address guesses; another account
// is unaffected; a success starts over.
func TestLoginBackoffPerAccount(t *testing.T) {
	e := newAuthEnv(t, func(c *auth.Config, clk *clock) {
		c.Backoff = budget.NewMemoryBackoff(budget.Policy{Free: 2, Base: time.Minute, Max: time.Hour}, clk.Now)
	}, nil)
	e.signup("alice", "password1")
	e.signup("bob", "password1")
	login := func(user, pw string, want int) response {
		t.Helper()
		r := e.do("POST", protocol.PathLogin, creds(user, pw))
		if r.status != want {
			t.Fatalf("login %s/%s: %d %s, want %d", user, pw, r.status, r.body, want)
		}
		return r
	}
	for range 3 {
		login("alice", "wrong-guess", http.StatusUnauthorized)
	}
	// The third failure started a 1 minute wait: even the right password
	// is not checked meanwhile (and the name's case does not matter).
	r := login("ALICE", "password1", http.StatusTooManyRequests)
	if r.apiError(t).Code != protocol.ErrRateLimited || r.header.Get("Retry-After") != "60" {
		t.Fatalf("throttled login: Retry-After %q, body %s", r.header.Get("Retry-After"), r.body)
	}
	login("bob", "wrong-guess", http.StatusUnauthorized)
	login("bob", "password1", http.StatusOK)

	e.clock.Advance(time.Minute)
	login("alice", "wrong-guess", http.StatusUnauthorized)
	if r := login("alice", "wrong-guess", http.StatusTooManyRequests); r.header.Get("Retry-After") != "120" {
		t.Fatalf("after the fourth failure: Retry-After %q, want 120 (doubled)", r.header.Get("Retry-After"))
	}
	e.clock.Advance(2 * time.Minute)
	login("alice", "password1", http.StatusOK)
	// A success forgets the failures: two free ones again.
	login("alice", "wrong-guess", http.StatusUnauthorized)
	login("alice", "wrong-guess", http.StatusUnauthorized)
	login("alice", "password1", http.StatusOK)
}

// TestPasswordCheckBackoff: the password checks of a password change
// share the account's backoff with logins.
func TestPasswordCheckBackoff(t *testing.T) {
	e := newAuthEnv(t, func(c *auth.Config, clk *clock) {
		c.Backoff = budget.NewMemoryBackoff(budget.Policy{Free: 1, Base: time.Minute, Max: time.Hour}, clk.Now)
	}, nil)
	s := e.signup("carol", "password1")
	change := `{"current_password":"wrong-guess","new_password":"password2"}`
	for _, want := range []int{http.StatusUnauthorized, http.StatusUnauthorized, http.StatusTooManyRequests} {
		if r := e.do("POST", protocol.PathPassword, change, bearer(s)...); r.status != want {
			t.Fatalf("password change with a wrong password: %d %s, want %d", r.status, r.body, want)
		}
	}
	if r := e.do("POST", protocol.PathLogin, creds("carol", "password1")); r.status != http.StatusTooManyRequests {
		t.Fatalf("login after the password-change guesses: %d, want 429", r.status)
	}
}

// TestHashQueueFull: with every hash slot busy and the queue full, a
// sign-in is answered 503 with Retry-After at once, and nothing is
// stored; those already waiting finish.
func TestHashQueueFull(t *testing.T) {
	var (
		mu      sync.Mutex
		block   bool
		entered = make(chan struct{}, 1)
		release = make(chan struct{})
	)
	e := newAuthEnv(t, func(c *auth.Config, _ *clock) {
		c.MaxConcurrentHashes, c.HashQueue = 1, 1
		c.Hashing = func() {
			mu.Lock()
			b := block
			block = false
			mu.Unlock()
			if b {
				entered <- struct{}{}
				<-release
			}
		}
	}, nil)
	e.signup("dave", "password1")
	mu.Lock()
	block = true
	mu.Unlock()
	results := make(chan int, 2)
	login := func() { results <- e.do("POST", protocol.PathLogin, creds("dave", "password1")).status }
	go login()
	<-entered // the first login holds the only slot
	go login()
	testenv.Eventually(t, waitTimeout, "a second login waits for the slot", func() error {
		if running, waiting := e.auth.HashLoad(); running != 1 || waiting != 1 {
			return fmt.Errorf("running %d, waiting %d", running, waiting)
		}
		return nil
	})
	for _, req := range []struct{ path, body string }{
		{protocol.PathLogin, creds("dave", "password1")},
		{protocol.PathSignup, creds("erin", "password1")},
	} {
		r := e.do("POST", req.path, req.body)
		if r.status != http.StatusServiceUnavailable || r.header.Get("Retry-After") != "1" || r.apiError(t).Code != protocol.ErrUnavailable {
			t.Fatalf("%s with a full hash queue: %d %q %s, want 503 with Retry-After 1", req.path, r.status, r.header.Get("Retry-After"), r.body)
		}
	}
	if e.userExists("erin") {
		t.Error("a refused signup stored its user")
	}
	close(release)
	for range 2 {
		if status := <-results; status != http.StatusOK {
			t.Fatalf("a queued login: %d, want 200", status)
		}
	}
}

// TestRefreshAndLogoutLimited: refresh and logout take from the same
// per-address bucket as login.
func TestRefreshAndLogoutLimited(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.RateLimit, c.RateBurst = rate.Every(time.Hour), 3 })
	s := e.signup("frank", "password1") // 1
	if r := e.do("POST", protocol.PathRefresh, refreshBody(s.RefreshToken)); r.status != http.StatusOK {
		t.Fatalf("refresh: %d %s", r.status, r.body)
	}
	if r := e.do("POST", protocol.PathLogout, refreshBody("not-a-token")); r.status != http.StatusNoContent {
		t.Fatalf("logout: %d %s", r.status, r.body)
	}
	for _, path := range []string{protocol.PathRefresh, protocol.PathLogout} {
		r := e.do("POST", path, refreshBody(s.RefreshToken))
		if r.status != http.StatusTooManyRequests || r.header.Get("Retry-After") == "" {
			t.Fatalf("%s over the limit: %d %s", path, r.status, r.body)
		}
	}
}

// TestIPv6PrefixTier: every /64 of one /48 has a bucket of its own, and
// the /48 has one more that they all share.
func TestIPv6PrefixTier(t *testing.T) {
	e := newEnv(t, func(c *Config) {
		c.RateLimit, c.RateBurst = rate.Every(time.Hour), 2
		c.PrefixRateLimit, c.PrefixRateBurst = rate.Every(time.Hour), 3
		c.ClientIP = func(r *http.Request) string { return ClientIP(&http.Request{RemoteAddr: r.Header.Get("X-Test-Addr")}) }
	})
	login := func(addr string) int {
		return e.do("POST", protocol.PathLogin, creds("nobody", "password1"), "X-Test-Addr", addr).status
	}
	for _, addr := range []string{"[2001:db8:1:1::1]:1", "[2001:db8:1:1::2]:1", "[2001:db8:1:2::1]:1"} {
		if got := login(addr); got != http.StatusUnauthorized {
			t.Fatalf("login from %s: %d, want 401", addr, got)
		}
	}
	if got := login("[2001:db8:1:1::3]:1"); got != http.StatusTooManyRequests {
		t.Fatalf("third login from one /64: %d, want 429", got)
	}
	if got := login("[2001:db8:1:3::1]:1"); got != http.StatusTooManyRequests {
		t.Fatalf("fourth login from one /48 (a fresh /64): %d, want 429", got)
	}
	if got := login("[2001:db8:2::1]:1"); got != http.StatusUnauthorized {
		t.Fatalf("login from another /48: %d, want 401", got)
	}
	if got := login("192.0.2.1:1"); got != http.StatusUnauthorized {
		t.Fatalf("login over IPv4: %d, want 401", got)
	}
}

func TestPrefix48(t *testing.T) {
	for in, want := range map[string]string{
		"2001:db8:1:2::/64":     "2001:db8:1::/48",
		"2001:db8:1:2::5":       "2001:db8:1::/48",
		"::ffff:192.0.2.1":      "",
		"192.0.2.1":             "",
		"not an address at all": "",
	} {
		if got := Prefix48(in); got != want {
			t.Errorf("Prefix48(%q) = %q, want %q", in, got, want)
		}
	}
}
