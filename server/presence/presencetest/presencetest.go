// Package presencetest is the conformance suite of presence.Presence: Run
// checks one node (membership, sorting, Run and Close, concurrent use) and
// RunCluster checks several nodes sharing a backend (visibility everywhere,
// one user on two nodes, clean shutdown, and a crashed node's entries
// expiring and being reported). Every implementation runs it from its own
// tests; what only one implementation does stays in that one's tests.
package presencetest

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/parleychat/parley/server/presence"
)

// waitTimeout bounds every wait of the suite: a guard against hangs on a
// slow, busy machine, not a performance budget.
const waitTimeout = 30 * time.Second

// Opener returns a fresh Presence for one subtest and arranges (with
// t.Cleanup) for it to be closed when the subtest ends. For RunCluster,
// every call within one subtest returns another node of the same cluster:
// its own node identity, one backend shared with the subtest's other nodes
// and with no other subtest.
type Opener func(t *testing.T) presence.Presence

// test is one subtest of the suite.
type test struct {
	name string
	fn   func(t *testing.T, open Opener)
}

// Run runs the single-node suite, each subtest on a Presence of its own.
func Run(t *testing.T, open Opener) {
	groups := []struct {
		name  string
		tests []test
	}{
		{"Members", memberTests},
		{"Lifecycle", lifecycleTests},
		{"Concurrency", concurrencyTests},
	}
	for _, g := range groups {
		t.Run(g.name, func(t *testing.T) {
			for _, tc := range g.tests {
				t.Run(tc.name, func(t *testing.T) { tc.fn(t, open) })
			}
		})
	}
}

// Join joins each of users to room on p or fails the test.
func Join(t testing.TB, p presence.Presence, room string, users ...string) {
	t.Helper()
	for _, user := range users {
		if err := p.Join(context.Background(), room, user); err != nil {
			t.Fatalf("join %q to %q: %v", user, room, err)
		}
	}
}

// Leave removes each of users from room on p or fails the test.
func Leave(t testing.TB, p presence.Presence, room string, users ...string) {
	t.Helper()
	for _, user := range users {
		if err := p.Leave(context.Background(), room, user); err != nil {
			t.Fatalf("leave %q from %q: %v", user, room, err)
		}
	}
}

// Users returns the users of room on p or fails the test.
func Users(t testing.TB, p presence.Presence, room string) []string {
	t.Helper()
	got, err := p.Users(context.Background(), room)
	if err != nil {
		t.Fatalf("users of %q: %v", room, err)
	}
	return got
}

// WantUsers fails the test unless p lists exactly want (sorted, without
// duplicates) in room.
func WantUsers(t testing.TB, p presence.Presence, room string, want ...string) {
	t.Helper()
	if got := Users(t, p, room); !slices.Equal(got, want) {
		t.Fatalf("users of %q = %q, want %q", room, got, want)
	}
}

// UsersAre is a check for testenv.Eventually: nil once p lists exactly
// want in room.
func UsersAre(p presence.Presence, room string, want ...string) func() error {
	return func() error {
		got, err := p.Users(context.Background(), room)
		if err != nil {
			return err
		}
		if !slices.Equal(got, want) {
			return fmt.Errorf("users of %q = %q, want %q", room, got, want)
		}
		return nil
	}
}
