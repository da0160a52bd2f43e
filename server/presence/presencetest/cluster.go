package presencetest

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/parleychat/parley/server/presence"
	"github.com/parleychat/parley/shared/testenv"
)

// RunCluster runs the multi-node suite: open returns nodes of one cluster
// per subtest (see Opener), and the suite runs and closes them. The nodes'
// entries must expire well within the suite's 30 s guard once a node
// crashes.
func RunCluster(t *testing.T, open Opener) {
	tests := []test{
		{"VisibleEverywhere", testVisibleEverywhere},
		{"SameUserOnTwoNodes", testSameUserTwoNodes},
		{"LeaveTouchesOwnEntryOnly", testLeaveOwnEntry},
		{"CloseLeavesAtOnce", testCloseLeaves},
		{"CrashedNodeExpires", testCrashExpires},
		{"ConcurrentNodes", testConcurrentNodes},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, open) })
	}
}

// nodes starts n nodes of one cluster.
func nodes(t *testing.T, open Opener, n int) []*Node {
	t.Helper()
	out := make([]*Node, n)
	for i := range out {
		out[i] = Start(t, open(t))
	}
	return out
}

// testVisibleEverywhere: what one node joins or leaves, every node lists
// by the time the call returns.
func testVisibleEverywhere(t *testing.T, open Opener) {
	ns := nodes(t, open, 2)
	a, b := ns[0], ns[1]
	WantUsers(t, b, "room")
	Join(t, a, "room", "zoe", "al")
	Join(t, b, "room", "bo")
	Join(t, a, "other", "zoe")
	for _, n := range ns {
		WantUsers(t, n, "room", "al", "bo", "zoe")
		WantUsers(t, n, "other", "zoe")
	}
	Leave(t, a, "room", "zoe")
	WantUsers(t, b, "room", "al", "bo")
	WantUsers(t, b, "other", "zoe")
	Leave(t, b, "room", "bo")
	WantUsers(t, a, "room", "al")
}

// testSameUserTwoNodes: a user connected to two nodes is listed once, and
// until both have left.
func testSameUserTwoNodes(t *testing.T, open Opener) {
	ns := nodes(t, open, 2)
	a, b := ns[0], ns[1]
	Join(t, a, "room", "zoe")
	Join(t, b, "room", "zoe", "bo")
	WantUsers(t, a, "room", "bo", "zoe")
	Leave(t, a, "room", "zoe")
	WantUsers(t, a, "room", "bo", "zoe")
	Leave(t, b, "room", "zoe")
	WantUsers(t, a, "room", "bo")
}

// testLeaveOwnEntry: a node leaving a user it never joined leaves the
// other nodes' entries alone.
func testLeaveOwnEntry(t *testing.T, open Opener) {
	ns := nodes(t, open, 2)
	a, b := ns[0], ns[1]
	Join(t, b, "room", "zoe")
	Leave(t, a, "room", "zoe")
	WantUsers(t, a, "room", "zoe")
}

// testCloseLeaves: a node that shuts down cleanly takes its users with it
// at once, not after an expiry.
func testCloseLeaves(t *testing.T, open Opener) {
	ns := nodes(t, open, 2)
	a, b := ns[0], ns[1]
	Join(t, a, "room", "zoe", "bo")
	Join(t, b, "room", "bo")
	Join(t, a, "other", "zoe")
	if err := a.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	WantUsers(t, b, "room", "bo")
	WantUsers(t, b, "other")
}

// testCrashExpires: nodes a, then e, stop without leaving. Their users
// vanish from every node's lists, and each time every node with users in
// an affected room is told, in sorted lists. A node's rooms without
// expiries, and rooms where it has no users, are not reported.
func testCrashExpires(t *testing.T, open Opener) {
	ns := nodes(t, open, 5)
	a, b, c, d, e := ns[0], ns[1], ns[2], ns[3], ns[4]
	// Many rooms, so that one report lists them in hash order unless the
	// implementation sorts.
	var rooms []string
	for i := range 20 {
		rooms = append(rooms, fmt.Sprintf("r%02d", i))
	}
	for _, room := range rooms {
		Join(t, a, room, "zoe")
		Join(t, b, room, "bo")
	}
	Join(t, a, "r01", "bo") // also on b: stays
	Join(t, c, "r01", "cy")
	Join(t, c, "quiet", "cy")
	Join(t, d, "d-only", "di")
	Join(t, e, "r01", "eve")
	WantUsers(t, d, "r01", "bo", "cy", "eve", "zoe")

	a.Crash(t)
	start := time.Now()
	testenv.Eventually(t, waitTimeout, "a's users to vanish", func() error {
		for _, room := range rooms {
			want := []string{"bo"}
			if room == "r01" {
				want = []string{"bo", "cy", "eve"}
			}
			if err := UsersAre(d, room, want...)(); err != nil {
				return err
			}
		}
		return nil
	})
	t.Logf("a's users gone after %v", time.Since(start))
	testenv.Eventually(t, waitTimeout, "b and c to report a's rooms", func() error {
		for _, room := range rooms {
			if err := reportedSince(b, "b", 0, room); err != nil {
				return err
			}
		}
		return reportedSince(c, "c", 0, "r01")
	})
	t.Logf("reported %v after the crash", time.Since(start))

	// Another expiry in a room already reported is reported again.
	nb, nc := len(b.Reports()), len(c.Reports())
	e.Crash(t)
	testenv.Eventually(t, waitTimeout, "e's user to vanish", UsersAre(d, "r01", "bo", "cy"))
	testenv.Eventually(t, waitTimeout, "b and c to report r01 again", func() error {
		if err := reportedSince(b, "b", nb, "r01"); err != nil {
			return err
		}
		return reportedSince(c, "c", nc, "r01")
	})

	if c.Reported("quiet") {
		t.Fatalf("c reported a room without expiries: %q", c.Reports())
	}
	if got := d.Reports(); len(got) != 0 {
		t.Fatalf("d, without users in the affected rooms, reported %q", got)
	}
	WantUsers(t, d, "quiet", "cy")
	WantUsers(t, d, "d-only", "di")
}

// reportedSince returns nil if one of n's reports after the first skip
// lists room.
func reportedSince(n *Node, name string, skip int, room string) error {
	reports := n.Reports()
	if slices.ContainsFunc(reports[skip:], func(rooms []string) bool { return slices.Contains(rooms, room) }) {
		return nil
	}
	return fmt.Errorf("%s has not reported %s: %q", name, room, reports[skip:])
}

// testConcurrentNodes joins and leaves from many goroutines on three
// nodes at once; every node ends up with the same, exact lists.
func testConcurrentNodes(t *testing.T, open Opener) {
	ns := nodes(t, open, 3)
	ps := make([]presence.Presence, len(ns))
	for i, n := range ns {
		ps[i] = n
	}
	joinLeaveConcurrently(t, ps)
}
