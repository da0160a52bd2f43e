package node_test

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/parleychat/parley/shared/client"
	"github.com/parleychat/parley/shared/protocol"
	"github.com/parleychat/parley/shared/testenv"
)

// presenceWatcher is a raw socket in one room that records every presence
// and presence_delta frame the node sends it, from a reader goroutine the
// test owns.
type presenceWatcher struct {
	user   string
	close  func() // closes the socket and waits for the reader
	mu     sync.Mutex
	frames []protocol.Frame
}

// watchPresence connects user with the features given, subscribes to
// room and records presence frames until the test ends.
func watchPresence(t *testing.T, n *testNode, user, room string, features ...string) *presenceWatcher {
	t.Helper()
	tok, _, err := n.Keys.Sign(user, "minted", time.Now(), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	c := dialRaw(t, n.URL, n.URL)
	c.send(protocol.Frame{Type: protocol.TypeAuth, Token: tok, Features: features})
	if f := c.next(); f.Type != protocol.TypeWelcome {
		t.Fatalf("%s: got %+v, want welcome", user, f)
	}
	c.send(protocol.Frame{Type: protocol.TypeSubscribe, Room: room})
	w := &presenceWatcher{user: user}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			f, err := c.read(time.Hour)
			if err != nil {
				return // the test closed the socket
			}
			if f.Type == protocol.TypePresence || f.Type == protocol.TypePresenceDelta {
				w.mu.Lock()
				w.frames = append(w.frames, f)
				w.mu.Unlock()
			}
		}
	}()
	var once sync.Once
	w.close = func() {
		once.Do(func() {
			c.Close(websocket.StatusNormalClosure, "")
			wg.Wait()
		})
	}
	t.Cleanup(w.close)
	return w
}

// list applies the frames received, as shared/client does.
func (w *presenceWatcher) list() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	var p client.Presence
	for _, f := range w.frames {
		p.Apply(client.Event{Kind: client.EventPresence, Delta: f.Type == protocol.TypePresenceDelta, Users: f.Users, Joined: f.Joined, Left: f.Left, Count: f.Count})
	}
	return p.Users()
}

// cost returns how many presence frames w got and how many user names
// they carried in all.
func (w *presenceWatcher) cost() (frames, names int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, f := range w.frames {
		names += len(f.Users) + len(f.Joined) + len(f.Left)
	}
	return len(w.frames), names
}

func (w *presenceWatcher) has(want []string) func() error {
	return func() error {
		if got := w.list(); !slices.Equal(got, want) {
			return fmt.Errorf("%s sees %v, want %v", w.user, got, want)
		}
		return nil
	}
}

// TestPresenceJoinsCostOneFrameEach: N users join a room one after
// another over real sockets. A client with presence_delta gets its full
// list once and then one frame per later join naming only the joiner, so
// what it reads grows linearly with the joins; a client without the
// feature gets the whole list after each join. Everyone ends with the
// same list, and a leave reaches everyone too.
func TestPresenceJoinsCostOneFrameEach(t *testing.T) {
	t.Parallel()
	n := startNode(t)
	const joins = 8 // the signup rate limit allows 10 accounts at once
	var names []string
	for i := 0; i < joins; i++ {
		names = append(names, fmt.Sprintf("joiner%02d", i))
		signup(t, n.URL, names[i])
	}
	signup(t, n.URL, "oldie")

	old := watchPresence(t, n, "oldie", protocol.DefaultRoom)
	testenv.Eventually(t, waitTimeout, "oldie present", old.has([]string{"oldie"}))
	want := []string{"oldie"}
	var watchers []*presenceWatcher
	for _, name := range names {
		watchers = append(watchers, watchPresence(t, n, name, protocol.DefaultRoom, protocol.FeaturePresenceDelta))
		want = append(want, name)
		slices.Sort(want)
		// One join at a time: wait until everyone has seen it.
		for _, w := range append([]*presenceWatcher{old}, watchers...) {
			testenv.Eventually(t, waitTimeout, w.user+" sees "+name, w.has(want))
		}
	}
	for i, w := range watchers {
		frames, names := w.cost()
		later := joins - 1 - i
		// One full list at subscribe (i+2 names: those before, oldie and
		// itself), then one frame naming one user per later join.
		if frames != 1+later || names != i+2+later {
			t.Errorf("%s read %d presence frames naming %d users; want %d frames naming %d", w.user, frames, names, 1+later, i+2+later)
		}
	}
	oldFrames, oldNames := old.cost()
	t.Logf("per member for %d joins: delta client %d frames / %d names; full-list client %d frames / %d names", joins, 1+joins-1, joins+1, oldFrames, oldNames)
	if oldFrames < joins+1 {
		t.Errorf("the client without presence_delta got %d full lists, want one per change (%d)", oldFrames, joins+1)
	}

	// A presence request answers with the full list.
	tok, _, err := n.Keys.Sign("joiner00", "minted", time.Now(), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	asker := dialRaw(t, n.URL, n.URL)
	asker.auth(tok)
	asker.send(protocol.Frame{Type: protocol.TypePresence, Room: protocol.DefaultRoom})
	if f := asker.next(); f.Type != protocol.TypeError || f.Code != protocol.ErrBadRequest || f.Ref != protocol.DefaultRoom {
		t.Fatalf("presence request before subscribing: got %+v, want bad_request", f)
	}
	asker.send(protocol.Frame{Type: protocol.TypeSubscribe, Room: protocol.DefaultRoom})
	asker.send(protocol.Frame{Type: protocol.TypePresence, Room: protocol.DefaultRoom})
	for i := 0; i < 2; i++ { // the list at subscribe, then the answer
		f, err := asker.read(waitTimeout)
		for err == nil && f.Type == protocol.TypeSubscribed {
			f, err = asker.read(waitTimeout)
		}
		if err != nil {
			t.Fatal(err)
		}
		if f.Type != protocol.TypePresence || f.Count != len(want) || !slices.Equal(f.Users, want) {
			t.Fatalf("presence frame %d: got %+v, want the full list %v", i+1, f, want)
		}
	}
	asker.Close(websocket.StatusNormalClosure, "")

	// One leaves: everyone hears it, delta clients as one name.
	leaver := watchers[3]
	leaver.close()
	want = slices.DeleteFunc(want, func(u string) bool { return u == leaver.user })
	for _, w := range append([]*presenceWatcher{old}, watchers...) {
		if w == leaver {
			continue
		}
		testenv.Eventually(t, waitTimeout, w.user+" sees the leave", w.has(want))
	}
	w := watchers[0]
	w.mu.Lock()
	last := w.frames[len(w.frames)-1]
	w.mu.Unlock()
	if last.Type != protocol.TypePresenceDelta || !slices.Equal(last.Left, []string{leaver.user}) || len(last.Joined) != 0 || last.Count != len(want) {
		t.Fatalf("the leave reached %s as %+v, want a delta naming %s", w.user, last, leaver.user)
	}
}
