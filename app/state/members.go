package state

import (
	"cmp"
	"slices"

	"github.com/parleychat/parley/shared/protocol"
)

// Heir tells what happens to a room when me leaves it, as the node does
// it (store.LeaveRoom): when me is its last owner, the longest standing
// moderator, else member, becomes owner (ties by name). last reports
// whether me is the last owner; heir is "" when nobody else remains.
func Heir(members []protocol.Member, me string) (heir string, last bool) {
	owners, mine := 0, false
	for _, m := range members {
		if m.Role == protocol.RoleOwner {
			owners++
			mine = mine || m.User == me
		}
	}
	if !mine || owners > 1 {
		return "", false
	}
	rank := func(role string) int {
		if role == protocol.RoleModerator {
			return 0
		}
		return 1
	}
	others := slices.DeleteFunc(slices.Clone(members), func(m protocol.Member) bool { return m.User == me })
	if len(others) == 0 {
		return "", true
	}
	best := slices.MinFunc(others, func(x, y protocol.Member) int {
		return cmp.Or(cmp.Compare(rank(x.Role), rank(y.Role)), cmp.Compare(x.JoinedAt, y.JoinedAt), cmp.Compare(x.User, y.User))
	})
	return best.User, true
}

// LeaveText says what leaving a room does to it when the user is its
// last owner (see Heir).
func LeaveText(heir string) string {
	if heir == "" {
		return "You are the only member: the room will be left with nobody in it."
	}
	return "You are the last owner: if you leave, " + heir + " becomes the owner."
}
