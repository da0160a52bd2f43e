package node_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/parleychat/parley/internal/testenv"
	"github.com/parleychat/parley/server/node"
)

// TestNodeWaitsForPostgres: a node started while its PostgreSQL is down is
// alive but not ready, refuses API calls with 503, and becomes ready and
// usable once the database comes up.
func TestNodeWaitsForPostgres(t *testing.T) {
	t.Parallel()
	pg := testenv.NewPostgres(t)
	_, url, err := pg.CreateDatabase(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if err := pg.Stop(); err != nil {
		t.Fatal(err)
	}
	n := launchNode(t, func(c *node.Config) { c.PostgresURL = url })
	testenv.Eventually(t, waitTimeout, "alive while the database is down", n.status("/healthz", http.StatusOK))
	for path, code := range map[string]int{"/readyz": http.StatusServiceUnavailable, "/api/rooms": http.StatusServiceUnavailable, "/": http.StatusServiceUnavailable} {
		if err := n.status(path, code)(); err != nil {
			t.Fatalf("while waiting for the database: %v", err)
		}
	}
	select {
	case err := <-n.done:
		t.Fatalf("the node gave up while the database was down: %v", err)
	default:
	}
	if err := pg.Start(); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, waitTimeout, "ready once the database answers", n.status("/readyz", http.StatusOK))
	alice, bob := newChatter(t, n.URL, signup(t, n.URL, "alice")), newChatter(t, n.URL, signup(t, n.URL, "bob"))
	for _, c := range []*chatter{alice, bob} {
		if err := c.Subscribe("general", 0); err != nil {
			t.Fatal(err)
		}
	}
	testenv.Eventually(t, waitTimeout, "both subscribed", func() error { return bothPresent(bob) })
	if _, err := alice.Send("general", "the database is back"); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, waitTimeout, "bob sees alice's message", testenv.Cond(func() bool { return len(bob.bodies("general")) == 1 }))
}

func bothPresent(c *chatter) error {
	if got := c.presence("general"); got != "alice,bob" {
		return fmt.Errorf("presence %q", got)
	}
	return nil
}

// TestNodeGivesUpAfterStoreWait: with the database down for longer than
// --store-wait, Serve returns the error.
func TestNodeGivesUpAfterStoreWait(t *testing.T) {
	t.Parallel()
	pg := testenv.NewPostgres(t)
	_, url, err := pg.CreateDatabase(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if err := pg.Stop(); err != nil {
		t.Fatal(err)
	}
	n := launchNode(t, func(c *node.Config) { c.PostgresURL, c.StoreWait = url, 500*time.Millisecond })
	select {
	case err := <-n.done:
		if err == nil || !strings.Contains(err.Error(), "open postgres") {
			t.Fatalf("Serve = %v, want an open postgres error", err)
		}
		n.done <- nil // for the cleanup's stop
	case <-time.After(waitTimeout):
		t.Fatal("the node still waits long after --store-wait")
	}
}
