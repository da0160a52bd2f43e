package budget_test

import (
	"context"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/parleychat/parley/server/budget"
	"github.com/parleychat/parley/shared/testenv"
)

// waitTimeout bounds every wait: a guard against hangs, not a budget.
const waitTimeout = 20 * time.Second

var quiet = slog.New(slog.DiscardHandler)

// slow refills so slowly (one message every 1000 s, one byte a second)
// that only the bursts matter while a test runs.
var slow = budget.Limits{Rate: 0.001, Burst: 5, ByteRate: 1, ByteBurst: 1000}

// newBudget makes a budget with limits l; tests run once per kind.
type newBudget func(t *testing.T, l budget.Limits) budget.Budget

func kinds(t *testing.T) map[string]newBudget {
	r := testenv.StartRedis(t)
	return map[string]newBudget{
		"memory": func(t *testing.T, l budget.Limits) budget.Budget { return budget.NewMemory(l, nil) },
		"redis":  func(t *testing.T, l budget.Limits) budget.Budget { return newRedis(t, r.URL(), t.Name(), l) },
	}
}

func newRedis(t *testing.T, url, prefix string, l budget.Limits) *budget.Redis {
	t.Helper()
	b, err := budget.NewRedis(budget.RedisOptions{URL: url, Limits: l, Prefix: "test:" + prefix + ":", Logger: quiet})
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

// takeN takes n sends of size bytes and returns how many were taken and
// the wait of the last refused one.
func takeN(b budget.Budget, user string, n, size int) (taken int, wait time.Duration) {
	for range n {
		if w := b.Take(context.Background(), user, size); w > 0 {
			wait = w
			continue
		}
		taken++
	}
	return taken, wait
}

// TestBudget: a user gets Burst messages and ByteBurst bytes at once,
// then a wait as long as the refill of what is missing; a refused send
// costs nothing; another user has a budget of its own.
func TestBudget(t *testing.T) {
	for name, mk := range kinds(t) {
		t.Run(name, func(t *testing.T) {
			t.Run("messages", func(t *testing.T) {
				b := mk(t, slow)
				if taken, wait := takeN(b, "ann", 8, 10); taken != 5 || wait < 999*time.Second || wait > 1000*time.Second {
					t.Fatalf("8 sends of a burst of 5: took %d, wait %v; want 5 and about 1000s", taken, wait)
				}
				if taken, _ := takeN(b, "bob", 5, 10); taken != 5 {
					t.Fatalf("another user took %d of its 5", taken)
				}
			})
			t.Run("bytes", func(t *testing.T) {
				b := mk(t, slow)
				if taken, _ := takeN(b, "ann", 3, 300); taken != 3 {
					t.Fatalf("900 of 1000 bytes: took %d of 3 sends", taken)
				}
				// 200 bytes are missing: a 1 byte/s refill, so about 200 s.
				wait := b.Take(context.Background(), "ann", 300)
				if wait < 199*time.Second || wait > 200*time.Second {
					t.Fatalf("300 bytes with 100 left: wait %v, want about 200s", wait)
				}
				// The refused send took nothing: 100 bytes still fit.
				if w := b.Take(context.Background(), "ann", 100); w != 0 {
					t.Fatalf("100 bytes with 100 left: wait %v", w)
				}
				if taken, _ := takeN(b, "bob", 1, 1000); taken != 1 {
					t.Fatal("another user could not send its whole byte burst")
				}
			})
			t.Run("refill", func(t *testing.T) {
				b := mk(t, budget.Limits{Rate: 20, Burst: 1, ByteRate: 1 << 20, ByteBurst: 1 << 20})
				if w := b.Take(context.Background(), "ann", 1); w != 0 {
					t.Fatalf("first send: wait %v", w)
				}
				w := b.Take(context.Background(), "ann", 1)
				if w <= 0 || w > 50*time.Millisecond {
					t.Fatalf("second send at once: wait %v, want (0, 50ms]", w)
				}
				testenv.Eventually(t, waitTimeout, "the budget refills", func() error {
					if w := b.Take(context.Background(), "ann", 1); w > 0 {
						return fmt.Errorf("wait %v", w)
					}
					return nil
				})
			})
		})
	}
}

// TestTakeAll: several sends in one call take exactly what as many Take
// calls would, in order: those that fit, up to the first that does not
// (then the wait until it would), and nothing after it; a refused send
// costs nothing. Redis down, the local budget answers the same way.
func TestTakeAll(t *testing.T) {
	ctx := context.Background()
	check := func(t *testing.T, b budget.Budget) {
		// A burst of 5 messages and 1000 bytes: 300 300 300 fit, 200 does
		// not (100 bytes left), the 10 after it is not taken.
		if taken, wait := b.TakeAll(ctx, "ann", []int{300, 300, 300, 200, 10}); taken != 3 || wait < 99*time.Second || wait > 100*time.Second {
			t.Fatalf("TakeAll: took %d, wait %v; want 3 and about 100s", taken, wait)
		}
		if taken, wait := b.TakeAll(ctx, "ann", []int{100, 1}); taken != 1 || wait < 990*time.Millisecond || wait > time.Second {
			t.Fatalf("after it: took %d, wait %v; want 1 (the last 100 bytes), then about 1s for a byte", taken, wait)
		}
		if taken, wait := b.TakeAll(ctx, "ann", []int{0, 0}); taken != 1 || wait < 999*time.Second {
			t.Fatalf("empty messages: took %d, wait %v; want the fifth, then about 1000s for a sixth", taken, wait)
		}
		if taken, wait := b.TakeAll(ctx, "bob", []int{1, 1, 1}); taken != 3 || wait != 0 {
			t.Fatalf("another user: took %d, wait %v; want all 3", taken, wait)
		}
		if taken, wait := b.TakeAll(ctx, "bob", nil); taken != 0 || wait != 0 {
			t.Fatalf("nothing: took %d, wait %v", taken, wait)
		}
	}
	everyKind(t, check)
}

// everyKind runs check on a slow budget of every kind, and on a Redis
// budget whose Redis is down (which must then answer locally).
func everyKind(t *testing.T, check func(t *testing.T, b budget.Budget)) {
	for name, mk := range kinds(t) {
		t.Run(name, func(t *testing.T) { check(t, mk(t, slow)) })
	}
	t.Run("redis-down", func(t *testing.T) {
		r := testenv.StartRedis(t)
		b := newRedis(t, r.URL(), t.Name(), slow)
		r.Stop()
		check(t, b)
		if b.Fallbacks() == 0 {
			t.Fatal("Redis down, yet nothing was answered locally")
		}
	})
}

// TestReturn: what Return gives back can be taken again, messages and
// bytes alike, and never more than a full budget; Redis down, the local
// budget does the same.
func TestReturn(t *testing.T) {
	ctx := context.Background()
	check := func(t *testing.T, b budget.Budget) {
		if taken, _ := b.TakeAll(ctx, "ann", []int{300, 300, 300, 50, 50}); taken != 5 {
			t.Fatalf("took %d of the burst of 5", taken)
		}
		if w := b.Take(ctx, "ann", 0); w == 0 {
			t.Fatal("a sixth message fit a burst of 5")
		}
		b.Return(ctx, "ann", []int{300, 50})
		// Two messages and 350 bytes are back: 300 and 50 fit, not more.
		if taken, _ := b.TakeAll(ctx, "ann", []int{300, 50, 0}); taken != 2 {
			t.Fatalf("after returning 2: took %d, want 2", taken)
		}
		b.Return(ctx, "ann", []int{300})
		if w := b.Take(ctx, "ann", 301); w == 0 {
			t.Fatal("301 bytes fit after 300 were returned to an empty byte budget")
		}
		// Returning more than was taken fills the budget, no more.
		b.Return(ctx, "bob", []int{1})
		b.Take(ctx, "bob", 1)
		b.Return(ctx, "bob", []int{1, 1, 1, 1, 1, 1, 1, 1})
		if taken, _ := b.TakeAll(ctx, "bob", []int{1, 1, 1, 1, 1, 1}); taken != 5 {
			t.Fatalf("after returning more than was taken: took %d, want the burst of 5", taken)
		}
		b.Return(ctx, "bob", nil)
	}
	everyKind(t, check)
}

// TestMemoryRefillsOnItsClock: after waiting what Take said, a send fits;
// a moment earlier it does not; users whose budget is full again are
// forgotten.
func TestMemoryRefillsOnItsClock(t *testing.T) {
	clock := testenv.NewClock(time.Unix(1_700_000_000, 0))
	b := budget.NewMemory(budget.Limits{Rate: 2, Burst: 2, ByteRate: 100, ByteBurst: 100}, clock.Now)
	takeN(b, "ann", 2, 10)
	wait := b.Take(context.Background(), "ann", 10)
	if wait != 500*time.Millisecond {
		t.Fatalf("third send: wait %v, want 500ms", wait)
	}
	clock.Advance(wait - time.Millisecond)
	if w := b.Take(context.Background(), "ann", 10); w != time.Millisecond {
		t.Fatalf("1ms early: wait %v, want 1ms", w)
	}
	clock.Advance(time.Millisecond)
	if w := b.Take(context.Background(), "ann", 10); w != 0 {
		t.Fatalf("on time: wait %v", w)
	}
	clock.Advance(2 * time.Minute)
	b.Take(context.Background(), "bob", 1)
	if n := b.Len(); n != 1 {
		t.Fatalf("after the sweep %d users remembered, want 1 (bob)", n)
	}
}

// TestRedisSharedAcrossNodes: two nodes' budgets on one Redis are one
// budget per user.
func TestRedisSharedAcrossNodes(t *testing.T) {
	r := testenv.StartRedis(t)
	n1, n2 := newRedis(t, r.URL(), "shared", slow), newRedis(t, r.URL(), "shared", slow)
	a, _ := takeN(n1, "ann", 3, 1)
	b, _ := takeN(n2, "ann", 3, 1)
	c, _ := takeN(n1, "ann", 1, 1)
	if a+b+c != 5 || c != 0 {
		t.Fatalf("ann took %d on node 1, %d on node 2, then %d on node 1; want 5 in all, none at the end", a, b, c)
	}
	if taken, _ := takeN(n2, "bob", 5, 1); taken != 5 {
		t.Fatalf("bob took %d of 5", taken)
	}
}

// TestRedisDownFallsBackToLocal: while Redis is down a node keeps
// taking sends from its own budget (still limited), and goes back to
// Redis once it answers.
func TestRedisDownFallsBackToLocal(t *testing.T) {
	r := testenv.StartRedis(t)
	b, err := budget.NewRedis(budget.RedisOptions{URL: r.URL(), Limits: slow, Prefix: "test:down:", Logger: quiet, Retry: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if taken, _ := takeN(b, "ann", 5, 1); taken != 5 {
		t.Fatalf("with Redis: took %d of 5", taken)
	}
	r.Stop()
	if taken, _ := takeN(b, "bob", 7, 1); taken != 5 {
		t.Fatalf("Redis down: bob took %d sends of 7, want 5 (the local budget)", taken)
	}
	if b.Fallbacks() < 7 {
		t.Fatalf("%d sends taken locally, want 7", b.Fallbacks())
	}
	r.Start()
	testenv.Eventually(t, waitTimeout, "the budget uses Redis again", func() error {
		before := b.Fallbacks()
		if w := b.Take(context.Background(), "carl", 1); w != 0 || b.Fallbacks() != before {
			return fmt.Errorf("still local (wait %v)", w)
		}
		return nil
	})
}

func TestLimitsCheck(t *testing.T) {
	if err := budget.Defaults.Check(12 << 10); err != nil {
		t.Fatalf("defaults: %v", err)
	}
	for _, l := range []budget.Limits{
		{Rate: 0, Burst: 1, ByteRate: 1, ByteBurst: 100},
		{Rate: 1, Burst: 0, ByteRate: 1, ByteBurst: 100},
		{Rate: 1, Burst: 1, ByteRate: 0, ByteBurst: 100},
		{Rate: 1, Burst: 1, ByteRate: 1, ByteBurst: 99},
	} {
		if err := l.Check(100); err == nil {
			t.Errorf("%+v: no error", l)
		}
	}
}
