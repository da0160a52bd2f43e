package budget

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/parleychat/parley/server/faultlog"
)

// Defaults of RedisOptions.
const (
	DefaultPrefix = "parley:budget:"
	// DefaultTimeout bounds one Take's round trip to Redis: a send waits
	// at most this long for a Redis that does not answer.
	DefaultTimeout = 250 * time.Millisecond
	// DefaultRetry is how long after a failure the budget stays local
	// before it asks Redis again, so an outage costs one timeout a
	// second, not one per send.
	DefaultRetry = time.Second
)

// RedisOptions configure a Redis budget.
type RedisOptions struct {
	URL    string // redis:// or rediss:// URL (required)
	Limits Limits
	// Prefix starts every key (default DefaultPrefix); the key of a user
	// is Prefix + user, a hash of two arrival times.
	Prefix  string
	Timeout time.Duration // default DefaultTimeout
	Retry   time.Duration // default DefaultRetry
	Logger  *slog.Logger  // default slog.Default()
	Now     func() time.Time
}

// Redis is a Budget shared by every node through Redis.
type Redis struct {
	client  *redis.Client
	prefix  string
	args    []any // the script's limit arguments, formatted once
	timeout time.Duration
	retry   time.Duration
	now     func() time.Time
	// local takes sends while Redis fails; downUntil (unix ns) is when
	// Redis is asked again.
	local     *Memory
	downUntil atomic.Int64
	faults    *faultlog.Log
	fallbacks atomic.Int64
}

var _ Budget = (*Redis)(nil)

// NewRedis returns a Redis budget. It does not dial: the first Take does.
func NewRedis(o RedisOptions) (*Redis, error) {
	if o.URL == "" {
		return nil, errors.New("redis budget: empty URL")
	}
	ropt, err := redis.ParseURL(o.URL)
	if err != nil {
		return nil, fmt.Errorf("redis budget: parse URL: %w", err)
	}
	if o.Prefix == "" {
		o.Prefix = DefaultPrefix
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.Retry <= 0 {
		o.Retry = DefaultRetry
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	ropt.DialTimeout, ropt.ReadTimeout, ropt.WriteTimeout = o.Timeout, o.Timeout, o.Timeout
	if !strings.Contains(o.URL, "max_retries=") {
		ropt.MaxRetries = -1 // a retry would only double the wait of a send
	}
	p := o.Limits.params()
	f := func(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }
	return &Redis{
		client:  redis.NewClient(ropt),
		prefix:  o.Prefix,
		args:    []any{f(p.msgInterval), f(p.msgTolerance), f(p.byteInterval), f(p.byteTolerance)},
		timeout: o.Timeout,
		retry:   o.Retry,
		now:     o.Now,
		local:   NewMemory(o.Limits, o.Now),
		faults:  faultlog.New(o.Logger, "redis send budget (each node limits on its own meanwhile)", 0, o.Now),
	}, nil
}

// takeScript is params.take in Lua, on the Redis server's clock. KEYS[1]
// is the user's hash (fields m and b: arrival times in µs); ARGV are the
// message interval and tolerance, the byte interval and tolerance, and the
// send's bytes. It returns 0 when it took the send, else the wait in µs.
// The key expires when both arrival times have passed: a budget that full
// is the same as none.
var takeScript = redis.NewScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local v = redis.call('HMGET', KEYS[1], 'm', 'b')
local m = math.max(tonumber(v[1]) or now, now) + tonumber(ARGV[1])
local b = math.max(tonumber(v[2]) or now, now) + tonumber(ARGV[5]) * tonumber(ARGV[3])
local wait = math.max(m - now - tonumber(ARGV[2]), b - now - tonumber(ARGV[4]))
if wait > 0 then
  return math.max(1, math.ceil(wait))
end
m, b = math.ceil(m), math.ceil(b)
redis.call('HSET', KEYS[1], 'm', m, 'b', b)
redis.call('PEXPIRE', KEYS[1], math.ceil((math.max(m, b) - now) / 1000) + 1)
return 0
`)

// Take implements Budget. While Redis fails it takes from this node's
// own budget (see the package doc).
func (r *Redis) Take(ctx context.Context, user string, n int) time.Duration {
	if r.now().UnixNano() < r.downUntil.Load() {
		r.fallbacks.Add(1)
		return r.local.Take(ctx, user, n)
	}
	ctx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	args := append(append(make([]any, 0, 5), r.args...), n)
	wait, err := takeScript.Run(ctx, r.client, []string{r.prefix + user}, args...).Int64()
	if err != nil {
		if ctx.Err() != nil && errors.Is(context.Cause(ctx), context.Canceled) {
			return 0 // the send's own context ended: nothing to limit
		}
		r.faults.Fail(err)
		r.downUntil.Store(r.now().Add(r.retry).UnixNano())
		r.fallbacks.Add(1)
		return r.local.Take(ctx, user, n)
	}
	r.faults.OK()
	return time.Duration(wait) * time.Microsecond
}

// Fallbacks returns how many sends the local budget took because Redis
// failed.
func (r *Redis) Fallbacks() int64 { return r.fallbacks.Load() }

// Close closes the Redis client.
func (r *Redis) Close() error {
	if err := r.client.Close(); err != nil {
		return fmt.Errorf("close redis budget: %w", err)
	}
	return nil
}
