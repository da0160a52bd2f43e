package api

import (
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/parleychat/parley/shared/protocol"
	"golang.org/x/time/rate"
)

func TestRateLimitPerClient(t *testing.T) {
	e := newEnv(t, func(c *Config) {
		c.RateLimit = rate.Every(10 * time.Second)
		c.RateBurst = 3
		// Name clients by a test header so two clients share one socket.
		c.ClientIP = func(r *http.Request) string { return ClientIP(r) + "/" + r.Header.Get("X-Test-Client") }
	})
	login := func(client string) response {
		return e.do("POST", protocol.PathLogin, creds("nobody", "password1"), "X-Test-Client", client)
	}
	for i := range 3 {
		if r := login("a"); r.status != http.StatusUnauthorized {
			t.Fatalf("attempt %d: %d %s", i+1, r.status, r.body)
		}
	}
	// Signup shares the bucket.
	r := e.do("POST", protocol.PathSignup, creds("newbie", "password1"), "X-Test-Client", "a")
	if r.status != http.StatusTooManyRequests || r.apiError(t).Code != protocol.ErrRateLimited {
		t.Fatalf("over the limit: %d %s", r.status, r.body)
	}
	secs, err := strconv.Atoi(r.header.Get("Retry-After"))
	if err != nil || secs < 1 || secs > 10 {
		t.Errorf("Retry-After = %q", r.header.Get("Retry-After"))
	}
	if e.userExists("newbie") {
		t.Error("a rate-limited signup stored a user")
	}
	if r := login("b"); r.status != http.StatusUnauthorized {
		t.Fatalf("another client was limited: %d %s", r.status, r.body)
	}
	e.clock.Advance(time.Duration(secs) * time.Second)
	if r := login("a"); r.status != http.StatusUnauthorized {
		t.Fatalf("after Retry-After: %d %s", r.status, r.body)
	}
	if r := login("a"); r.status != http.StatusTooManyRequests {
		t.Fatalf("one token refilled, the second request should wait: %d", r.status)
	}
}

func TestRoomCreationLimitedPerUser(t *testing.T) {
	e := newEnv(t, func(c *Config) {
		c.RateLimit = rate.Every(time.Minute)
		c.RateBurst = 2
	})
	// Signup itself takes from the per-address bucket: one user per burst.
	s := e.signup("alice", "password1")
	for _, name := range []string{"r1", "r2"} {
		if r := e.do("POST", protocol.PathRooms, roomBody(name), bearer(s)...); r.status != http.StatusCreated {
			t.Fatalf("create %s: %d %s", name, r.status, r.body)
		}
	}
	r := e.do("POST", protocol.PathRooms, roomBody("r3"), bearer(s)...)
	if r.status != http.StatusTooManyRequests || r.header.Get("Retry-After") == "" {
		t.Fatalf("third room: %d %s", r.status, r.body)
	}
	if _, err := e.store.Room(t.Context(), "r3"); err == nil {
		t.Error("a rate-limited POST created a room")
	}
	// Listing is not limited.
	if r := e.do("GET", protocol.PathRooms, "", bearer(s)...); r.status != http.StatusOK {
		t.Fatalf("list: %d", r.status)
	}
}

func TestLimiterMapBounded(t *testing.T) {
	now := time.Unix(1000, 0)
	m := newLimiterMap(rate.Every(time.Second), 2, 3, func() time.Time { return now })
	for _, k := range []string{"a", "b", "c", "d", "e"} {
		if ok, _ := m.allow(k); !ok {
			t.Fatalf("first request of %s refused", k)
		}
		if n := m.len(); n > 3 {
			t.Fatalf("map holds %d buckets, max 3", n)
		}
	}
	// After a sweep interval every bucket has refilled and is dropped.
	now = now.Add(sweepEvery)
	m.allow("f")
	if n := m.len(); n != 1 {
		t.Errorf("after sweep: %d buckets, want 1", n)
	}
}

func TestLimiterRetryAfter(t *testing.T) {
	now := time.Unix(1000, 0)
	m := newLimiterMap(rate.Every(4*time.Second), 1, 10, func() time.Time { return now })
	if ok, _ := m.allow("k"); !ok {
		t.Fatal("first request refused")
	}
	now = now.Add(time.Second)
	ok, wait := m.allow("k")
	if ok || wait != 3*time.Second {
		t.Fatalf("allow = %v, %v; want false, 3s", ok, wait)
	}
	rec := httptest.NewRecorder()
	writeRateLimited(rec, 2500*time.Millisecond)
	if got := rec.Header().Get("Retry-After"); got != "3" {
		t.Errorf("Retry-After for 2.5s = %q, want 3", got)
	}
}

func TestClientIP(t *testing.T) {
	for addr, want := range map[string]string{
		"192.0.2.7:5555":             "192.0.2.7",
		"[2001:db8:1:2:3:4:5:6]:443": "2001:db8:1:2::/64",
		"[::ffff:192.0.2.7]:80":      "192.0.2.7",
		"[fe80::1%eth0]:80":          "fe80::/64",
		"not-an-address":             "not-an-address",
		"example.invalid:80":         "example.invalid",
		"[2001:db8:1:2:ffff::1]:1":   "2001:db8:1:2::/64",
	} {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = addr
		if got := ClientIP(r); got != want {
			t.Errorf("ClientIP(%q) = %q, want %q", addr, got, want)
		}
	}
}
