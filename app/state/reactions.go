package state

import (
	"slices"
	"strings"

	"github.com/parleychat/parley/shared/protocol"
)

// RowReaction is one button of a message's reaction bar.
type RowReaction struct {
	Emoji string
	// Count is how many users reacted with Emoji; Mine says the user is
	// one of them.
	Count int
	Mine  bool
}

// rowReactions is the reaction bar of m for user me: one entry per emoji
// of protocol.Reactions, in that order, with its count (often 0).
func rowReactions(m *protocol.Message, me string) []RowReaction {
	out := make([]RowReaction, len(protocol.Reactions))
	for i, e := range protocol.Reactions {
		out[i].Emoji = e
	}
	for _, r := range m.Reactions {
		i := protocol.ReactionIndex(r.Emoji)
		if i < 0 {
			continue // an emoji this version does not know
		}
		out[i].Count = r.Count
		out[i].Mine = slices.ContainsFunc(r.Users, func(u string) bool { return strings.EqualFold(u, me) })
	}
	return out
}

// applyReaction applies the reaction event e to msg unless msg's state
// already includes it (e.Offset <= msg.Reacted): Author joins (react) or
// leaves (unreact) the users of the emoji e.Body, and the count follows.
// msg.Reactions is replaced, never changed in place, so clones that share
// it keep theirs.
func applyReaction(msg *protocol.Message, e *protocol.Message) {
	if msg.Deleted || e.Offset <= msg.Reacted {
		return
	}
	msg.Reacted = e.Offset
	out := make([]protocol.Reaction, 0, len(msg.Reactions)+1)
	found := false
	for _, r := range msg.Reactions {
		if r.Emoji != e.Body {
			out = append(out, r)
			continue
		}
		found = true
		if r = withUser(r, e.Author, e.Kind == protocol.MsgReact); r.Count > 0 {
			out = append(out, r)
		}
	}
	if !found && e.Kind == protocol.MsgReact {
		out = append(out, protocol.Reaction{Emoji: e.Body, Count: 1, Users: []string{e.Author}})
	}
	slices.SortStableFunc(out, func(a, b protocol.Reaction) int {
		return protocol.ReactionIndex(a.Emoji) - protocol.ReactionIndex(b.Emoji)
	})
	if len(out) == 0 {
		out = nil
	}
	msg.Reactions = out
}

// withUser returns r with user added (add) or removed, changing nothing
// when user is already so. A user not listed in a reaction that lists
// fewer users than its count (protocol.MaxReactionUsers) may be one of
// the unlisted ones: a removal counts down only for a listed user, and an
// addition counts up.
func withUser(r protocol.Reaction, user string, add bool) protocol.Reaction {
	i := slices.IndexFunc(r.Users, func(u string) bool { return strings.EqualFold(u, user) })
	switch {
	case add && i < 0:
		r.Users = append(slices.Clip(r.Users), user)
		slices.Sort(r.Users)
		r.Count++
	case !add && i >= 0:
		r.Users = slices.Delete(slices.Clone(r.Users), i, i+1)
		r.Count--
	}
	return r
}
