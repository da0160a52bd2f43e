package hub_test

import (
	"context"
	"testing"
	"time"

	"github.com/parleychat/parley/server/store"
	"github.com/parleychat/parley/shared/protocol"
	"github.com/parleychat/parley/shared/testenv"
)

// TestFeedHasNoPresence: subscribers of the room feed get its messages
// like any room's, but join no presence list and are sent none, while a
// room's subscriber is (the same hub, the same calls).
func TestFeedHasNoPresence(t *testing.T) {
	e := newEnv(t, time.Hour)
	ctx := context.Background()
	if err := store.EnsureFeed(ctx, e.store); err != nil {
		t.Fatal(err)
	}
	ann, bob := &recorder{user: "ann"}, &recorder{user: "bob"}
	for _, r := range []*recorder{ann, bob} {
		if err := e.hub.Subscribe(ctx, r, protocol.RoomFeed, 0); err != nil {
			t.Fatal(err)
		}
	}
	inRoom := &recorder{user: "carol"}
	if err := e.hub.Subscribe(ctx, inRoom, "general", 0); err != nil {
		t.Fatal(err)
	}
	m, err := store.AppendFeedEvent(ctx, e.store, protocol.FeedEvent{Type: protocol.FeedCreated, Room: "lobby", Kind: protocol.KindPublic, By: "carol"})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.hub.PublishMessage(ctx, m); err != nil {
		t.Fatal(err)
	}
	for _, r := range []*recorder{ann, bob} {
		testenv.Eventually(t, waitTimeout, r.user+" gets the feed event", r.hasOffsets(1))
	}
	e.hub.Unsubscribe(bob, protocol.RoomFeed)
	if users, err := e.presence.Users(ctx, protocol.RoomFeed); err != nil || len(users) != 0 {
		t.Fatalf("the feed's presence = %v, %v; want nobody", users, err)
	}
	for _, r := range []*recorder{ann, bob} {
		if p := r.frames(protocol.TypePresence); len(p) != 0 {
			t.Fatalf("%s was sent presence in the feed: %+v", r.user, p)
		}
	}
	if p := inRoom.frames(protocol.TypePresence); len(p) == 0 {
		t.Fatal("a room's subscriber got no presence (the check above proves nothing)")
	}
}
