package node_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/parleychat/parley/server/node"
	"github.com/parleychat/parley/shared/testenv"
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
	alice, bob := twoInGeneral(t, n)
	if _, err := alice.Send("general", "the database is back"); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, waitTimeout, "bob sees alice's message", testenv.Cond(func() bool { return len(bob.bodies("general")) == 1 }))
}
