package state

import (
	"slices"
	"strings"

	"github.com/parleychat/parley/shared/protocol"
)

// Picks are the people picked in a room's people list for a new direct
// conversation, by name.
type Picks map[string]bool

// Toggle picks user, or unpicks them when picked. It refuses (and
// reports false) a pick past protocol.MaxDirectUsers-1 people: with the
// user, that is as many as a direct room holds.
func (p Picks) Toggle(user string) bool {
	if p[user] {
		delete(p, user)
		return true
	}
	if len(p) >= protocol.MaxDirectUsers-1 {
		return false
	}
	p[user] = true
	return true
}

// Full reports whether no one more may be picked.
func (p Picks) Full() bool { return len(p) >= protocol.MaxDirectUsers-1 }

// Of returns the picked people still among present, except me, by
// lowercased name: who a conversation started now is with.
func (p Picks) Of(present []string, me string) []string {
	var out []string
	for _, u := range present {
		if p[u] && u != me && !slices.Contains(out, u) {
			out = append(out, u)
		}
	}
	slices.SortFunc(out, func(a, b string) int { return strings.Compare(strings.ToLower(a), strings.ToLower(b)) })
	return out
}

// PeopleLabel names a direct room by its other people: "Bob",
// "Bob and carol", "Bob, carol and dave".
func PeopleLabel(peers []string) string {
	switch len(peers) {
	case 0:
		return ""
	case 1:
		return peers[0]
	}
	return strings.Join(peers[:len(peers)-1], ", ") + " and " + peers[len(peers)-1]
}
