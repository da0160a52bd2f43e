//go:build !js

package testenv

import (
	"context"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

func TestRedisStopStart(t *testing.T) {
	s := StartRedis(t)
	ctx := context.Background()
	opt, err := redis.ParseURL(s.URL())
	if err != nil {
		t.Fatalf("parse url %q: %v", s.URL(), err)
	}
	opt.MaxRetries = -1
	opt.DialTimeout = time.Second
	c := redis.NewClient(opt)
	defer c.Close()

	if err := c.Set(ctx, "k", "v", 0).Err(); err != nil {
		t.Fatalf("set: %v", err)
	}
	s.Stop()
	if err := c.Ping(ctx).Err(); err == nil {
		t.Fatal("ping after Stop succeeded")
	}
	s.Start()
	addr := s.Addr()
	if err := pingRedis(addr, nil); err != nil {
		t.Fatalf("ping after Start: %v", err)
	}
	// The pool may hold a connection to the old process: the first
	// command may fail, the next must work.
	_ = c.Ping(ctx).Err()
	if err := c.Ping(ctx).Err(); err != nil {
		t.Fatalf("ping after restart: %v", err)
	}
	if n, err := c.Exists(ctx, "k").Result(); err != nil || n != 0 {
		t.Fatalf("exists after restart = %d, %v; want 0 (no persistence)", n, err)
	}
	if s.Addr() != addr {
		t.Fatalf("addr changed: %s → %s", addr, s.Addr())
	}
}

func TestRedisTwoServers(t *testing.T) {
	a, b := StartRedis(t), StartRedis(t)
	if a.URL() == b.URL() {
		t.Fatalf("two servers share %s", a.URL())
	}
	a.Stop()
	if err := pingRedis(b.Addr(), nil); err != nil {
		t.Fatalf("second server down after stopping the first: %v", err)
	}
	a.Stop() // idempotent
}
