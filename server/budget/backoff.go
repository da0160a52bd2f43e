package budget

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// Policy is how failed logins against one account are slowed down: the
// first Free failures cost nothing; each later one makes the account wait
// Base, doubling per failure up to Max, before the next attempt is even
// checked. A success forgets the failures; so does Keep without one.
type Policy struct {
	Free int
	Base time.Duration
	Max  time.Duration
}

// DefaultPolicy: five free failures, then 1 s doubling to 15 min. Against
// one account that is about 100 guesses a day from any number of
// addresses, where the per-address limit alone allowed 86,400 from each.
var DefaultPolicy = Policy{Free: 5, Base: time.Second, Max: 15 * time.Minute}

// Check reports whether p is usable.
func (p Policy) Check() error {
	if p.Free < 0 || p.Base <= 0 || p.Max < p.Base {
		return errors.New("failures allowed must not be negative, and 0 < backoff <= max backoff")
	}
	return nil
}

// Keep is how long failures are remembered after the last one.
func (p Policy) Keep() time.Duration { return max(2*p.Max, time.Hour) }

// delay is the wait after the n-th failure in a row.
func (p Policy) delay(n int) time.Duration {
	if n <= p.Free {
		return 0
	}
	d := p.Base
	for i := p.Free + 1; i < n && d < p.Max; i++ {
		d *= 2
	}
	return min(d, p.Max)
}

// Backoff remembers failed logins per account name.
type Backoff interface {
	// Wait returns how long key must wait before its next attempt is
	// checked (0: now).
	Wait(ctx context.Context, key string) time.Duration
	// Failed records a failed attempt and returns the wait it starts.
	Failed(ctx context.Context, key string) time.Duration
	// Succeeded forgets key's failures.
	Succeeded(ctx context.Context, key string)
	Close() error
}

// maxBackoffKeys bounds a MemoryBackoff: past it, an arbitrary entry
// makes room (the per-address limit bounds how fast names arrive).
const maxBackoffKeys = 100_000

// MemoryBackoff is a Backoff in this process (one node).
type MemoryBackoff struct {
	p   Policy
	now func() time.Time

	mu        sync.Mutex // guards keys and lastSweep; a leaf lock
	keys      map[string]failures
	lastSweep time.Time
}

type failures struct {
	n     int
	until time.Time // no attempt is checked before
	last  time.Time
}

var _ Backoff = (*MemoryBackoff)(nil)

// NewMemoryBackoff returns a MemoryBackoff with policy p; now is its
// clock (nil: time.Now).
func NewMemoryBackoff(p Policy, now func() time.Time) *MemoryBackoff {
	if now == nil {
		now = time.Now
	}
	return &MemoryBackoff{p: p, now: now, keys: make(map[string]failures), lastSweep: now()}
}

// Wait implements Backoff.
func (m *MemoryBackoff) Wait(_ context.Context, key string) time.Duration {
	now := m.now()
	m.mu.Lock()
	defer m.mu.Unlock()
	return max(m.keys[key].until.Sub(now), 0)
}

// Failed implements Backoff.
func (m *MemoryBackoff) Failed(_ context.Context, key string) time.Duration {
	now := m.now()
	m.mu.Lock()
	defer m.mu.Unlock()
	f, ok := m.keys[key]
	if !ok {
		m.makeRoom(now)
	}
	f.n++
	d := m.p.delay(f.n)
	f.until, f.last = now.Add(d), now
	m.keys[key] = f
	return d
}

// makeRoom sweeps forgotten entries (at most once a minute) and evicts
// one if the map is still full. Called with mu held.
func (m *MemoryBackoff) makeRoom(now time.Time) {
	if now.Sub(m.lastSweep) >= sweepEvery {
		m.lastSweep = now
		for k, f := range m.keys {
			if now.Sub(f.last) >= m.p.Keep() {
				delete(m.keys, k)
			}
		}
	}
	if len(m.keys) >= maxBackoffKeys {
		for k := range m.keys {
			delete(m.keys, k)
			break
		}
	}
}

// Succeeded implements Backoff.
func (m *MemoryBackoff) Succeeded(_ context.Context, key string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.keys, key)
}

// Close implements Backoff; it does nothing.
func (m *MemoryBackoff) Close() error { return nil }

// RedisBackoff is a Backoff shared by every node through Redis; while
// Redis fails, each node uses its own MemoryBackoff.
type RedisBackoff struct {
	*remote
	p     Policy
	local *MemoryBackoff
}

var _ Backoff = (*RedisBackoff)(nil)

// NewRedisBackoff returns a RedisBackoff with o.Policy.
func NewRedisBackoff(o RedisOptions) (*RedisBackoff, error) {
	r, err := newRemote(&o, "login backoff")
	if err != nil {
		return nil, err
	}
	return &RedisBackoff{remote: r, p: o.Policy, local: NewMemoryBackoff(o.Policy, o.Now)}, nil
}

// waitScript returns the ms KEYS[1] must still wait (field u: until, in
// ms on the Redis clock).
var waitScript = redis.NewScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local u = tonumber(redis.call('HGET', KEYS[1], 'u') or '0')
return math.max(0, u - now)
`)

// failScript counts a failure (field n) and sets until to now plus the
// delay Go computed for that count: ARGV[1] is Free, ARGV[2] the base ms,
// ARGV[3] the max ms, ARGV[4] how long the key is kept (ms). It returns
// the delay in ms.
var failScript = redis.NewScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local n = redis.call('HINCRBY', KEYS[1], 'n', 1)
local free, d, mx = tonumber(ARGV[1]), 0, tonumber(ARGV[3])
if n > free then
  d = tonumber(ARGV[2])
  for _ = free + 2, n do
    if d >= mx then break end
    d = d * 2
  end
  d = math.min(d, mx)
end
redis.call('HSET', KEYS[1], 'u', now + d)
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[4]))
return d
`)

var forgetScript = redis.NewScript(`return redis.call('DEL', KEYS[1])`)

func (r *RedisBackoff) key(k string) string { return "login:" + k }

// Wait implements Backoff.
func (r *RedisBackoff) Wait(ctx context.Context, key string) time.Duration {
	ms, ok := r.run(ctx, waitScript, r.key(key))
	if !ok {
		return r.local.Wait(ctx, key)
	}
	return time.Duration(ms) * time.Millisecond
}

// Failed implements Backoff.
func (r *RedisBackoff) Failed(ctx context.Context, key string) time.Duration {
	ms := func(d time.Duration) string { return strconv.FormatInt(d.Milliseconds(), 10) }
	d, ok := r.run(ctx, failScript, r.key(key), r.p.Free, ms(r.p.Base), ms(r.p.Max), ms(r.p.Keep()))
	if !ok {
		return r.local.Failed(ctx, key)
	}
	return time.Duration(d) * time.Millisecond
}

// Succeeded implements Backoff.
func (r *RedisBackoff) Succeeded(ctx context.Context, key string) {
	if _, ok := r.run(ctx, forgetScript, r.key(key)); !ok {
		r.local.Succeeded(ctx, key)
	}
}
