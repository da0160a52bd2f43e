package hub_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/parleychat/parley/server/hub"
	"github.com/parleychat/parley/server/store"
	"github.com/parleychat/parley/shared/protocol"
)

// TestResubscribeReplaysOnlyWhenSinceMovesBack: repeating subscribe{since:1}
// on a connection already in the room costs one subscribed frame each
// time, no backlog and no presence read; a since below the first one
// replays from there.
func TestResubscribeReplaysOnlyWhenSinceMovesBack(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, time.Hour)
	e.append(t, 5)
	r := &recorder{user: "bob"}
	if err := e.hub.Subscribe(ctx, r, "general", 2); err != nil {
		t.Fatal(err)
	}
	if got := r.offsets(); !equal(got, []int64{3, 4, 5}) {
		t.Fatalf("first subscribe replayed %v, want [3 4 5]", got)
	}
	// The subscribe sent the list; the join's announcement changes
	// nothing, so it sends no other.
	presence := len(r.frames(protocol.TypePresence))
	if presence != 1 {
		t.Fatalf("subscribe sent %d presence frames, want 1", presence)
	}
	for i := 0; i < 50; i++ {
		for _, since := range []int64{2, 3, 5} {
			if err := e.hub.Resubscribe(ctx, r, "general", since); err != nil {
				t.Fatal(err)
			}
		}
	}
	if got := r.offsets(); !equal(got, []int64{3, 4, 5}) {
		t.Fatalf("150 resubscribes at or above since 2 replayed %v, want nothing new", got)
	}
	if got := len(r.frames(protocol.TypeSubscribed)); got != 151 {
		t.Fatalf("%d subscribed frames, want 151", got)
	}
	if got := len(r.frames(protocol.TypePresence)); got != presence {
		t.Fatalf("resubscribes sent %d presence frames, want none", got-presence)
	}
	// Moving since back replays from there.
	if err := e.hub.Resubscribe(ctx, r, "general", 1); err != nil {
		t.Fatal(err)
	}
	if got := r.offsets(); !equal(got, []int64{3, 4, 5, 2, 3, 4, 5}) {
		t.Fatalf("resubscribe from 1 replayed %v, want [2 3 4 5] more", got)
	}
	// A message stored but not yet delivered is sent by a resubscribe.
	e.append(t, 1)
	if err := e.hub.Resubscribe(ctx, r, "general", 5); err != nil {
		t.Fatal(err)
	}
	if got := r.offsets(); got[len(got)-1] != 6 {
		t.Fatalf("resubscribe did not send the undelivered offset 6: %v", got)
	}
}

// TestBacklogCappedInBytes: a subscriber 100 large messages behind gets the
// newest that fit in protocol.MaxBacklogBytes, with the gap before them
// visible (its first offset is above since+1).
func TestBacklogCappedInBytes(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, time.Hour)
	big := strings.Repeat("é", protocol.MaxBodyRunes)
	for i := 0; i < 100; i++ {
		if _, _, err := e.store.Append(ctx, store.Message{Room: "general", Author: "ann", Body: big, CID: fmt.Sprint("b", i)}); err != nil {
			t.Fatal(err)
		}
	}
	r := &recorder{user: "bob"}
	if err := e.hub.Subscribe(ctx, r, "general", 1); err != nil {
		t.Fatal(err)
	}
	got := r.offsets()
	m := store.Message{Room: "general", Author: "ann", Body: big, CID: "b00"}
	want := protocol.MaxBacklogBytes / hub.MessageCost(&m)
	if len(got) != want || got[len(got)-1] != 100 || got[0] != int64(101-want) {
		t.Fatalf("backlog offsets %v (%d), want the newest %d ending at 100", got, len(got), want)
	}
}
