package state

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/parleychat/parley/shared/protocol"
)

func TestPicks(t *testing.T) {
	p := Picks{}
	for _, u := range []string{"carol", "Bob", "me", "gone"} {
		if !p.Toggle(u) {
			t.Fatalf("Toggle(%s) refused", u)
		}
	}
	if got := p.Of([]string{"me", "Bob", "carol", "dave"}, "me"); !slices.Equal(got, []string{"Bob", "carol"}) {
		t.Fatalf("Of = %v, want Bob and carol (not me, not who left, not who was not picked)", got)
	}
	if !p.Toggle("carol") || p["carol"] {
		t.Fatal("a second Toggle did not unpick")
	}
	p = Picks{}
	for i := range protocol.MaxDirectUsers - 1 {
		if !p.Toggle(fmt.Sprint("user", i)) {
			t.Fatalf("pick %d refused", i)
		}
	}
	if !p.Full() || p.Toggle("one-more") || p["one-more"] {
		t.Fatalf("a pick past %d others was taken: %v", protocol.MaxDirectUsers-1, p)
	}
	if !p.Toggle("user0") || p.Full() {
		t.Fatal("unpicking from a full set failed")
	}
}

func TestPeopleLabel(t *testing.T) {
	for peers, want := range map[string]string{"": "", "Bob": "Bob", "Bob,carol": "Bob and carol", "Bob,carol,dave": "Bob, carol and dave"} {
		var list []string
		if peers != "" {
			list = strings.Split(peers, ",")
		}
		if got := PeopleLabel(list); got != want {
			t.Errorf("PeopleLabel(%v) = %q, want %q", list, got, want)
		}
	}
}
