// Package storetest is the conformance suite every store.Store
// implementation passes: the same tests run against SQLite and PostgreSQL,
// so both keep exactly the semantics documented in package store.
package storetest

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/parleychat/parley/server/store"
)

// Opener returns a fresh, empty store for one subtest and arranges (with
// t.Cleanup) for it to be closed when the subtest ends.
type Opener func(t *testing.T) store.Store

// NodesOpener returns n stores sharing one fresh, empty database, as n
// nodes of a cluster would, and arranges for them to be closed.
type NodesOpener func(t *testing.T, n int) []store.Store

// Run runs the conformance suite, each subtest on a store of its own.
func Run(t *testing.T, open Opener) {
	groups := []struct {
		name  string
		tests []test
	}{
		{"Users", userTests},
		{"RefreshTokens", tokenTests},
		{"Rooms", roomTests},
		{"Members", memberTests},
		{"Conversations", conversationTests},
		{"Direct", directTests},
		{"ReadMarkers", readTests},
		{"Append", appendTests},
		{"AppendAll", appendAllTests},
		{"History", historyTests},
		{"Edits", editTests},
		{"Reactions", reactionTests},
		{"Concurrency", concurrencyTests},
	}
	for _, g := range groups {
		t.Run(g.name, func(t *testing.T) {
			for _, tc := range g.tests {
				t.Run(tc.name, func(t *testing.T) { tc.fn(t, open(t)) })
			}
		})
	}
}

// test is one subtest of the suite.
type test struct {
	name string
	fn   func(t *testing.T, s store.Store)
}

// mustRoom creates room name or fails the test.
func mustRoom(t *testing.T, s store.Store, name string) store.Room {
	t.Helper()
	r, err := s.CreateRoom(t.Context(), name, "creator")
	if err != nil {
		t.Fatalf("CreateRoom(%q): %v", name, err)
	}
	return r
}

// mustAppend appends a message or fails the test.
func mustAppend(t *testing.T, s store.Store, room, author, body, cid string) (store.Message, bool) {
	t.Helper()
	m, dup, err := s.Append(t.Context(), store.Message{Room: room, Author: author, Body: body, CID: cid})
	if err != nil {
		t.Fatalf("Append(%s, %s, %q, cid %q): %v", room, author, body, cid, err)
	}
	return m, dup
}

// wantErr fails the test unless err is target.
func wantErr(t *testing.T, what string, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("%s: error %v, want %v", what, err, target)
	}
}

// refusedJoin is the error of a Join that must be refused; a refused
// Join that reports a new member fails the check (its error no longer
// matches).
func refusedJoin(joined bool, err error) error {
	if joined {
		return fmt.Errorf("refused Join reported a new member (error %v)", err)
	}
	return err
}

// checkTime fails the test unless ts is a UTC time of millisecond
// precision within a minute of now: the store keeps milliseconds, and
// PostgreSQL may stamp messages with the database's clock.
func checkTime(t *testing.T, what string, ts time.Time) {
	t.Helper()
	if ts.Location() != time.UTC {
		t.Errorf("%s: location %v, want UTC", what, ts.Location())
	}
	if ts.Nanosecond()%int(time.Millisecond) != 0 {
		t.Errorf("%s: %v has sub-millisecond precision", what, ts)
	}
	if d := time.Since(ts); d < -time.Minute || d > time.Minute {
		t.Errorf("%s: %v is %v away from now", what, ts, d)
	}
}
