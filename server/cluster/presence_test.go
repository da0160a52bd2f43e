package cluster_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/parleychat/parley/server/presence"
	"github.com/parleychat/parley/shared/testenv"
)

// presenceSweepSlack is what the presence bound allows beyond the TTL: the
// server/presence documents that a crashed node's users are reported gone
// within TTL + Sweep; announcing the new list to clients takes a moment
// more.
const presenceSweepSlack = presence.DefaultSweep + 4*time.Second

// TestPresenceAcrossNodes: two users on each of three nodes in one room.
// Every client's presence list names all six; typing on one node shows on
// another; after one node is killed (SIGKILL, no goodbye) its users vanish
// from the other nodes' lists within the presence bound.
func TestPresenceAcrossNodes(t *testing.T) {
	c := startCluster(t, options{nodes: 3})
	const room = "lobby"
	names := userNames("pres", 6)
	sessions := signupAll(t, c.baseURLs(), names)
	createRooms(t, c.nodes[0].URL, sessions[0].AccessToken, room)

	chatters := make([]*chatter, len(names))
	for i, name := range names {
		chatters[i] = connect(t, c.nodes[i%3].WSURL(), name, sessions[i].AccessToken, chatOptions{})
		chatters[i].subscribe(room)
	}
	everyone := slices.Sorted(slices.Values(names))
	testenv.Eventually(t, waitTimeout, "presence lists agree on every node", func() error {
		return samePresence(chatters, room, everyone)
	})

	// Typing on node1 (user 0) shows on node2 (user 1). Typing is
	// best-effort, so it is repeated until seen.
	testenv.Eventually(t, waitTimeout, "typing crosses nodes", func() error {
		chatters[0].c.Typing(room)
		if !chatters[1].sawTyping(room, names[0]) {
			return fmt.Errorf("%s did not see %s typing", names[1], names[0])
		}
		return nil
	})

	// Kill node3: users 2 and 5 must vanish from the others' lists.
	killed := c.nodes[2]
	var survivors []*chatter
	var remaining []string
	for i, ch := range chatters {
		if i%3 == 2 {
			continue
		}
		survivors = append(survivors, ch)
		remaining = append(remaining, names[i])
	}
	slices.Sort(remaining)
	start := time.Now()
	killed.Kill()
	for i, ch := range chatters {
		if i%3 == 2 {
			ch.disconnect() // nowhere to reconnect to
		}
	}
	// The documented bound is TTL + sweep; the deadline is generous so a
	// busy machine does not fail the test, and the time it took is logged.
	testenv.Eventually(t, 4*(c.opts.presenceTTL+presenceSweepSlack), "killed node's users leave every presence list", func() error {
		return samePresence(survivors, room, remaining)
	})
	t.Logf("presence: killed node's users gone after %v (TTL %v)", time.Since(start).Round(10*time.Millisecond), c.opts.presenceTTL)
}

// samePresence reports an error unless every chatter's latest presence
// list of room equals want.
func samePresence(chatters []*chatter, room string, want []string) error {
	for _, ch := range chatters {
		if got := ch.presenceOf(room); !slices.Equal(got, want) {
			return fmt.Errorf("%s sees %v, want %v", ch.name, got, want)
		}
	}
	return nil
}

// TestPresenceDeltasAcrossNodes: users join one room on two nodes, with
// the Go client (which takes presence_delta). Joins and leaves on either
// node reach everyone as deltas and every list stays right; a user with a
// socket on each node stays present when one closes and leaves when both
// have.
func TestPresenceDeltasAcrossNodes(t *testing.T) {
	c := startCluster(t, options{nodes: 2})
	const room = "deltas"
	names := userNames("delta", 6)
	sessions := signupAll(t, c.baseURLs(), names)
	createRooms(t, c.nodes[0].URL, sessions[0].AccessToken, room)

	var chatters []*chatter
	var want []string
	for i, name := range names {
		ch := connect(t, c.nodes[i%2].WSURL(), name, sessions[i].AccessToken, chatOptions{})
		ch.subscribe(room)
		chatters = append(chatters, ch)
		want = append(want, name)
		slices.Sort(want)
		testenv.Eventually(t, waitTimeout, name+" seen everywhere", func() error { return samePresence(chatters, room, want) })
	}
	// names[0] (node 1) also connects to node 2.
	twin := connect(t, c.nodes[1].WSURL(), names[0], c.token(names[0]), chatOptions{})
	twin.subscribe(room)
	testenv.Eventually(t, waitTimeout, "the twin has the list", func() error { return samePresence([]*chatter{twin}, room, want) })

	// names[1] (node 2) leaves; names[0] closes its node 1 socket only.
	chatters[1].disconnect()
	chatters[0].disconnect()
	want = slices.DeleteFunc(want, func(u string) bool { return u == names[1] })
	rest := append([]*chatter{twin}, chatters[2:]...)
	testenv.Eventually(t, waitTimeout, names[1]+" gone everywhere, "+names[0]+" still there", func() error { return samePresence(rest, room, want) })

	// Then its node 2 socket too.
	twin.disconnect()
	want = slices.DeleteFunc(want, func(u string) bool { return u == names[0] })
	testenv.Eventually(t, waitTimeout, names[0]+" gone everywhere", func() error { return samePresence(chatters[2:], room, want) })
	for _, ch := range chatters[2:] {
		if n := ch.presenceDeltas(room); n == 0 {
			t.Errorf("%s got no presence deltas", ch.name)
		}
	}
}
