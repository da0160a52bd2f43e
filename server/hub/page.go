package hub

import "github.com/parleychat/parley/server/store"

// messageOverhead approximates what a message costs on the wire beyond its
// body, author and cid (field names, offset, timestamp).
const messageOverhead = 80

// reactionOverhead approximates what one reaction costs beyond its
// emoji and users (field names, count, quotes).
const reactionOverhead = 32

// MessageCost is roughly how many bytes m takes in a frame.
func MessageCost(m *store.Message) int {
	n := len(m.Body) + len(m.Author) + len(m.CID) + len(m.Room) + messageOverhead
	for _, r := range m.Reactions {
		n += len(r.Emoji) + reactionOverhead
		for _, u := range r.Users {
			n += len(u) + 3
		}
	}
	return n
}

// NewestWithin returns the newest messages of msgs (ascending by offset)
// whose costs add up to at most maxBytes, always at least one, and
// whether it dropped any: a page or backlog is bounded in bytes as well
// as in count, and the client pages back for the rest.
func NewestWithin(msgs []store.Message, maxBytes int) ([]store.Message, bool) {
	total := 0
	for i := len(msgs) - 1; i >= 0; i-- {
		total += MessageCost(&msgs[i])
		if total > maxBytes && i < len(msgs)-1 {
			return msgs[i+1:], true
		}
	}
	return msgs, false
}
