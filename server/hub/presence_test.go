package hub_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/parleychat/parley/server/hub"
	"github.com/parleychat/parley/shared/client"
	"github.com/parleychat/parley/shared/protocol"
	"github.com/parleychat/parley/shared/testenv"
)

// deltaRecorder is a recorder that negotiated protocol.FeaturePresenceDelta.
type deltaRecorder struct{ recorder }

func (*deltaRecorder) PresenceDeltas() bool { return true }

var _ hub.DeltaSubscriber = (*deltaRecorder)(nil)

// presenceOf applies every presence and presence_delta frame r received,
// as shared/client does, and returns the list it ends with.
func presenceOf(r *recorder) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var p client.Presence
	for _, f := range r.got {
		switch f.Type {
		case protocol.TypePresence:
			p.Apply(client.Event{Kind: client.EventPresence, Users: f.Users, Count: f.Count})
		case protocol.TypePresenceDelta:
			p.Apply(client.Event{Kind: client.EventPresence, Delta: true, Joined: f.Joined, Left: f.Left, Count: f.Count})
		}
	}
	return p.Users()
}

func hasPresence(r *recorder, want ...string) func() error {
	return func() error {
		if got := presenceOf(r); !slices.Equal(got, want) {
			return fmt.Errorf("%s's presence %v, want %v", r.user, got, want)
		}
		return nil
	}
}

// TestPresenceDeltas: a subscriber that takes deltas gets the full list
// once, then one delta per change naming only who changed; a subscriber
// without the feature gets the full list after every change; both end
// with the same list.
func TestPresenceDeltas(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, time.Hour)
	d := &deltaRecorder{recorder{user: "dee"}}
	old := &recorder{user: "old"}
	for _, s := range []hub.Subscriber{d, old} {
		if err := e.hub.Subscribe(ctx, s, "general", 0); err != nil {
			t.Fatal(err)
		}
	}
	testenv.Eventually(t, waitTimeout, "both see both", func() error {
		if err := hasPresence(&d.recorder, "dee", "old")(); err != nil {
			return err
		}
		return hasPresence(old, "dee", "old")()
	})
	// Joins one at a time: each is its own change.
	joiners := []*recorder{{user: "u1"}, {user: "u2"}, {user: "u3"}}
	want := []string{"dee", "old"}
	for _, j := range joiners {
		if err := e.hub.Subscribe(ctx, j, "general", 0); err != nil {
			t.Fatal(err)
		}
		want = append(want, j.user)
		slices.Sort(want)
		testenv.Eventually(t, waitTimeout, j.user+" seen", hasPresence(&d.recorder, want...))
		testenv.Eventually(t, waitTimeout, j.user+" seen by old", hasPresence(old, want...))
	}
	e.hub.Unsubscribe(joiners[1], "general")
	want = slices.DeleteFunc(want, func(u string) bool { return u == "u2" })
	testenv.Eventually(t, waitTimeout, "u2 gone", hasPresence(&d.recorder, want...))
	testenv.Eventually(t, waitTimeout, "u2 gone for old", hasPresence(old, want...))

	// dee got one full list (its subscribe) and then only deltas, none
	// naming more than the one user that changed.
	full := d.frames(protocol.TypePresence)
	if len(full) != 1 {
		t.Fatalf("delta subscriber got %d full lists, want 1 (at subscribe)", len(full))
	}
	for _, f := range d.frames(protocol.TypePresenceDelta) {
		if len(f.Joined)+len(f.Left) != 1 {
			t.Fatalf("delta names %v joined, %v left: want the one user that changed", f.Joined, f.Left)
		}
		if f.Count < 2 || f.Count > 5 {
			t.Fatalf("delta count %d", f.Count)
		}
	}
	if old.frames(protocol.TypePresenceDelta) != nil {
		t.Fatal("a subscriber without the feature got a presence_delta frame")
	}
	if got := old.frames(protocol.TypePresence); len(got[len(got)-1].Users) != len(want) {
		t.Fatalf("old subscriber's last full list %v, want %v", got[len(got)-1].Users, want)
	}

	// Asking for the list sends the full list to the asker only.
	before := len(old.frames(protocol.TypePresence))
	if err := e.hub.SendPresence(ctx, d, "general"); err != nil {
		t.Fatal(err)
	}
	if got := d.frames(protocol.TypePresence); len(got) != 2 || !slices.Equal(got[1].Users, want) || got[1].Count != len(want) {
		t.Fatalf("after a request: full lists %+v, want a second one of %v", got, want)
	}
	if got := len(old.frames(protocol.TypePresence)); got != before {
		t.Fatalf("a request by dee sent old %d frames", got-before)
	}
	if err := e.hub.SendPresence(ctx, joiners[1], "general"); err == nil {
		t.Fatal("SendPresence for a subscriber not in the room succeeded")
	}
}
