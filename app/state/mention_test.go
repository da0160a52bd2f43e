package state

import "testing"

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
