package hub

import (
	"fmt"
	"maps"
	"slices"
	"testing"

	"github.com/parleychat/parley/shared/protocol"
)

func TestDiffSorted(t *testing.T) {
	for _, tc := range []struct {
		from, to     []string
		joined, left []string
	}{
		{nil, nil, nil, nil},
		{nil, []string{"a", "b"}, []string{"a", "b"}, nil},
		{[]string{"a", "b"}, nil, nil, []string{"a", "b"}},
		{[]string{"a", "c", "e"}, []string{"a", "c", "e"}, nil, nil},
		{[]string{"a", "c", "e"}, []string{"b", "c", "d", "f"}, []string{"b", "d", "f"}, []string{"a", "e"}},
		{[]string{"b"}, []string{"a", "b", "c"}, []string{"a", "c"}, nil},
		{[]string{"a", "b", "c"}, []string{"b"}, nil, []string{"a", "c"}},
	} {
		joined, left := diffSorted(tc.from, tc.to)
		if !slices.Equal(joined, tc.joined) || !slices.Equal(left, tc.left) {
			t.Errorf("diffSorted(%v, %v) = joined %v left %v, want %v %v", tc.from, tc.to, joined, left, tc.joined, tc.left)
		}
	}
}

// TestDiffSortedRebuilds: applying the diff to from gives to, for lists
// drawn from a small alphabet so that every overlap occurs.
func TestDiffSortedRebuilds(t *testing.T) {
	names := []string{"a", "b", "c", "d", "e", "f"}
	subset := func(mask int) []string {
		var out []string
		for i, n := range names {
			if mask&(1<<i) != 0 {
				out = append(out, n)
			}
		}
		return out
	}
	for x := 0; x < 1<<len(names); x++ {
		for y := 0; y < 1<<len(names); y++ {
			from, to := subset(x), subset(y)
			joined, left := diffSorted(from, to)
			set := map[string]bool{}
			for _, u := range from {
				set[u] = true
			}
			for _, u := range left {
				if !set[u] {
					t.Fatalf("%v → %v: left %q was not there", from, to, u)
				}
				delete(set, u)
			}
			for _, u := range joined {
				if set[u] {
					t.Fatalf("%v → %v: joined %q was there already", from, to, u)
				}
				set[u] = true
			}
			if got := slices.Sorted(maps.Keys(set)); !slices.Equal(got, to) {
				t.Fatalf("%v → %v: applying joined %v left %v gives %v", from, to, joined, left, got)
			}
		}
	}
}

// TestPresenceFrameCapped: a room bigger than protocol.MaxPresenceUsers
// lists the first MaxPresenceUsers and counts all.
func TestPresenceFrameCapped(t *testing.T) {
	users := make([]string, protocol.MaxPresenceUsers+5)
	for i := range users {
		users[i] = fmt.Sprintf("user%05d", i)
	}
	f, err := protocol.Decode(encodePresence("big", users))
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Users) != protocol.MaxPresenceUsers || f.Count != len(users) || f.Users[0] != users[0] {
		t.Fatalf("presence of %d users lists %d (first %q), count %d", len(users), len(f.Users), f.Users[0], f.Count)
	}
}
