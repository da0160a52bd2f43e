package hub_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/parleychat/parley/server/hub"
	"github.com/parleychat/parley/server/store"
	"github.com/parleychat/parley/shared/protocol"
	"github.com/parleychat/parley/shared/testenv"
)

// remover is a recorder that is also a hub.Remover: like a connection,
// it releases the subscription when told it was removed.
type remover struct {
	*recorder
	h       *hub.Hub
	wg      sync.WaitGroup
	mu      sync.Mutex
	removed []string
}

func (r *remover) Removed(room string) {
	r.mu.Lock()
	r.removed = append(r.removed, room)
	r.mu.Unlock()
	r.wg.Go(func() { r.h.Unsubscribe(r, room) })
}

func (r *remover) removals() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.removed)
}

// removedWith is a check: r got one removed frame for room with code, and
// was told once.
func (r *remover) removedWith(room, code string) func() error {
	return func() error {
		fs := r.frames(protocol.TypeRemoved)
		if len(fs) != 1 || fs[0].Room != room || fs[0].Code != code {
			return fmt.Errorf("%s got removed frames %+v, want one for %s with %q", r.user, fs, room, code)
		}
		if got := r.removals(); !slices.Equal(got, []string{room}) {
			return fmt.Errorf("%s was told of removals %v", r.user, got)
		}
		return nil
	}
}

// clubEnv makes a private room "club" owned by ann with members bob and
// cat, and subscribes ann, bob (on two connections) and cat to it.
func clubEnv(t *testing.T, reconcile time.Duration) (e *env, ann, bob1, bob2, cat *remover) {
	t.Helper()
	// Registered before newEnv, so it runs after the hub has stopped:
	// no removal can start a goroutine once the wait began.
	var made []*remover
	t.Cleanup(func() {
		for _, r := range made {
			r.wg.Wait()
		}
	})
	e = newEnv(t, reconcile)
	ctx := context.Background()
	if _, err := e.store.CreateRoomOf(ctx, "club", protocol.KindPrivate, "ann"); err != nil {
		t.Fatal(err)
	}
	for _, u := range []string{"bob", "cat"} {
		if err := e.store.AddMember(ctx, "club", u, protocol.RoleMember); err != nil {
			t.Fatal(err)
		}
	}
	mk := func(user string) *remover {
		r := &remover{recorder: &recorder{user: user}, h: e.hub}
		if err := e.hub.Subscribe(ctx, r, "club", 0); err != nil {
			t.Fatal(err)
		}
		made = append(made, r)
		return r
	}
	return e, mk("ann"), mk("bob"), mk("bob"), mk("cat")
}

// TestRemovedEndsTheUsersSubscriptions: an announced removal ends every
// subscription of that user and nobody else's; later messages do not
// reach them, and their presence goes.
func TestRemovedEndsTheUsersSubscriptions(t *testing.T) {
	e, ann, bob1, bob2, cat := clubEnv(t, time.Hour)
	ctx := context.Background()
	// An announcement the store contradicts (cat is still a member)
	// changes nothing.
	if err := e.hub.PublishRemoved(ctx, "club", "cat", protocol.RemovedKicked); err != nil {
		t.Fatal(err)
	}
	if err := e.store.RemoveMember(ctx, "club", "bob", false); err != nil {
		t.Fatal(err)
	}
	if err := e.hub.PublishRemoved(ctx, "club", "bob", protocol.RemovedKicked); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, waitTimeout, "bob's first connection removed", bob1.removedWith("club", protocol.RemovedKicked))
	testenv.Eventually(t, waitTimeout, "bob's second connection removed", bob2.removedWith("club", protocol.RemovedKicked))
	m, _, err := e.store.Append(ctx, store.Message{Room: "club", Author: "ann", Body: "after", CID: "after"})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.hub.PublishMessage(ctx, m); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, waitTimeout, "cat gets the message", cat.hasOffsets(1))
	testenv.Eventually(t, waitTimeout, "ann gets the message", ann.hasOffsets(1))
	for _, r := range []*remover{bob1, bob2} {
		if got := r.offsets(); len(got) != 0 {
			t.Fatalf("removed bob got offsets %v", got)
		}
	}
	for _, r := range []*remover{ann, cat} {
		if got := r.frames(protocol.TypeRemoved); len(got) != 0 || len(r.removals()) != 0 {
			t.Fatalf("%s was removed: %+v", r.user, got)
		}
	}
	testenv.Eventually(t, waitTimeout, "bob leaves the presence", func() error {
		users, err := e.presence.Users(ctx, "club")
		if err != nil || slices.Contains(users, "bob") || !slices.Contains(users, "cat") {
			return fmt.Errorf("presence %v, %v", users, err)
		}
		return nil
	})
	if got := e.hub.Stats().Removed; got != 2 {
		t.Fatalf("Stats().Removed = %d, want 2", got)
	}
}

// TestReconcileEndsSubscriptionsOfRemovedMembers: a removal whose
// announcement was lost is found by the reconcile (the roster moved).
func TestReconcileEndsSubscriptionsOfRemovedMembers(t *testing.T) {
	e, ann, bob1, bob2, _ := clubEnv(t, 20*time.Millisecond)
	if _, err := e.store.LeaveRoom(context.Background(), "club", "bob"); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, waitTimeout, "bob's first connection removed", bob1.removedWith("club", protocol.RemovedNotMember))
	testenv.Eventually(t, waitTimeout, "bob's second connection removed", bob2.removedWith("club", protocol.RemovedNotMember))
	if got := ann.frames(protocol.TypeRemoved); len(got) != 0 {
		t.Fatalf("ann was removed: %+v", got)
	}
}

// TestSubscribeAfterRemovalIsRefused: a subscribe that was authorised
// before a removal it then meets in the room actor is refused as a
// missing room.
func TestSubscribeAfterRemovalIsRefused(t *testing.T) {
	e, _, _, _, _ := clubEnv(t, time.Hour)
	ctx := context.Background()
	if err := e.store.RemoveMember(ctx, "club", "cat", true); err != nil {
		t.Fatal(err)
	}
	late := &remover{recorder: &recorder{user: "cat"}, h: e.hub}
	err := e.hub.Subscribe(ctx, late, "club", 0)
	if !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("subscribe after the removal: %v, want not found", err)
	}
	if got := late.frames(protocol.TypeSubscribed); len(got) != 0 {
		t.Fatalf("the refused subscriber got %+v", got)
	}
}

// TestInterruptionRechecksMembers: when the broker reports an
// interruption, a removal announced during it is found at once, without
// waiting for a reconcile.
func TestInterruptionRechecksMembers(t *testing.T) {
	e, ann, bob1, _, _ := clubEnv(t, time.Hour)
	if err := e.store.RemoveMember(context.Background(), "club", "bob", false); err != nil {
		t.Fatal(err)
	}
	e.hub.Interrupted([]string{"club"})
	testenv.Eventually(t, waitTimeout, "bob removed after the interruption", bob1.removedWith("club", protocol.RemovedNotMember))
	if got := ann.frames(protocol.TypeRemoved); len(got) != 0 {
		t.Fatalf("ann was removed: %+v", got)
	}
}

// publishIn appends a message by author to room and publishes it.
func publishIn(t *testing.T, e *env, room, author, cid string) store.Message {
	t.Helper()
	m, _, err := e.store.Append(context.Background(), store.Message{Room: room, Author: author, Body: cid, CID: cid})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.hub.PublishMessage(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	return m
}

// TestDeletedEndsEverySubscription: an announced deletion ends every
// subscription of the room with code deleted, and their presence; one
// the store contradicts (the room is still there) changes nothing.
func TestDeletedEndsEverySubscription(t *testing.T) {
	e, ann, bob1, bob2, cat := clubEnv(t, time.Hour)
	ctx := context.Background()
	all := []*remover{ann, bob1, bob2, cat}
	if err := e.hub.PublishDeleted(ctx, "club"); err != nil {
		t.Fatal(err)
	}
	publishIn(t, e, "club", "ann", "still-here")
	for _, r := range all {
		testenv.Eventually(t, waitTimeout, r.user+" gets the message after a stale announcement", r.hasOffsets(1))
	}
	if _, err := e.store.DeleteRoom(ctx, "club"); err != nil {
		t.Fatal(err)
	}
	if err := e.hub.PublishDeleted(ctx, "club"); err != nil {
		t.Fatal(err)
	}
	for _, r := range all {
		testenv.Eventually(t, waitTimeout, r.user+" removed", r.removedWith("club", protocol.RemovedDeleted))
	}
	testenv.Eventually(t, waitTimeout, "nobody left in the presence", func() error {
		users, err := e.presence.Users(ctx, "club")
		if err != nil || len(users) != 0 {
			return fmt.Errorf("presence %v, %v", users, err)
		}
		return nil
	})
}

// TestReconcileEndsSubscriptionsOfDeletedRoom: a deletion whose
// announcement was lost is found by the reconcile (the room is gone).
func TestReconcileEndsSubscriptionsOfDeletedRoom(t *testing.T) {
	e, ann, bob1, _, cat := clubEnv(t, 20*time.Millisecond)
	if _, err := e.store.DeleteRoom(context.Background(), "club"); err != nil {
		t.Fatal(err)
	}
	for _, r := range []*remover{ann, bob1, cat} {
		testenv.Eventually(t, waitTimeout, r.user+" removed", r.removedWith("club", protocol.RemovedDeleted))
	}
}

// TestSubscribeToRecreatedRoom: when a room was deleted and another made
// under its name while the announcement was lost, a subscribe to the
// new one ends the old room's subscriptions, and the new room's offsets
// (from 1 again) are delivered, not taken for ones already seen.
func TestSubscribeToRecreatedRoom(t *testing.T) {
	e, ann, bob1, _, _ := clubEnv(t, time.Hour)
	ctx := context.Background()
	for i := range 3 {
		publishIn(t, e, "club", "ann", fmt.Sprint("old-", i))
	}
	testenv.Eventually(t, waitTimeout, "bob gets the old room's messages", bob1.hasOffsets(1, 2, 3))
	if _, err := e.store.DeleteRoom(ctx, "club"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.store.CreateRoomOf(ctx, "club", protocol.KindPublic, "dan"); err != nil {
		t.Fatal(err)
	}
	dan := &remover{recorder: &recorder{user: "dan"}, h: e.hub}
	t.Cleanup(dan.wg.Wait)
	if err := e.hub.Subscribe(ctx, dan, "club", 0); err != nil {
		t.Fatalf("subscribe to the new room: %v", err)
	}
	for _, r := range []*remover{ann, bob1} {
		testenv.Eventually(t, waitTimeout, r.user+" removed", r.removedWith("club", protocol.RemovedDeleted))
	}
	publishIn(t, e, "club", "dan", "new-0")
	testenv.Eventually(t, waitTimeout, "dan gets the new room's first message", dan.hasOffsets(1))
	if got := bob1.offsets(); !slices.Equal(got, []int64{1, 2, 3}) {
		t.Fatalf("bob, of the old room, got offsets %v", got)
	}
}
