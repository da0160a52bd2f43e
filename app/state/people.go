package state

import (
	"slices"
	"time"

	"github.com/parleychat/parley/shared/protocol"
)

// Typing tracks who is typing in a room: each typing event shows the user
// for protocol.TypingTTL.
type Typing map[string]time.Time

// Saw records a typing event of user at now.
func (ty Typing) Saw(user string, now time.Time) {
	ty[user] = now.Add(protocol.TypingTTL)
}

// Stop forgets user, whose message just arrived.
func (ty Typing) Stop(user string) { delete(ty, user) }

// Active returns who is typing at now, except me, sorted; it forgets
// expired entries.
func (ty Typing) Active(now time.Time, me string) []string {
	var users []string
	for user, until := range ty {
		switch {
		case !now.Before(until):
			delete(ty, user)
		case user != me:
			users = append(users, user)
		}
	}
	slices.Sort(users)
	return users
}

// Presence orders a presence list for display: me first, then everyone
// else alphabetically, without duplicates.
func Presence(users []string, me string) []string {
	out := make([]string, 0, len(users))
	hasMe := false
	for _, u := range users {
		if u == me {
			hasMe = true
			continue
		}
		out = append(out, u)
	}
	slices.Sort(out)
	out = slices.Compact(out)
	if hasMe {
		out = append([]string{me}, out...)
	}
	return out
}
