package client_test

import (
	"slices"
	"testing"

	"github.com/parleychat/parley/shared/client"
)

func TestPresenceApply(t *testing.T) {
	var p client.Presence
	steps := []struct {
		ev    client.Event
		users []string
		count int
	}{
		// A delta before any full list starts from empty.
		{client.Event{Kind: client.EventPresence, Delta: true, Joined: []string{"bob"}, Count: 1}, []string{"bob"}, 1},
		// A full list replaces.
		{client.Event{Kind: client.EventPresence, Users: []string{"ann", "cat"}, Count: 2}, []string{"ann", "cat"}, 2},
		{client.Event{Kind: client.EventPresence, Delta: true, Joined: []string{"dan", "bob"}, Left: []string{"ann"}, Count: 3}, []string{"bob", "cat", "dan"}, 3},
		// Repeats change nothing: joining someone there, leaving someone gone.
		{client.Event{Kind: client.EventPresence, Delta: true, Joined: []string{"dan"}, Left: []string{"ann"}, Count: 3}, []string{"bob", "cat", "dan"}, 3},
		// Other kinds are ignored.
		{client.Event{Kind: client.EventTyping, User: "eve"}, []string{"bob", "cat", "dan"}, 3},
		// A capped list of a big room: count says more than it lists.
		{client.Event{Kind: client.EventPresence, Users: []string{"a1", "a2"}, Count: 5000}, []string{"a1", "a2"}, 5000},
		{client.Event{Kind: client.EventPresence, Delta: true, Left: []string{"a1"}, Count: 4999}, []string{"a2"}, 4999},
		// An empty full list empties it.
		{client.Event{Kind: client.EventPresence}, nil, 0},
	}
	for i, s := range steps {
		p.Apply(s.ev)
		if got := p.Users(); !slices.Equal(got, s.users) || p.Count() != s.count {
			t.Fatalf("step %d: users %v count %d, want %v %d", i, got, p.Count(), s.users, s.count)
		}
	}
	p.Reset()
	if len(p.Users()) != 0 || p.Count() != 0 {
		t.Fatal("Reset left something")
	}
}
