package cluster_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/parleychat/parley/shared/client"
	"github.com/parleychat/parley/shared/protocol"
)

// waitFrame reads rc's frames until one satisfies match, skipping the
// others, and returns it.
func waitFrame(t *testing.T, ctx context.Context, rc *rawClient, what string, match func(protocol.Frame) bool) protocol.Frame {
	t.Helper()
	for {
		f, err := rc.read(ctx)
		if err != nil {
			t.Fatalf("%s: waiting for %s: %v", rc.user, what, err)
		}
		if match(f) {
			return f
		}
	}
}

// answer sends f and returns the first subscribed, ack, history or error
// frame answering it (by room, cid or id).
func answer(t *testing.T, ctx context.Context, rc *rawClient, f protocol.Frame) protocol.Frame {
	t.Helper()
	if err := rc.write(ctx, f); err != nil {
		t.Fatal(err)
	}
	return waitFrame(t, ctx, rc, f.Type+" answer", func(g protocol.Frame) bool {
		switch g.Type {
		case protocol.TypeError:
			return g.Ref != "" && (g.Ref == f.CID || g.Ref == f.ID || g.Ref == f.Room)
		case protocol.TypeSubscribed:
			return f.Type == protocol.TypeSubscribe && g.Room == f.Room
		case protocol.TypeAck:
			return g.CID == f.CID && f.CID != ""
		case protocol.TypeHistory:
			return g.ID == f.ID && f.ID != ""
		}
		return false
	})
}

// pingPong sends a ping and reads until its pong; every frame the node
// queued for rc before the ping arrives first, and is returned.
func pingPong(t *testing.T, ctx context.Context, rc *rawClient, id string) []protocol.Frame {
	t.Helper()
	if err := rc.write(ctx, protocol.Frame{Type: protocol.TypePing, ID: id}); err != nil {
		t.Fatal(err)
	}
	var before []protocol.Frame
	for {
		f, err := rc.read(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if f.Type == protocol.TypePong && f.ID == id {
			return before
		}
		before = append(before, f)
	}
}

// TestPrivateRoomAcrossNodes: over two nodes with Redis and PostgreSQL, a
// stranger cannot read, send to, subscribe to, type in, see the presence
// of or list a private room, and is answered exactly as for a room that
// does not exist; members talk across nodes; a kick through one node ends
// the kicked member's subscription on the other at once, and refuses
// what they try next.
func TestPrivateRoomAcrossNodes(t *testing.T) {
	c := startCluster(t, options{nodes: 2})
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	ss := signupAll(t, c.baseURLs(), []string{"alice", "bob", "carol", "mallory"})
	alice, bob, carol, mallory := ss[0], ss[1], ss[2], ss[3]
	api0, api1 := client.NewAPI(c.nodes[0].URL, nil), client.NewAPI(c.nodes[1].URL, nil)
	if _, err := api0.CreateRoomOf(ctx, alice.AccessToken, "secret", protocol.KindPrivate); err != nil {
		t.Fatal(err)
	}
	for _, u := range []string{"bob", "carol"} {
		if err := api0.Invite(ctx, alice.AccessToken, "secret", u, ""); err != nil {
			t.Fatal(err)
		}
	}

	dial := func(node int, s protocol.Session) *rawClient {
		rc, err := dialRaw(ctx, c.nodes[node].WSURL(), s.AccessToken, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(rc.close)
		return rc
	}
	ra, rb, rcarol := dial(0, alice), dial(1, bob), dial(1, carol)
	for _, rc := range []*rawClient{ra, rb, rcarol} {
		if f := answer(t, ctx, rc, protocol.Frame{Type: protocol.TypeSubscribe, Room: "secret"}); f.Type != protocol.TypeSubscribed {
			t.Fatalf("member %s subscribes: %+v", rc.user, f)
		}
	}
	if f := answer(t, ctx, ra, protocol.Frame{Type: protocol.TypeSend, Room: "secret", CID: "a1", Body: "for members only"}); f.Type != protocol.TypeAck {
		t.Fatalf("alice sends: %+v", f)
	}
	for _, rc := range []*rawClient{rb, rcarol} {
		waitFrame(t, ctx, rc, "alice's message", func(f protocol.Frame) bool {
			return f.Type == protocol.TypeMsg && f.Msg.Body == "for members only"
		})
	}

	// The stranger, on either node, learns nothing and changes nothing.
	for node := range 2 {
		strangerLearnsNothing(t, ctx, c, node, dial(node, mallory), mallory, "secret")
	}
	// Members never saw the stranger: not in presence, not in history.
	f := answer(t, ctx, ra, protocol.Frame{Type: protocol.TypeHistory, Room: "secret", ID: "check"})
	if len(f.Messages) != 1 || f.Messages[0].Author != "alice" {
		t.Fatalf("history after the stranger tried = %+v", f.Messages)
	}
	for _, g := range pingPong(t, ctx, ra, "presence-check") {
		if g.Type == protocol.TypePresence && slices.Contains(g.Users, "mallory") {
			t.Fatalf("the stranger appears in the room's presence: %v", g.Users)
		}
	}

	// A kick through node 0 ends bob's subscription on node 1 at once.
	if _, err := api0.Remove(ctx, alice.AccessToken, "secret", "bob"); err != nil {
		t.Fatal(err)
	}
	removed := waitFrame(t, ctx, rb, "the removed frame", func(f protocol.Frame) bool { return f.Type == protocol.TypeRemoved })
	if removed.Room != "secret" || removed.Code != protocol.RemovedKicked {
		t.Fatalf("removed frame = %+v", removed)
	}
	if n, err := metric(c.nodes[1], "parley_subscriptions_removed_total"); err != nil || n != 1 {
		t.Fatalf("node 2 counts %v removed subscriptions (%v), want 1", n, err)
	}
	// Presence on node 0 drops bob. (Read before anything else on alice's
	// socket, which would skip the presence frame while it waits.)
	waitFrame(t, ctx, ra, "presence without bob", func(f protocol.Frame) bool {
		return f.Type == protocol.TypePresence && f.Room == "secret" && !slices.Contains(f.Users, "bob") && slices.Contains(f.Users, "carol")
	})
	if f := answer(t, ctx, ra, protocol.Frame{Type: protocol.TypeSend, Room: "secret", CID: "a2", Body: "bob is gone"}); f.Type != protocol.TypeAck {
		t.Fatalf("alice sends after the kick: %+v", f)
	}
	// carol shares bob's node and room actor: once she has the message,
	// bob would have it queued before the pong if he were still in.
	waitFrame(t, ctx, rcarol, "the message after the kick", func(f protocol.Frame) bool {
		return f.Type == protocol.TypeMsg && f.Msg.Body == "bob is gone"
	})
	for _, f := range pingPong(t, ctx, rb, "after-kick") {
		if f.Room == "secret" {
			t.Fatalf("the kicked member still got %+v", f)
		}
	}
	for _, req := range []protocol.Frame{
		{Type: protocol.TypeSend, Room: "secret", CID: "b-after", Body: "still here?"},
		{Type: protocol.TypeSubscribe, Room: "secret"},
		{Type: protocol.TypeHistory, Room: "secret", ID: "b-history"},
	} {
		if f := answer(t, ctx, rb, req); f.Type != protocol.TypeError || f.Code != protocol.ErrNotFound {
			t.Fatalf("kicked member's %s: %+v", req.Type, f)
		}
	}
	if rooms, err := api1.Rooms(ctx, bob.AccessToken); err != nil || slices.ContainsFunc(rooms, func(r protocol.Room) bool { return r.Name == "secret" }) {
		t.Fatalf("the kicked member's room list: %v, %v", rooms, err)
	}
}

// strangerLearnsNothing checks that s, connected to node as rm, is
// answered about room exactly as about a room that does not exist, over
// the WebSocket and the API, and changes nothing in it.
func strangerLearnsNothing(t *testing.T, ctx context.Context, c *cluster, node int, rm *rawClient, s protocol.Session, room string) {
	t.Helper()
	for i, req := range []protocol.Frame{
		{Type: protocol.TypeSubscribe},
		{Type: protocol.TypeSend, CID: "m", Body: "let me in"},
		{Type: protocol.TypeHistory, ID: "h"},
	} {
		ask := func(name string) protocol.Frame {
			f := req
			f.Room = name
			if f.CID != "" {
				f.CID = fmt.Sprintf("m%d-%d-%s", node, i, name)
			}
			if f.ID != "" {
				f.ID = fmt.Sprintf("h%d-%d-%s", node, i, name)
			}
			g := answer(t, ctx, rm, f)
			// Ref names the request itself; the rest must not differ.
			return protocol.Frame{Type: g.Type, Code: g.Code, Message: g.Message, Room: g.Room, Messages: g.Messages}
		}
		hidden, missing := ask(room), ask("no-such-room")
		if hidden.Type != protocol.TypeError || hidden.Code != protocol.ErrNotFound ||
			hidden.Message != missing.Message || hidden.Code != missing.Code || hidden.Room != "" || missing.Room != "" {
			t.Fatalf("node %d, %s: a hidden room answers %+v, a missing one %+v", node, req.Type, hidden, missing)
		}
	}
	if err := rm.write(ctx, protocol.Frame{Type: protocol.TypeTyping, Room: room}); err != nil {
		t.Fatal(err)
	}
	for _, f := range pingPong(t, ctx, rm, fmt.Sprintf("after-typing-%d", node)) {
		if f.Room == room && f.Type != protocol.TypeError {
			t.Fatalf("node %d: the stranger got %+v", node, f)
		}
		if f.Type == protocol.TypeError && f.Code != protocol.ErrForbidden {
			t.Fatalf("node %d: typing in a hidden room answered %+v", node, f)
		}
	}
	api := client.NewAPI(c.nodes[node].URL, nil)
	rooms, err := api.Rooms(ctx, s.AccessToken)
	if err != nil {
		t.Fatal(err)
	}
	if slices.ContainsFunc(rooms, func(r protocol.Room) bool { return r.Name == room }) {
		t.Fatalf("node %d lists the hidden room to a stranger", node)
	}
	_, hidden := api.Members(ctx, s.AccessToken, room)
	_, missing := api.Members(ctx, s.AccessToken, "no-such-room")
	var he, me *client.APIError
	if !errors.As(hidden, &he) || !errors.As(missing, &me) || he.Code != protocol.ErrNotFound || he.Status != me.Status || he.Message != me.Message {
		t.Fatalf("node %d: the members of a hidden room answer %v, of a missing one %v", node, hidden, missing)
	}
}

// TestDirectGroupAcrossNodes: three people open their group from both
// nodes at once, each naming the others in another order: one room,
// which each of them lists with the other two; they talk in it across
// nodes, and a fourth user learns nothing of it on either node.
func TestDirectGroupAcrossNodes(t *testing.T) {
	c := startCluster(t, options{nodes: 2})
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	ss := signupAll(t, c.baseURLs(), []string{"alice", "Bob", "carol", "dave"})
	const calls = 12
	names := make([]string, calls)
	errs := make([]error, calls)
	var wg sync.WaitGroup
	for i := range calls {
		wg.Go(func() {
			me := ss[i%3]
			var others []string
			for _, s := range ss[:3] {
				if s.User != me.User {
					others = append(others, strings.ToUpper(s.User))
				}
			}
			if i%2 == 1 {
				slices.Reverse(others)
			}
			r, err := client.NewAPI(c.nodes[i%2].URL, nil).DirectGroup(ctx, me.AccessToken, others...)
			names[i], errs[i] = r.Name, err
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	for i, n := range names {
		if n != names[0] {
			t.Fatalf("call %d got %q, call 0 %q: two direct rooms for one group", i, n, names[0])
		}
	}
	group := names[0]
	conns := make([]*rawClient, 3)
	for i, s := range ss[:3] {
		rooms, err := client.NewAPI(c.nodes[i%2].URL, nil).Rooms(ctx, s.AccessToken)
		if err != nil {
			t.Fatal(err)
		}
		var got []protocol.Room
		for _, r := range rooms {
			if r.Kind == protocol.KindDirect {
				got = append(got, r)
			}
		}
		var want []string
		for _, o := range ss[:3] {
			if o.User != s.User {
				want = append(want, o.User)
			}
		}
		if len(got) != 1 || got[0].Name != group || !slices.Equal(got[0].Peers, want) || got[0].Peer != "" {
			t.Fatalf("%s lists direct rooms %+v, want only %s with %v", s.User, got, group, want)
		}
		rc, err := dialRaw(ctx, c.nodes[i%2].WSURL(), s.AccessToken, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(rc.close)
		if f := answer(t, ctx, rc, protocol.Frame{Type: protocol.TypeSubscribe, Room: group}); f.Type != protocol.TypeSubscribed {
			t.Fatalf("%s subscribes to the group: %+v", s.User, f)
		}
		conns[i] = rc
	}
	for i, rc := range conns {
		body := "hello from " + ss[i].User
		if f := answer(t, ctx, rc, protocol.Frame{Type: protocol.TypeSend, Room: group, CID: fmt.Sprint("g", i), Body: body}); f.Type != protocol.TypeAck {
			t.Fatalf("%s sends: %+v", ss[i].User, f)
		}
		for j, other := range conns {
			if j != i {
				waitFrame(t, ctx, other, body, func(f protocol.Frame) bool { return f.Type == protocol.TypeMsg && f.Msg.Body == body })
			}
		}
	}
	for node := range 2 {
		rd, err := dialRaw(ctx, c.nodes[node].WSURL(), ss[3].AccessToken, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(rd.close)
		strangerLearnsNothing(t, ctx, c, node, rd, ss[3], group)
	}
	f := answer(t, ctx, conns[0], protocol.Frame{Type: protocol.TypeHistory, Room: group, ID: "check"})
	if len(f.Messages) != 3 {
		t.Fatalf("the group's history after the stranger tried = %+v", f.Messages)
	}
}

// TestDirectRoomOnePerPairAcrossNodes: both users open their direct room
// at once through both nodes; every call gets the same room, one call
// created it, and a third user cannot subscribe to it.
func TestDirectRoomOnePerPairAcrossNodes(t *testing.T) {
	c := startCluster(t, options{nodes: 2})
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	ss := signupAll(t, c.baseURLs(), []string{"alice", "bob", "eve"})
	const calls = 12
	names := make([]string, calls)
	errs := make([]error, calls)
	var wg sync.WaitGroup
	for i := range calls {
		wg.Go(func() {
			me, other := ss[0], "bob"
			if i%2 == 1 {
				me, other = ss[1], "alice"
			}
			r, err := client.NewAPI(c.nodes[i%2].URL, nil).DirectRoom(ctx, me.AccessToken, other)
			names[i], errs[i] = r.Name, err
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	for i, n := range names {
		if n != names[0] {
			t.Fatalf("call %d got %q, call 0 %q: two direct rooms for one pair", i, n, names[0])
		}
	}
	for i, s := range ss[:2] {
		rooms, err := client.NewAPI(c.nodes[i].URL, nil).Rooms(ctx, s.AccessToken)
		if err != nil {
			t.Fatal(err)
		}
		direct := 0
		for _, r := range rooms {
			if r.Kind == protocol.KindDirect {
				direct++
			}
		}
		if direct != 1 {
			t.Fatalf("%s lists %d direct rooms, want 1: %+v", s.User, direct, rooms)
		}
	}
	re, err := dialRaw(ctx, c.nodes[1].WSURL(), ss[2].AccessToken, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer re.close()
	if f := answer(t, ctx, re, protocol.Frame{Type: protocol.TypeSubscribe, Room: names[0]}); f.Type != protocol.TypeError || f.Code != protocol.ErrNotFound {
		t.Fatalf("a third user subscribes to the direct room: %+v", f)
	}
}

// inboxEvent decodes an inbox msg frame, failing t on a bad body.
func inboxEvent(t *testing.T, f protocol.Frame) protocol.UserEvent {
	t.Helper()
	ev, err := protocol.ParseUserEvent(f.Msg.Body)
	if err != nil {
		t.Fatalf("inbox message %q: %v", f.Msg.Body, err)
	}
	return ev
}

// TestInboxLiveAndRecovered: an invitation made through node 1 reaches
// the invitee's inbox subscription on node 2 at once; events made while
// the invitee is offline are recovered, in order, with no gap and no
// duplicate, by subscribing with the last offset seen. Nobody else may
// subscribe to the inbox, and its owner may not send to it.
func TestInboxLiveAndRecovered(t *testing.T) {
	c := startCluster(t, options{nodes: 2})
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	ss := signupAll(t, c.baseURLs(), []string{"alice", "bob", "mallory"})
	alice, bob, mallory := ss[0], ss[1], ss[2]
	api0 := client.NewAPI(c.nodes[0].URL, nil)
	inbox := protocol.InboxRoom("bob")
	for _, room := range []string{"one", "two"} {
		if _, err := api0.CreateRoomOf(ctx, alice.AccessToken, room, protocol.KindPrivate); err != nil {
			t.Fatal(err)
		}
	}

	rb, err := dialRaw(ctx, c.nodes[1].WSURL(), bob.AccessToken, nil)
	if err != nil {
		t.Fatal(err)
	}
	if f := answer(t, ctx, rb, protocol.Frame{Type: protocol.TypeSubscribe, Room: inbox}); f.Type != protocol.TypeSubscribed || f.Head != 0 {
		t.Fatalf("bob subscribes to his new inbox: %+v", f)
	}
	if err := api0.Invite(ctx, alice.AccessToken, "one", "bob", ""); err != nil {
		t.Fatal(err)
	}
	f := waitFrame(t, ctx, rb, "the invitation", func(f protocol.Frame) bool { return f.Type == protocol.TypeMsg && f.Msg.Room == inbox })
	if ev := inboxEvent(t, f); f.Msg.Offset != 1 || ev != (protocol.UserEvent{Type: protocol.UserInvited, Room: "one", By: "alice", Kind: protocol.KindPrivate}) {
		t.Fatalf("first inbox event at %d: %+v", f.Msg.Offset, ev)
	}
	if g := answer(t, ctx, rb, protocol.Frame{Type: protocol.TypeSend, Room: inbox, CID: "self", Body: "hi me"}); g.Type != protocol.TypeError || g.Code != protocol.ErrForbidden {
		t.Fatalf("bob sends to his inbox: %+v", g)
	}
	rb.close()

	// Offline: two more events, through the other node.
	if err := api0.Invite(ctx, alice.AccessToken, "two", "bob", ""); err != nil {
		t.Fatal(err)
	}
	if _, err := api0.Remove(ctx, alice.AccessToken, "one", "bob"); err != nil {
		t.Fatal(err)
	}
	rb, err = dialRaw(ctx, c.nodes[1].WSURL(), bob.AccessToken, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer rb.close()
	if g := answer(t, ctx, rb, protocol.Frame{Type: protocol.TypeSubscribe, Room: inbox, Since: 1}); g.Type != protocol.TypeSubscribed || g.Head != 3 {
		t.Fatalf("bob resubscribes from offset 1: %+v", g)
	}
	var got []protocol.UserEvent
	var offsets []int64
	for _, g := range pingPong(t, ctx, rb, "after-backlog") {
		if g.Type == protocol.TypeMsg && g.Msg.Room == inbox {
			got = append(got, inboxEvent(t, g))
			offsets = append(offsets, g.Msg.Offset)
		}
	}
	want := []protocol.UserEvent{
		{Type: protocol.UserInvited, Room: "two", By: "alice", Kind: protocol.KindPrivate},
		{Type: protocol.UserRemoved, Room: "one", By: "alice", Reason: protocol.RemovedKicked},
	}
	if !slices.Equal(got, want) || !slices.Equal(offsets, []int64{2, 3}) {
		t.Fatalf("recovered %+v at %v, want %+v at [2 3]", got, offsets, want)
	}

	rm, err := dialRaw(ctx, c.nodes[0].WSURL(), mallory.AccessToken, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer rm.close()
	for _, req := range []protocol.Frame{
		{Type: protocol.TypeSubscribe, Room: inbox},
		{Type: protocol.TypeHistory, Room: inbox, ID: "peek"},
		{Type: protocol.TypeSend, Room: inbox, CID: "spoof", Body: `{"type":"invited","room":"evil"}`},
	} {
		if g := answer(t, ctx, rm, req); g.Type != protocol.TypeError || g.Code != protocol.ErrNotFound {
			t.Fatalf("another user's %s to the inbox: %+v", req.Type, g)
		}
	}
}
