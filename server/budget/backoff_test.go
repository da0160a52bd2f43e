package budget_test

import (
	"context"
	"testing"
	"time"

	"github.com/parleychat/parley/server/budget"
	"github.com/parleychat/parley/shared/testenv"
)

// TestBackoff: the first Free failures cost nothing, then the wait
// doubles per failure up to Max; another account is unaffected; a
// success forgets the failures. Run in memory and on Redis.
func TestBackoff(t *testing.T) {
	r := testenv.StartRedis(t)
	policy := budget.Policy{Free: 2, Base: time.Minute, Max: 4 * time.Minute}
	for name, b := range map[string]budget.Backoff{
		"memory": budget.NewMemoryBackoff(policy, nil),
		"redis":  newRedisBackoff(t, r.URL(), "backoff", policy),
	} {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			var got []time.Duration
			for range 6 {
				got = append(got, b.Failed(ctx, "ann"))
			}
			want := []time.Duration{0, 0, time.Minute, 2 * time.Minute, 4 * time.Minute, 4 * time.Minute}
			for i := range want {
				if got[i] != want[i] {
					t.Fatalf("waits after each failure: %v, want %v", got, want)
				}
			}
			if w := b.Wait(ctx, "ann"); w <= 3*time.Minute || w > 4*time.Minute {
				t.Fatalf("ann waits %v, want about 4m", w)
			}
			if w := b.Wait(ctx, "bob"); w != 0 {
				t.Fatalf("bob waits %v after ann's failures", w)
			}
			b.Succeeded(ctx, "ann")
			if w := b.Wait(ctx, "ann"); w != 0 {
				t.Fatalf("after a success ann waits %v", w)
			}
			if d := b.Failed(ctx, "ann"); d != 0 {
				t.Fatalf("the first failure after a success costs %v", d)
			}
		})
	}
}

// TestMemoryBackoffExpires: the wait runs down on the clock, and failures
// are forgotten Keep after the last one.
func TestMemoryBackoffExpires(t *testing.T) {
	clock := testenv.NewClock(time.Unix(1_700_000_000, 0))
	p := budget.Policy{Free: 0, Base: time.Second, Max: time.Minute}
	b := budget.NewMemoryBackoff(p, clock.Now)
	ctx := context.Background()
	b.Failed(ctx, "ann")
	b.Failed(ctx, "ann")
	clock.Advance(1500 * time.Millisecond)
	if w := b.Wait(ctx, "ann"); w != 500*time.Millisecond {
		t.Fatalf("wait %v, want 500ms", w)
	}
	clock.Advance(p.Keep())
	b.Failed(ctx, "bob") // sweeps
	if d := b.Failed(ctx, "ann"); d != time.Second {
		t.Fatalf("after Keep the next failure waits %v, want the first step (1s)", d)
	}
}

// TestRedisBackoffSharedAndFallsBack: failures on one node count on
// another; while Redis is down each node keeps its own count.
func TestRedisBackoffSharedAndFallsBack(t *testing.T) {
	r := testenv.StartRedis(t)
	p := budget.Policy{Free: 1, Base: time.Minute, Max: time.Hour}
	n1, n2 := newRedisBackoff(t, r.URL(), "shared", p), newRedisBackoff(t, r.URL(), "shared", p)
	ctx := context.Background()
	n1.Failed(ctx, "ann")
	if d := n2.Failed(ctx, "ann"); d != time.Minute {
		t.Fatalf("second failure, on another node: wait %v, want 1m", d)
	}
	if w := n1.Wait(ctx, "ann"); w <= 0 {
		t.Fatal("the first node does not see the wait")
	}
	r.Stop()
	n1.Failed(ctx, "bob")
	if d := n1.Failed(ctx, "bob"); d != time.Minute || n1.Fallbacks() == 0 {
		t.Fatalf("Redis down: second failure waits %v (fallbacks %d), want 1m locally", d, n1.Fallbacks())
	}
}

func newRedisBackoff(t *testing.T, url, prefix string, p budget.Policy) *budget.RedisBackoff {
	t.Helper()
	b, err := budget.NewRedisBackoff(budget.RedisOptions{URL: url, Policy: p, Prefix: "test:" + prefix + ":", Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := b.Close(); err != nil {
			t.Error(err)
		}
	})
	return b
}
