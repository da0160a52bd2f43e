package api

import (
	"net"
	"net/http"
	"net/netip"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// sweepEvery is how often a limiterMap drops buckets that are full again.
const sweepEvery = time.Minute

// limiterMap is a bounded set of token buckets, one per key. Sweeping
// happens inline (at most once per sweepEvery), so it owns no goroutine.
type limiterMap struct {
	limit rate.Limit
	burst int
	max   int
	now   func() time.Time

	mu        sync.Mutex // guards buckets and lastSweep; a leaf lock
	buckets   map[string]*rate.Limiter
	lastSweep time.Time
}

func newLimiterMap(limit rate.Limit, burst, max int, now func() time.Time) *limiterMap {
	return &limiterMap{limit: limit, burst: burst, max: max, now: now, buckets: make(map[string]*rate.Limiter), lastSweep: now()}
}

// allow takes a token from key's bucket; when there is none it reports how
// long until there is.
func (m *limiterMap) allow(key string) (bool, time.Duration) {
	if m.limit == rate.Inf {
		return true, 0
	}
	now := m.now()
	m.mu.Lock()
	defer m.mu.Unlock()
	lim := m.bucket(key, now)
	if lim.AllowN(now, 1) {
		return true, 0
	}
	if m.limit <= 0 {
		return false, time.Hour
	}
	missing := 1 - lim.TokensAt(now)
	return false, time.Duration(missing / float64(m.limit) * float64(time.Second))
}

// bucket returns key's limiter, making room for a new one if needed.
// Called with m.mu held.
func (m *limiterMap) bucket(key string, now time.Time) *rate.Limiter {
	if lim, ok := m.buckets[key]; ok {
		return lim
	}
	m.sweep(now)
	if len(m.buckets) >= m.max {
		for k := range m.buckets { // map order is random: evict any one
			delete(m.buckets, k)
			break
		}
	}
	lim := rate.NewLimiter(m.limit, m.burst)
	m.buckets[key] = lim
	return lim
}

// sweep drops buckets that have refilled: a full bucket behaves exactly
// like a new one. It runs at most once per sweepEvery, so a flood of new
// keys into a full map costs an eviction each, not a scan each.
func (m *limiterMap) sweep(now time.Time) {
	if now.Sub(m.lastSweep) < sweepEvery {
		return
	}
	m.lastSweep = now
	for k, lim := range m.buckets {
		if lim.TokensAt(now) >= float64(m.burst) {
			delete(m.buckets, k)
		}
	}
}

func (m *limiterMap) len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.buckets)
}

// keyFunc names the bucket of a request; user is "" before authentication.
type keyFunc func(r *http.Request, user string) string

// limit rejects a request with 429 when its bucket is empty.
func (h *Handler) limit(m *limiterMap, key keyFunc, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		k := key(r, "")
		if k == "" { // no bucket of this kind for this client
			next.ServeHTTP(w, r)
			return
		}
		if ok, wait := m.allow(k); !ok {
			writeRateLimited(w, wait)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// limitAuth limits the routes that sign in or hold credentials: per
// client address (an IPv6 /64), and per IPv6 /48 as well, so a client
// with a whole /48 to spend cannot multiply its bucket 65536 times.
func (h *Handler) limitAuth(next http.Handler) http.Handler {
	byIP := func(r *http.Request, _ string) string { return h.clientIP(r) }
	bySite := func(r *http.Request, _ string) string { return Prefix48(h.clientIP(r)) }
	return h.limit(h.authLimit, byIP, h.limit(h.wideLimit, bySite, next))
}

// Prefix48 returns the IPv6 /48 of a client key (an address or a /64), or
// "" for IPv4 and anything else, which have no wider tier.
func Prefix48(client string) string {
	var addr netip.Addr
	if p, err := netip.ParsePrefix(client); err == nil {
		addr = p.Addr()
	} else if a, err := netip.ParseAddr(client); err == nil {
		addr = a
	}
	if addr = addr.Unmap(); !addr.Is6() {
		return ""
	}
	p, _ := addr.WithZone("").Prefix(48)
	return p.String()
}

// limitUser is limit for authenticated routes.
func (h *Handler) limitUser(m *limiterMap, key keyFunc, next userFunc) userFunc {
	return func(w http.ResponseWriter, r *http.Request, user string) error {
		if ok, wait := m.allow(key(r, user)); !ok {
			writeRateLimited(w, wait)
			return nil
		}
		return next(w, r, user)
	}
}

// ClientIP returns the host of r.RemoteAddr, with an IPv6 address reduced
// to its /64 (one host usually holds a whole /64).
func ClientIP(r *http.Request) string {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		host, _, splitErr := net.SplitHostPort(r.RemoteAddr)
		if splitErr != nil {
			return r.RemoteAddr
		}
		return host
	}
	addr := ap.Addr().Unmap().WithZone("")
	if addr.Is6() {
		p, _ := addr.Prefix(64)
		return p.String()
	}
	return addr.String()
}
