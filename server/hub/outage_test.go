package hub_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/parleychat/parley/internal/testenv"
	"github.com/parleychat/parley/server/store"
	"github.com/parleychat/parley/shared/protocol"
)

// pgEnv runs a hub on a PostgreSQL server of the test's own, which the test
// stops and starts.
func pgEnv(t *testing.T, reconcile time.Duration) (*env, *testenv.PGServer) {
	t.Helper()
	ctx := context.Background()
	srv := testenv.NewPostgres(t)
	_, url, err := srv.CreateDatabase(ctx)
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.OpenPostgres(ctx, url, 4)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return newEnvOn(t, st, reconcile), srv
}

// failures is a check for Eventually: the hub has counted at least n
// failed backfills.
func (e *env) failures(n int64) func() error {
	return func() error {
		if got := e.hub.Stats().BackfillFailures; got < n {
			return fmt.Errorf("%d backfill failures, want %d", got, n)
		}
		return nil
	}
}

// TestGapDuringStoreOutageWaitsForTheStore: a gap opens while PostgreSQL
// is down. The room sends no resync (a resubscribe would fail the same
// way), delivers nothing past the gap, keeps serving typing, retries the
// backfill with backoff and, once the store is back, delivers every
// offset once and in order.
func TestGapDuringStoreOutageWaitsForTheStore(t *testing.T) {
	e, pg := pgEnv(t, time.Hour) // no reconcile: the stall retry alone must recover
	ctx := context.Background()
	r := &recorder{user: "bob"}
	if err := e.hub.Subscribe(ctx, r, "general", 0); err != nil {
		t.Fatal(err)
	}
	msgs := e.append(t, 4)
	if err := e.hub.PublishMessage(ctx, msgs[0]); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, waitTimeout, "offset 1 delivered", r.hasOffsets(1))

	if err := pg.Stop(); err != nil {
		t.Fatal(err)
	}
	e.hub.Deliver("general", payload(t, msgs[3])) // 4 before 2 and 3: a gap
	testenv.Eventually(t, waitTimeout, "the backfill failed twice", e.failures(2))
	e.hub.Deliver("general", payload(t, msgs[2])) // still past the gap
	e.hub.PublishTyping(ctx, "general", "ann")
	testenv.Eventually(t, waitTimeout, "typing still delivered", func() error {
		if len(r.frames(protocol.TypeTyping)) == 0 {
			return errors.New("no typing frame")
		}
		return nil
	})
	if got := r.offsets(); !equal(got, []int64{1}) {
		t.Fatalf("offsets %v delivered past an unfilled gap", got)
	}
	if n := len(r.frames(protocol.TypeResync)); n != 0 {
		t.Fatalf("%d resync frames sent into a store outage", n)
	}

	if err := pg.Start(); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, waitTimeout, "every offset once, in order, after the store returned", r.hasOffsets(1, 2, 3, 4))
	more := e.append(t, 1)
	if err := e.hub.PublishMessage(ctx, more[0]); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, waitTimeout, "live again", r.hasOffsets(1, 2, 3, 4, 5))
	if n := len(r.frames(protocol.TypeResync)); n != 0 {
		t.Fatalf("%d resync frames", n)
	}
}

// TestResubscribeDuringStoreOutageKeepsTheSubscription: a resubscribe the
// store cannot serve fails without sending anything, and the subscriber
// keeps receiving live messages as before.
func TestResubscribeDuringStoreOutageKeepsTheSubscription(t *testing.T) {
	e, pg := pgEnv(t, time.Hour)
	ctx := context.Background()
	r := &recorder{user: "bob"}
	if err := e.hub.Subscribe(ctx, r, "general", 0); err != nil {
		t.Fatal(err)
	}
	msgs := e.append(t, 2)
	if err := pg.Stop(); err != nil {
		t.Fatal(err)
	}
	subscribed := len(r.frames(protocol.TypeSubscribed))
	if err := e.hub.Resubscribe(ctx, r, "general", 0); err == nil {
		t.Fatal("resubscribe succeeded with the store down")
	}
	if n := len(r.frames(protocol.TypeSubscribed)); n != subscribed {
		t.Fatal("a failed resubscribe sent a subscribed frame")
	}
	// In order, so no store read is needed: both reach the subscriber.
	e.hub.Deliver("general", payload(t, msgs[0]))
	e.hub.Deliver("general", payload(t, msgs[1]))
	testenv.Eventually(t, waitTimeout, "live messages after the failed resubscribe", r.hasOffsets(1, 2))
	if err := pg.Start(); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, waitTimeout, "resubscribe after the store returned", func() error {
		return e.hub.Resubscribe(ctx, r, "general", 2)
	})
}

// TestHoldKeepsUserPresent: a hold counts like a subscription, so moving
// from one to the other leaves the user present throughout.
func TestHoldKeepsUserPresent(t *testing.T) {
	e := newEnv(t, time.Hour)
	ctx := context.Background()
	users := func() []string {
		u, err := e.presence.Users(ctx, "general")
		if err != nil {
			t.Fatal(err)
		}
		return u
	}
	e.hub.Hold(ctx, "general", "bob")
	if got := users(); !slices.Equal(got, []string{"bob"}) {
		t.Fatalf("present while held: %v", got)
	}
	r := &recorder{user: "bob"}
	if err := e.hub.Subscribe(ctx, r, "general", 0); err != nil {
		t.Fatal(err)
	}
	e.hub.Release("general", "bob")
	if got := users(); !slices.Equal(got, []string{"bob"}) {
		t.Fatalf("present after the hold became a subscription: %v", got)
	}
	e.hub.Unsubscribe(r, "general")
	if got := users(); len(got) != 0 {
		t.Fatalf("present after leaving: %v", got)
	}
	e.hub.Hold(ctx, "general", "bob")
	e.hub.Release("general", "bob")
	if got := users(); len(got) != 0 {
		t.Fatalf("present after a released hold: %v", got)
	}
}
