package hub_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/parleychat/parley/server/hub"
	"github.com/parleychat/parley/server/store"
	"github.com/parleychat/parley/shared/protocol"
	"github.com/parleychat/parley/shared/testenv"
)

// watchRecorder is a recorder that watches for owner (a hub.Watcher).
type watchRecorder struct {
	recorder
	owner hub.Subscriber
}

func (w *watchRecorder) Owner() hub.Subscriber { return w.owner }

// eventsRecorder is a recorder that takes edits and room events.
type eventsRecorder struct{ recorder }

func (*eventsRecorder) Edits() bool      { return true }
func (*eventsRecorder) RoomEvents() bool { return true }

// publish stores m in general and publishes it.
func (e *env) publish(t *testing.T, m store.Message) store.Message {
	t.Helper()
	m.Room = "general"
	stored, _, err := e.store.Append(context.Background(), m)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.hub.PublishMessage(context.Background(), stored); err != nil {
		t.Fatal(err)
	}
	return stored
}

// TestWatchGetsMessagesOnly: a watcher is answered watching with the
// head, then gets every new message and nothing else (no room event,
// typing or presence), never appears in presence, and gets nothing
// while its owner is subscribed, which gets each message once.
func TestWatchGetsMessagesOnly(t *testing.T) {
	e := newEnv(t, time.Hour)
	ctx := context.Background()
	e.append(t, 2)
	owner := &eventsRecorder{recorder{user: "bob"}}
	w := &watchRecorder{recorder: recorder{user: "bob"}, owner: owner}
	if err := e.hub.Watch(ctx, w, "general"); err != nil {
		t.Fatal(err)
	}
	if f := w.first(); f.Type != protocol.TypeWatching || f.Room != "general" || f.Head != 2 {
		t.Fatalf("first frame %+v, want watching at head 2", f)
	}
	ann := &eventsRecorder{recorder{user: "ann"}}
	if err := e.hub.Subscribe(ctx, ann, "general", 0); err != nil {
		t.Fatal(err)
	}
	e.hub.PublishTyping(ctx, "general", "ann")
	testenv.Eventually(t, waitTimeout, "ann sees the typing", testenv.Cond(func() bool { return len(ann.frames(protocol.TypeTyping)) > 0 }))
	if n := len(w.frames(protocol.TypeTyping)); n != 0 {
		t.Fatalf("the watcher got %d typing frames", n)
	}
	e.publish(t, store.Message{Author: "ann", Kind: protocol.MsgRoom, Body: `{"what":"topic","by":"ann","topic":"x"}`})
	e.publish(t, store.Message{Author: "ann", Body: "for the watcher"})
	testenv.Eventually(t, waitTimeout, "ann gets the event and the message", ann.hasOffsets(3, 4))
	testenv.Eventually(t, waitTimeout, "the watcher gets the message only", w.hasOffsets(4))
	if p := ann.frames(protocol.TypePresence); len(p) == 0 || !slices.Equal(p[len(p)-1].Users, []string{"ann"}) {
		t.Fatalf("presence %+v, want ann alone", p)
	}
	if n := len(w.frames(protocol.TypePresence)); n != 0 {
		t.Fatalf("the watcher got %d presence frames", n)
	}

	if err := e.hub.Subscribe(ctx, owner, "general", 4); err != nil {
		t.Fatal(err)
	}
	e.publish(t, store.Message{Author: "ann", Body: "to the subscription"})
	testenv.Eventually(t, waitTimeout, "the owner's subscription gets it", owner.hasOffsets(5))
	e.hub.Unsubscribe(owner, "general")
	e.publish(t, store.Message{Author: "ann", Body: "to the watch again"})
	testenv.Eventually(t, waitTimeout, "the watcher skips what the subscription got", w.hasOffsets(4, 6))

	e.hub.Unwatch(w, "general")
	e.publish(t, store.Message{Author: "ann", Body: "after the watch"})
	testenv.Eventually(t, waitTimeout, "ann gets it", ann.hasOffsets(3, 4, 5, 6, 7))
	if got := w.offsets(); !slices.Equal(got, []int64{4, 6}) {
		t.Fatalf("after unwatch the watcher got %v", got)
	}
}

// TestRoomEventsOnlyToThoseWhoAsked: a room event reaches subscribers
// that take room events; the others skip its offset and get the next
// message, live and in a backlog.
func TestRoomEventsOnlyToThoseWhoAsked(t *testing.T) {
	e := newEnv(t, time.Hour)
	ctx := context.Background()
	plain := &recorder{user: "old"}
	modern := &eventsRecorder{recorder{user: "new"}}
	for _, s := range []hub.Subscriber{plain, modern} {
		if err := e.hub.Subscribe(ctx, s, "general", 0); err != nil {
			t.Fatal(err)
		}
	}
	e.publish(t, store.Message{Author: "ann", Kind: protocol.MsgRoom, Body: `{"what":"joined","user":"new","by":"ann"}`})
	e.publish(t, store.Message{Author: "ann", Body: "hi"})
	testenv.Eventually(t, waitTimeout, "the new client gets both", modern.hasOffsets(1, 2))
	testenv.Eventually(t, waitTimeout, "the old client gets the message", plain.hasOffsets(2))
	// A backlog skips the event the same way.
	e.publish(t, store.Message{Author: "ann", Kind: protocol.MsgRoom, Body: `{"what":"topic","by":"ann"}`})
	e.publish(t, store.Message{Author: "ann", Body: "again"})
	oldBack, newBack := &recorder{user: "old2"}, &eventsRecorder{recorder{user: "new2"}}
	for _, s := range []hub.Subscriber{oldBack, newBack} {
		if err := e.hub.Subscribe(ctx, s, "general", 2); err != nil {
			t.Fatal(err)
		}
	}
	testenv.Eventually(t, waitTimeout, "the old backlog", oldBack.hasOffsets(4))
	testenv.Eventually(t, waitTimeout, "the new backlog", newBack.hasOffsets(3, 4))
}

// TestRemovalEndsWatchSilently: a removal ends a watch like a
// subscription, without a removed frame.
func TestRemovalEndsWatchSilently(t *testing.T) {
	e := newEnv(t, time.Hour)
	ctx := context.Background()
	w := &watchRecorder{recorder: recorder{user: "bob"}}
	if err := e.hub.Watch(ctx, w, "general"); err != nil {
		t.Fatal(err)
	}
	ann := &recorder{user: "ann"}
	if err := e.hub.Subscribe(ctx, ann, "general", 0); err != nil {
		t.Fatal(err)
	}
	// bob never joined general: the store does not count him a member.
	if err := e.hub.PublishRemoved(ctx, "general", "bob", protocol.RemovedKicked); err != nil {
		t.Fatal(err)
	}
	first := e.publish(t, store.Message{Author: "ann", Body: "probe"})
	testenv.Eventually(t, waitTimeout, "ann gets the probe", ann.hasOffsets(first.Offset))
	if got := w.offsets(); len(got) != 0 {
		t.Fatalf("the removed watcher got %v", got)
	}
	if n := len(w.frames(protocol.TypeRemoved)); n != 0 {
		t.Fatalf("the watcher got %d removed frames", n)
	}
}
