package state

import (
	"slices"
	"strings"
	"testing"

	"github.com/parleychat/parley/shared/protocol"
)

func TestMentions(t *testing.T) {
	cases := []struct {
		body string
		want bool
	}{
		{"@alice", true},
		{"hi @alice, look", true},
		{"HI @Alice!", true},
		{"thanks @alice.", true},
		{"thanks @alice. Next", true},
		{"(@alice)", true},
		{"@al", false},
		{"@alice2", false},
		{"@alice.b", false},
		{"@alice-b", false},
		{"mail alice@alice", false},
		{"alice", false},
		{"", false},
		{"@", false},
		{"@@alice", true},
		{"مرحبا @alice", true},
	}
	for _, c := range cases {
		if got := Mentions(c.body, "alice"); got != c.want {
			t.Errorf("Mentions(%q, alice) = %v, want %v", c.body, got, c.want)
		}
	}
	if Mentions("@alice", "") {
		t.Error("an empty user name is mentioned")
	}
}

// FuzzMentionsAgrees checks that the app's rule is the node's: a body
// mentions a user exactly when protocol.Mentioned (what the node counts
// in the room list) names them.
func FuzzMentionsAgrees(f *testing.F) {
	for _, s := range []string{"thanks @alice.", "@alice..", "@@alice", "@alice.b", "x@alice"} {
		f.Add(s, "alice")
	}
	f.Add("@alice.", "alice.")
	f.Fuzz(func(t *testing.T, body, user string) {
		if !protocol.ValidUsername(user) {
			return
		}
		want := slices.Contains(protocol.Mentioned(body), strings.ToLower(user))
		if got := Mentions(body, user); got != want {
			t.Fatalf("Mentions(%q, %q) = %v, protocol.Mentioned = %q", body, user, got, protocol.Mentioned(body))
		}
	})
}
