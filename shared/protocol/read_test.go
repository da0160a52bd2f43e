package protocol

import (
	"slices"
	"testing"
)

func TestMentioned(t *testing.T) {
	for _, tc := range []struct {
		body string
		want []string
	}{
		{"hi @alice", []string{"alice"}},
		{"@Alice: look", []string{"alice"}},
		{"thanks @alice.", []string{"alice.", "alice"}},
		{"@alice.bob", []string{"alice.bob"}},
		{"@alice..", []string{"alice..", "alice."}},
		{"mail bob@example.com", nil},
		{"@ali and @ali again @ALI", []string{"ali"}},
		{"@ alone, @-x, @", nil},
		{"@alice@bob", []string{"alice"}},
		{"(@bob) @carol!", []string{"bob", "carol"}},
	} {
		if got := Mentioned(tc.body); !slices.Equal(got, tc.want) {
			t.Errorf("Mentioned(%q) = %q, want %q", tc.body, got, tc.want)
		}
	}
}

func FuzzMentioned(f *testing.F) {
	f.Add("hi @alice.")
	f.Fuzz(func(t *testing.T, body string) {
		for _, name := range Mentioned(body) {
			if !ValidUsername(name) {
				t.Fatalf("Mentioned(%q) returned invalid %q", body, name)
			}
		}
	})
}
