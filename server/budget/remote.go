package budget

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/parleychat/parley/server/certs"
	"github.com/parleychat/parley/server/faultlog"
)

// Defaults of RedisOptions.
const (
	DefaultPrefix = "parley:budget:"
	// DefaultTimeout bounds one round trip to Redis: a send or login
	// waits at most this long for a Redis that does not answer.
	DefaultTimeout = 250 * time.Millisecond
	// DefaultRetry is how long after a failure a Redis budget stays local
	// before it asks Redis again, so an outage costs one timeout a
	// second, not one per request.
	DefaultRetry = time.Second
)

// RedisOptions configure a Redis budget or backoff.
type RedisOptions struct {
	URL string // redis:// or rediss:// URL (required)
	// TLS, with a rediss:// URL, is the CA to trust and the client
	// certificate (certs.ClientConfig); nil: the system roots. The server
	// name comes from the URL and is verified. Set with a redis:// URL it
	// is an error.
	TLS *tls.Config
	// Limits are a Redis budget's limits (NewRedis).
	Limits Limits
	// Policy is a Redis backoff's policy (NewRedisBackoff).
	Policy Policy
	// Prefix starts every key (default DefaultPrefix).
	Prefix  string
	Timeout time.Duration // default DefaultTimeout
	Retry   time.Duration // default DefaultRetry
	Logger  *slog.Logger  // default slog.Default()
	Now     func() time.Time
}

// remote runs scripts on Redis; after a failure it tells its caller to
// use its local state instead for Retry.
type remote struct {
	client    *redis.Client
	prefix    string
	timeout   time.Duration
	retry     time.Duration
	now       func() time.Time
	downUntil atomic.Int64 // unix ns: Redis is not asked before
	faults    *faultlog.Log
	fallbacks atomic.Int64
}

func newRemote(o *RedisOptions, what string) (*remote, error) {
	if o.URL == "" {
		return nil, errors.New("redis " + what + ": empty URL")
	}
	ropt, err := redis.ParseURL(o.URL)
	if err != nil {
		return nil, fmt.Errorf("redis %s: parse URL: %w", what, err)
	}
	if ropt.TLSConfig, err = certs.ForURL(ropt.TLSConfig, o.TLS); err != nil {
		return nil, fmt.Errorf("redis %s: %w", what, err)
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
		ropt.MaxRetries = -1 // a retry would only double the wait
	}
	return &remote{
		client:  redis.NewClient(ropt),
		prefix:  o.Prefix,
		timeout: o.Timeout,
		retry:   o.Retry,
		now:     o.Now,
		faults:  faultlog.New(o.Logger, "redis "+what+" (each node on its own meanwhile)", 0, o.Now),
	}, nil
}

// run runs script on key with args and returns its integer result; ok is
// false when the caller must use its local state: Redis failed now or a
// moment ago (or ctx ended).
func (r *remote) run(ctx context.Context, script *redis.Script, key string, args ...any) (v int64, ok bool) {
	if r.now().UnixNano() < r.downUntil.Load() {
		r.fallbacks.Add(1)
		return 0, false
	}
	tctx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	v, err := script.Run(tctx, r.client, []string{r.prefix + key}, args...).Int64()
	if err != nil {
		if ctx.Err() == nil {
			r.faults.Fail(err)
			r.downUntil.Store(r.now().Add(r.retry).UnixNano())
		}
		r.fallbacks.Add(1)
		return 0, false
	}
	r.faults.OK()
	return v, true
}

// runAll is run for a script that returns a list of integers.
func (r *remote) runAll(ctx context.Context, script *redis.Script, key string, args ...any) (v []int64, ok bool) {
	if r.now().UnixNano() < r.downUntil.Load() {
		r.fallbacks.Add(1)
		return nil, false
	}
	tctx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	v, err := script.Run(tctx, r.client, []string{r.prefix + key}, args...).Int64Slice()
	if err != nil {
		if ctx.Err() == nil {
			r.faults.Fail(err)
			r.downUntil.Store(r.now().Add(r.retry).UnixNano())
		}
		r.fallbacks.Add(1)
		return nil, false
	}
	r.faults.OK()
	return v, true
}

// Fallbacks returns how many requests were answered locally because
// Redis failed.
func (r *remote) Fallbacks() int64 { return r.fallbacks.Load() }

// Close closes the Redis client.
func (r *remote) Close() error {
	if err := r.client.Close(); err != nil {
		return fmt.Errorf("close redis client: %w", err)
	}
	return nil
}
