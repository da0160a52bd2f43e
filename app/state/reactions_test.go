package state

import (
	"fmt"
	"testing"
	"time"

	"github.com/parleychat/parley/shared/protocol"
)

func reactEv(off, target int64, user, emoji string, add bool) protocol.Message {
	kind := protocol.MsgUnreact
	if add {
		kind = protocol.MsgReact
	}
	return protocol.Message{Room: "general", Offset: off, Author: user, Body: emoji, TS: off * 1000, Kind: kind, Target: target}
}

// bar renders the reaction bar of the row at offset off for me, counted
// emoji only, as "👍2*" (* when mine).
func bar(t *testing.T, tl *Timeline, me string, off int64) string {
	t.Helper()
	for _, r := range Rows(tl, me, time.UnixMilli(0), time.UTC) {
		if r.Kind != RowMessage || r.Offset != off {
			continue
		}
		if len(r.Reactions) != 0 && len(r.Reactions) != len(protocol.Reactions) {
			t.Fatalf("row %d has %d reaction buttons, want %d", off, len(r.Reactions), len(protocol.Reactions))
		}
		s := ""
		for _, rr := range r.Reactions {
			if rr.Count > 0 {
				s += fmt.Sprint(rr.Emoji, rr.Count)
				if rr.Mine {
					s += "*"
				}
			}
		}
		return s
	}
	t.Fatalf("no row at offset %d", off)
	return ""
}

func TestTimelineReactionsLive(t *testing.T) {
	var tl Timeline
	tl.Add("me", msg(1, "a"), msg(2, "b"))
	tl.Add("me", reactEv(3, 1, "bob", "👍", true))
	tl.Add("me", reactEv(4, 1, "me", "👍", true))
	tl.Add("me", reactEv(5, 1, "me", "🎉", true))
	if got := bar(t, &tl, "me", 1); got != "👍2*🎉1*" {
		t.Fatalf("bar = %q, want 👍2*🎉1*", got)
	}
	if got := bar(t, &tl, "bob", 1); got != "👍2*🎉1" {
		t.Fatalf("bob's bar = %q", got)
	}
	tl.Add("me", reactEv(6, 1, "Me", "👍", false)) // names compare case-insensitively
	tl.Add("me", reactEv(4, 1, "me", "👍", true))  // a replay changes nothing
	if got := bar(t, &tl, "me", 1); got != "👍1🎉1*" {
		t.Fatalf("bar after removal = %q, want 👍1🎉1*", got)
	}
	if got := bar(t, &tl, "me", 2); got != "" {
		t.Fatalf("another message got reactions: %q", got)
	}
	if m, _ := tl.Message(1); m.Reacted != 6 {
		t.Fatalf("reacted = %d, want 6", m.Reacted)
	}
}

// A message read from history includes the events up to its Reacted:
// those arriving again are not counted twice, later ones are.
func TestTimelineReactionsAfterHistory(t *testing.T) {
	var tl Timeline
	m := msg(1, "a")
	m.Reactions, m.Reacted = []protocol.Reaction{{Emoji: "❤️", Count: 2, Users: []string{"bob", "me"}}}, 3
	tl.AddPage("me", []protocol.Message{m, reactEv(2, 1, "bob", "❤️", true), reactEv(3, 1, "me", "❤️", true)}, false)
	if got := bar(t, &tl, "me", 1); got != "❤️2*" {
		t.Fatalf("bar from history = %q, want ❤️2*", got)
	}
	tl.Add("me", reactEv(4, 1, "bob", "❤️", false), reactEv(5, 1, "carol", "😢", true))
	if got := bar(t, &tl, "me", 1); got != "❤️1*😢1" {
		t.Fatalf("bar after live events = %q, want ❤️1*😢1", got)
	}
	// A newer copy of the message (a later history read) replaces an
	// older state; an older copy does not.
	newer := msg(1, "a")
	newer.Reactions, newer.Reacted = []protocol.Reaction{{Emoji: "😂", Count: 1, Users: []string{"dan"}}}, 9
	tl.Add("me", newer)
	if got := bar(t, &tl, "me", 1); got != "😂1" {
		t.Fatalf("bar after a newer copy = %q, want 😂1", got)
	}
	tl.Add("me", m)
	if got := bar(t, &tl, "me", 1); got != "😂1" {
		t.Fatalf("an older copy changed the bar: %q", got)
	}
}

// Events held before their message (a newer page first) apply when it
// arrives, in offset order, whatever order they came in.
func TestTimelineReactionsBeforeTheirMessage(t *testing.T) {
	var tl Timeline
	tl.AddPage("me", []protocol.Message{reactEv(6, 2, "me", "😮", false), msg(7, "b")}, true)
	tl.Add("me", reactEv(5, 2, "me", "😮", true))
	tl.AddPage("me", []protocol.Message{msg(1, "a"), msg(2, "a"), msg(3, "a"), msg(4, "a")}, false)
	if got := bar(t, &tl, "me", 2); got != "" {
		t.Fatalf("bar = %q, want none (added at 5, removed at 6)", got)
	}
	tl.Add("me", reactEv(8, 2, "me", "😮", true))
	if got := bar(t, &tl, "me", 2); got != "😮1*" {
		t.Fatalf("bar = %q, want 😮1*", got)
	}
}

func TestTimelineReactionsGoWithDeletion(t *testing.T) {
	var tl Timeline
	tl.Add("me", msg(1, "a"), reactEv(2, 1, "bob", "👍", true), del(3, 1))
	if m, _ := tl.Message(1); !m.Deleted || m.Reactions != nil {
		t.Fatalf("deleted message = %+v", m)
	}
	for _, r := range Rows(&tl, "me", time.UnixMilli(0), time.UTC) {
		if r.Offset == 1 && r.Reactions != nil {
			t.Fatalf("a deleted row has a reaction bar: %+v", r)
		}
	}
	tl.Add("me", reactEv(4, 1, "bob", "🎉", true)) // a late event changes nothing
	if m, _ := tl.Message(1); m.Reactions != nil {
		t.Fatalf("a reaction came back on a deleted message: %+v", m)
	}
}

// Clones share nothing a later event changes.
func TestTimelineReactionsClone(t *testing.T) {
	var tl Timeline
	tl.Add("me", msg(1, "a"), reactEv(2, 1, "bob", "👍", true))
	c := tl.Clone()
	tl.Add("me", reactEv(3, 1, "carol", "👍", true), reactEv(4, 1, "bob", "👍", false))
	if got := bar(t, &c, "me", 1); got != "👍1" {
		t.Fatalf("the clone's bar changed to %q", got)
	}
	if got := bar(t, &tl, "me", 1); got != "👍1" {
		t.Fatalf("bar = %q", got)
	}
	if m, _ := tl.Message(1); fmt.Sprint(m.Reactions) != "[{👍 1 [carol]}]" {
		t.Fatalf("reactions = %v", m.Reactions)
	}
}
