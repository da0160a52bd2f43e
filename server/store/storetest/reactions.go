package storetest

import (
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/parleychat/parley/server/store"
	"github.com/parleychat/parley/shared/protocol"
)

var reactionTests = []test{
	{"AddRemove", testReactAddRemove},
	{"AddTwiceRemoveMissing", testReactNoop},
	{"Idempotent", testReactIdempotent},
	{"Refused", testReactRefused},
	{"DeleteTakesReactions", testReactDelete},
	{"Concurrent", testReactConcurrent},
}

// react stores user's reaction emoji (add) or its removal on target.
func react(t *testing.T, s store.Store, room, user, cid string, target int64, emoji string, add bool) (store.Message, bool, error) {
	t.Helper()
	kind := protocol.MsgUnreact
	if add {
		kind = protocol.MsgReact
	}
	return s.React(t.Context(), store.Message{Room: room, Author: user, CID: cid, Kind: kind, Target: target, Body: emoji})
}

func mustReact(t *testing.T, s store.Store, room, user, cid string, target int64, emoji string, add bool) store.Message {
	t.Helper()
	e, dup, err := react(t, s, room, user, cid, target, emoji, add)
	if err != nil || dup {
		t.Fatalf("React(%s %d by %s, %q, add %v): %+v, dup %v, %v", room, target, user, emoji, add, e, dup, err)
	}
	return e
}

// reactionsOf renders a message's reactions as "emoji count users…" lines.
func reactionsOf(m store.Message) []string {
	var out []string
	for _, r := range m.Reactions {
		out = append(out, fmt.Sprintf("%s %d %v", r.Emoji, r.Count, r.Users))
	}
	return out
}

func wantReactions(t *testing.T, s store.Store, room string, offset int64, want ...string) store.Message {
	t.Helper()
	m := byOffset(t, s, room)[offset]
	if got := reactionsOf(m); !slices.Equal(got, want) {
		t.Fatalf("reactions of message %d = %q, want %q", offset, got, want)
	}
	return m
}

func testReactAddRemove(t *testing.T, s store.Store) {
	mustRoom(t, s, "r")
	orig, _ := mustAppend(t, s, "r", "alice", "hi", "c1")
	other, _ := mustAppend(t, s, "r", "bob", "there", "c2")
	e := mustReact(t, s, "r", "bob", "x1", orig.Offset, "🎉", true)
	if e.Offset != 3 || e.Kind != protocol.MsgReact || e.Target != 1 || e.Body != "🎉" || e.Author != "bob" || e.CID != "x1" {
		t.Fatalf("react event = %+v", e)
	}
	checkTime(t, "react TS", e.TS)
	mustReact(t, s, "r", "alice", "x2", orig.Offset, "🎉", true)
	last := mustReact(t, s, "r", "carol", "x3", orig.Offset, "👍", true)
	checkHead(t, s, "r", 5)
	m := wantReactions(t, s, "r", orig.Offset, "👍 1 [carol]", "🎉 2 [alice bob]") // protocol.Reactions order, users in byte order
	if m.Reacted != last.Offset || m.Body != "hi" {
		t.Fatalf("reacted message = %+v, want reacted %d", m, last.Offset)
	}
	wantReactions(t, s, "r", other.Offset)
	if ev := byOffset(t, s, "r")[3]; ev.Kind != protocol.MsgReact || ev.Target != 1 || ev.Body != "🎉" || ev.Reactions != nil {
		t.Fatalf("react event in history = %+v", ev)
	}
	un := mustReact(t, s, "r", "Bob", "x4", orig.Offset, "🎉", false) // names are case-insensitive
	if un.Offset != 6 || un.Kind != protocol.MsgUnreact {
		t.Fatalf("unreact event = %+v", un)
	}
	m = wantReactions(t, s, "r", orig.Offset, "👍 1 [carol]", "🎉 1 [alice]")
	if m.Reacted != un.Offset {
		t.Fatalf("reacted = %d after unreact at %d", m.Reacted, un.Offset)
	}
}

func testReactNoop(t *testing.T, s store.Store) {
	mustRoom(t, s, "r")
	orig, _ := mustAppend(t, s, "r", "alice", "hi", "c1")
	first := mustReact(t, s, "r", "bob", "x1", orig.Offset, "❤️", true)
	for i, tc := range []struct {
		user string
		add  bool
	}{{"bob", true}, {"BOB", true}, {"carol", false}} {
		e, dup, err := react(t, s, "r", tc.user, fmt.Sprintf("n%d", i), orig.Offset, "❤️", tc.add)
		if err != nil || !dup || e.Offset != orig.Offset {
			t.Fatalf("no-op reaction %d by %s = %+v, dup %v, %v; want dup at the target's offset", i, tc.user, e, dup, err)
		}
	}
	mustReact(t, s, "r", "bob", "x2", orig.Offset, "❤️", false)
	_, dup, err := react(t, s, "r", "bob", "x3", orig.Offset, "❤️", false)
	if err != nil || !dup {
		t.Fatalf("second unreact: dup %v, %v", dup, err)
	}
	checkHead(t, s, "r", 3)
	m := wantReactions(t, s, "r", orig.Offset)
	if m.Reacted != first.Offset+1 {
		t.Fatalf("reacted = %d, want %d (no-ops record nothing)", m.Reacted, first.Offset+1)
	}
}

func testReactIdempotent(t *testing.T, s store.Store) {
	mustRoom(t, s, "r")
	orig, _ := mustAppend(t, s, "r", "alice", "hi", "c1")
	other, _ := mustAppend(t, s, "r", "alice", "there", "c2")
	e := mustReact(t, s, "r", "bob", "x1", orig.Offset, "😂", true)
	mustReact(t, s, "r", "bob", "x2", orig.Offset, "😂", false)
	again, dup, err := react(t, s, "r", "bob", "x1", orig.Offset, "😂", true)
	if err != nil || !dup || again.Offset != e.Offset || again.Kind != protocol.MsgReact {
		t.Fatalf("resent react = %+v, dup %v, %v; want the first (offset %d)", again, dup, err, e.Offset)
	}
	wantReactions(t, s, "r", orig.Offset) // the resend did not add it back
	_, _, err = react(t, s, "r", "bob", "x1", other.Offset, "😂", true)
	wantErr(t, "a cid reused for another target", err, store.ErrConflict)
	_, _, err = react(t, s, "r", "alice", "c2", orig.Offset, "😂", true)
	wantErr(t, "a message's cid reused for a reaction", err, store.ErrConflict)
	checkHead(t, s, "r", 4)
}

func testReactRefused(t *testing.T, s store.Store) {
	mustRoom(t, s, "r")
	orig, _ := mustAppend(t, s, "r", "alice", "hi", "c1")
	e := mustReact(t, s, "r", "bob", "x1", orig.Offset, "😮", true)
	for _, target := range []int64{99, e.Offset} {
		_, _, err := react(t, s, "r", "bob", fmt.Sprint("t", target), target, "😮", true)
		wantErr(t, "reaction to a missing message or an event", err, store.ErrNotFound)
	}
	_, _, err := react(t, s, "nowhere", "bob", "y", 1, "😮", true)
	wantErr(t, "reaction in an unknown room", err, store.ErrNotFound)
	for _, emoji := range []string{"", "🦄", "hi"} {
		if _, _, err := react(t, s, "r", "bob", "z", orig.Offset, emoji, true); err == nil {
			t.Fatalf("reaction %q accepted", emoji)
		}
	}
	checkHead(t, s, "r", 2)
	wantReactions(t, s, "r", orig.Offset, "😮 1 [bob]")
}

func testReactDelete(t *testing.T, s store.Store) {
	mustRoom(t, s, "r")
	orig, _ := mustAppend(t, s, "r", "alice", "hi", "c1")
	mustReact(t, s, "r", "bob", "x1", orig.Offset, "😢", true)
	mustReact(t, s, "r", "carol", "x2", orig.Offset, "😢", true)
	mustAmend(t, s, "r", "alice", "d1", orig.Offset, "", false)
	if m := wantReactions(t, s, "r", orig.Offset); !m.Deleted {
		t.Fatalf("message not deleted: %+v", m)
	}
	for _, add := range []bool{true, false} {
		_, _, err := react(t, s, "r", "bob", fmt.Sprint("a", add), orig.Offset, "😢", add)
		wantErr(t, "reaction to a deleted message", err, store.ErrGone)
	}
	checkHead(t, s, "r", 4)
}

// testReactConcurrent has many users react to one message at once, each
// twice with its own cid: every user is counted once.
func testReactConcurrent(t *testing.T, s store.Store) {
	mustRoom(t, s, "r")
	orig, _ := mustAppend(t, s, "r", "alice", "hi", "c1")
	const users = 8
	var wg sync.WaitGroup
	errs := make(chan error, 2*users)
	for i := range 2 * users {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, _, err := s.React(t.Context(), store.Message{Room: "r", Author: fmt.Sprintf("u%d", i%users), CID: fmt.Sprint("k", i),
				Kind: protocol.MsgReact, Target: orig.Offset, Body: "👍"})
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("concurrent react: %v", err)
		}
	}
	checkHead(t, s, "r", 1+users)
	m := byOffset(t, s, "r")[orig.Offset]
	if len(m.Reactions) != 1 || m.Reactions[0].Count != users || len(m.Reactions[0].Users) != users || m.Reacted != 1+users {
		t.Fatalf("after concurrent reactions: %+v", m)
	}
}
