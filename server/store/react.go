package store

import (
	"fmt"

	"github.com/parleychat/parley/shared/protocol"
)

// checkReact refuses anything but a reaction event with a known emoji.
func checkReact(e Message) error {
	if e.Kind != protocol.MsgReact && e.Kind != protocol.MsgUnreact {
		return fmt.Errorf("react kind %q: neither react nor unreact", e.Kind)
	}
	if !protocol.IsReaction(e.Body) {
		return fmt.Errorf("reaction %q: not one of protocol.Reactions", e.Body)
	}
	return nil
}

// reactVerdict decides whether a reaction may be added to or removed
// from target.
func reactVerdict(target Message) error {
	switch {
	case target.Kind != "":
		return fmt.Errorf("offset %d is an %s, not a message: %w", target.Offset, target.Kind, ErrNotFound)
	case target.Deleted:
		return fmt.Errorf("message %d: %w", target.Offset, ErrGone)
	}
	return nil
}

// reactNoop is what React returns for a reaction that changes nothing:
// e itself under the target's offset (nothing was stored).
func reactNoop(e Message) Message {
	e.Offset, e.TS = e.Target, now()
	return e
}

// reactionRow is one user's reaction to the message at target.
type reactionRow struct {
	target      int64
	emoji, user string
}

// attachReactions sets the Reactions of the messages in msgs from rows,
// which are sorted by target, then user in byte order (emoji in any
// order). Events and deleted messages have none.
func attachReactions(msgs []Message, rows []reactionRow) {
	at := make(map[int64]*Message, len(msgs))
	for i := range msgs {
		if msgs[i].Kind == "" && !msgs[i].Deleted {
			at[msgs[i].Offset] = &msgs[i]
		}
	}
	for _, r := range rows {
		m := at[r.target]
		idx := protocol.ReactionIndex(r.emoji)
		if m == nil || idx < 0 {
			continue
		}
		if m.Reactions == nil {
			m.Reactions = make([]protocol.Reaction, len(protocol.Reactions))
		}
		re := &m.Reactions[idx]
		re.Emoji = r.emoji
		re.Count++
		if len(re.Users) < protocol.MaxReactionUsers {
			re.Users = append(re.Users, r.user)
		}
	}
	for _, m := range at {
		if m.Reactions == nil {
			continue
		}
		kept := m.Reactions[:0]
		for _, re := range m.Reactions {
			if re.Count > 0 {
				kept = append(kept, re)
			}
		}
		m.Reactions = kept
	}
}

// messageSpan is the lowest and highest offset of msgs (ascending).
func messageSpan(msgs []Message) (lo, hi int64) {
	return msgs[0].Offset, msgs[len(msgs)-1].Offset
}
