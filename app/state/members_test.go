package state

import (
	"testing"

	"github.com/parleychat/parley/shared/protocol"
)

func TestHeir(t *testing.T) {
	m := func(user, role string, joined int64) protocol.Member {
		return protocol.Member{User: user, Role: role, JoinedAt: joined}
	}
	tests := []struct {
		name    string
		members []protocol.Member
		heir    string
		last    bool
	}{
		{"not an owner", []protocol.Member{m("alice", "owner", 1), m("me", "member", 2)}, "", false},
		{"another owner remains", []protocol.Member{m("me", "owner", 1), m("bob", "owner", 2), m("carol", "moderator", 3)}, "", false},
		{"alone", []protocol.Member{m("me", "owner", 1)}, "", true},
		{"moderator before an older member", []protocol.Member{m("me", "owner", 1), m("ann", "member", 2), m("zed", "moderator", 5)}, "zed", true},
		{"longest standing member", []protocol.Member{m("me", "owner", 1), m("bob", "member", 4), m("cy", "member", 3)}, "cy", true},
		{"ties by name", []protocol.Member{m("me", "owner", 1), m("dan", "moderator", 3), m("bea", "moderator", 3)}, "bea", true},
	}
	for _, tt := range tests {
		heir, last := Heir(tt.members, "me")
		if heir != tt.heir || last != tt.last {
			t.Errorf("%s: Heir = %q, %v; want %q, %v", tt.name, heir, last, tt.heir, tt.last)
		}
	}
}
