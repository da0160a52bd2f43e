package presencetest

import (
	"fmt"
	"slices"
	"testing"
)

var memberTests = []test{
	{"EmptyRoom", testEmptyRoom},
	{"JoinLists", testJoinLists},
	{"UsersSorted", testUsersSorted},
	{"JoinTwiceListsOnce", testJoinTwice},
	{"LeaveRemoves", testLeaveRemoves},
	{"LeaveAbsentIsNoOp", testLeaveAbsent},
	{"RoomsAreIndependent", testRoomsIndependent},
	{"NamesAreOpaque", testNamesOpaque},
	{"WorksBeforeRun", testBeforeRun},
}

// started returns a fresh Presence whose Run runs until the test ends, as
// the hub's does.
func started(t *testing.T, open Opener) *Node {
	t.Helper()
	return Start(t, open(t))
}

func testEmptyRoom(t *testing.T, open Opener) {
	p := started(t, open)
	if got := Users(t, p, "nobody-here"); len(got) != 0 {
		t.Fatalf("users of a room nobody joined = %q, want none", got)
	}
}

func testJoinLists(t *testing.T, open Opener) {
	p := started(t, open)
	Join(t, p, "room", "zoe")
	WantUsers(t, p, "room", "zoe")
	Join(t, p, "room", "al")
	WantUsers(t, p, "room", "al", "zoe")
}

// testUsersSorted joins many users out of order: Users sorts them by
// bytes, so "Zoe" < "al" < "Äda".
func testUsersSorted(t *testing.T, open Opener) {
	p := started(t, open)
	const n = 30
	var want []string
	for i := range n {
		Join(t, p, "room", fmt.Sprintf("user-%02d", i*7%n)) // 7 and 30 are coprime
		want = append(want, fmt.Sprintf("user-%02d", i))
	}
	Join(t, p, "room", "Äda", "al", "Zoe")
	want = append([]string{"Zoe", "al"}, append(want, "Äda")...)
	WantUsers(t, p, "room", want...)
}

// testJoinTwice: the hub joins each (room, user) once per node, but a
// repeat must not list the user twice.
func testJoinTwice(t *testing.T, open Opener) {
	p := started(t, open)
	Join(t, p, "room", "zoe", "al", "zoe")
	WantUsers(t, p, "room", "al", "zoe")
}

func testLeaveRemoves(t *testing.T, open Opener) {
	p := started(t, open)
	Join(t, p, "room", "zoe", "al", "bo")
	Leave(t, p, "room", "al")
	WantUsers(t, p, "room", "bo", "zoe")
	Leave(t, p, "room", "zoe", "bo")
	WantUsers(t, p, "room")
	// Coming back after leaving works like the first time.
	Join(t, p, "room", "al")
	WantUsers(t, p, "room", "al")
}

// testLeaveAbsent: leaving a room or user never joined does nothing and
// returns nil (the hub's Leave after a failed Join, for one).
func testLeaveAbsent(t *testing.T, open Opener) {
	p := started(t, open)
	Leave(t, p, "never", "zoe")
	WantUsers(t, p, "never")
	Join(t, p, "room", "zoe")
	Leave(t, p, "room", "al")
	Leave(t, p, "other", "zoe")
	WantUsers(t, p, "room", "zoe")
	Leave(t, p, "room", "zoe")
	Leave(t, p, "room", "zoe")
	WantUsers(t, p, "room")
}

func testRoomsIndependent(t *testing.T, open Opener) {
	p := started(t, open)
	Join(t, p, "a", "zoe", "al")
	Join(t, p, "b", "zoe")
	Join(t, p, "c", "bo")
	WantUsers(t, p, "a", "al", "zoe")
	WantUsers(t, p, "b", "zoe")
	WantUsers(t, p, "c", "bo")
	Leave(t, p, "a", "zoe")
	WantUsers(t, p, "a", "al")
	WantUsers(t, p, "b", "zoe")
	Leave(t, p, "b", "zoe")
	WantUsers(t, p, "b")
	WantUsers(t, p, "a", "al")
	WantUsers(t, p, "c", "bo")
}

// testNamesOpaque: rooms and users are any strings; one that looks like
// another's prefix, or like an implementation's separator, is still
// itself.
func testNamesOpaque(t *testing.T, open Opener) {
	p := started(t, open)
	rooms := []string{"a", "a:b", "a\x00b", "a*", "ä room\r\n"}
	users := []string{"b\x00zoe", "x:y", "with space", "ünï", "*", "%d"}
	for i, room := range rooms {
		Join(t, p, room, users[i:]...)
	}
	for i, room := range rooms {
		want := slices.Sorted(slices.Values(users[i:]))
		WantUsers(t, p, room, want...)
	}
	Leave(t, p, "a", users...)
	WantUsers(t, p, "a")
	WantUsers(t, p, "a:b", slices.Sorted(slices.Values(users[1:]))...)
}

// testBeforeRun: the hub may join a user before Run's goroutine has
// started; the entry must be there, and stay once Run runs.
func testBeforeRun(t *testing.T, open Opener) {
	p := open(t)
	Join(t, p, "room", "zoe", "al")
	Leave(t, p, "room", "al")
	WantUsers(t, p, "room", "zoe")
	n := Start(t, p)
	Join(t, n, "room", "bo")
	WantUsers(t, n, "room", "bo", "zoe")
}
