package ws

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/parleychat/parley/server/broker"
	"github.com/parleychat/parley/server/hub"
	"github.com/parleychat/parley/server/presence"
	"github.com/parleychat/parley/server/store"
	"github.com/parleychat/parley/shared/protocol"
	"github.com/parleychat/parley/shared/testenv"
)

// TestRemovedReleasesTheSubscription: a removal drops the room from every
// connection of the user (and only once, however it races the client's
// own unsubscribe), releases its presence, leaves other members' room
// running, and the connection is refused the room afterwards.
func TestRemovedReleasesTheSubscription(t *testing.T) {
	ctx := context.Background()
	st, err := store.OpenSQLite(ctx, filepath.Join(t.TempDir(), "m.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if _, err := st.CreateRoomOf(ctx, "club", protocol.KindPrivate, "alice"); err != nil {
		t.Fatal(err)
	}
	if err := st.AddMember(ctx, "club", "bob", protocol.RoleMember); err != nil {
		t.Fatal(err)
	}
	pr := presence.NewMemory()
	h := hub.New(hub.Config{Store: st, Broker: broker.NewMemory(), Presence: pr, Reconcile: time.Hour, PresenceDebounce: time.Millisecond})
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- h.Run(runCtx) }()
	t.Cleanup(func() { cancel(); <-done })

	clk := testenv.NewClock(time.Now())
	conns := map[string]*conn{}
	for name, user := range map[string]string{"alice": "alice", "bob1": "bob", "bob2": "bob"} {
		c := clockConn(clk, Config{Store: st, Hub: h})
		c.user = user
		testenv.Eventually(t, 10*time.Second, name+" subscribed", func() error {
			c.subscribe(ctx, protocol.Frame{Type: protocol.TypeSubscribe, Room: "club"})
			if !c.inRoom("club") {
				return fmt.Errorf("%s not in the room: %v", name, queuedTypes(t, c))
			}
			return nil
		})
		conns[name] = c
	}
	if err := st.RemoveMember(ctx, "club", "bob", false); err != nil {
		t.Fatal(err)
	}
	// bob2's client unsubscribes while the removal arrives.
	go conns["bob2"].handle(ctx, protocol.Frame{Type: protocol.TypeUnsubscribe, Room: "club"})
	if err := h.PublishRemoved(ctx, "club", "bob", protocol.RemovedKicked); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, 10*time.Second, "bob out of the room on both connections", testenv.Cond(func() bool {
		return !conns["bob1"].inRoom("club") && !conns["bob2"].inRoom("club")
	}))
	conns["bob1"].awaitRemovals()
	conns["bob2"].awaitRemovals()
	if got := queuedTypes(t, conns["bob1"]); !slices.Contains(got, protocol.TypeRemoved) {
		t.Fatalf("bob's connection was sent %v, want a removed frame", got)
	}
	testenv.Eventually(t, 10*time.Second, "bob leaves the presence", func() error {
		users, err := pr.Users(ctx, "club")
		if err != nil || !slices.Equal(users, []string{"alice"}) {
			return fmt.Errorf("presence %v, %v", users, err)
		}
		return nil
	})
	if n := h.Rooms(); n != 1 {
		t.Fatalf("%d active rooms, want alice's one (a double release would stop it)", n)
	}
	bob := conns["bob1"]
	bob.subscribe(ctx, protocol.Frame{Type: protocol.TypeSubscribe, Room: "club"})
	bob.typing(ctx, protocol.Frame{Type: protocol.TypeTyping, Room: "club"})
	var codes []string
	for _, f := range queuedFrames(t, bob) {
		codes = append(codes, f.Code)
	}
	if !slices.Equal(codes, []string{protocol.ErrNotFound, protocol.ErrForbidden}) {
		t.Fatalf("after the removal bob's subscribe and typing got %v", codes)
	}
}

// queuedFrames returns the frames c has queued, emptying the queue.
func queuedFrames(t *testing.T, c *conn) []protocol.Frame {
	t.Helper()
	var out []protocol.Frame
	for _, b := range c.q.take(nil) {
		f, err := protocol.Decode(b)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, f)
	}
	return out
}
