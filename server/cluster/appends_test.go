package cluster_test

import (
	"fmt"
	"reflect"
	"slices"
	"testing"

	"github.com/parleychat/parley/shared/protocol"
	"github.com/parleychat/parley/shared/testenv"
)

// TestConcurrentAppendsOneRoom: four users on each of three nodes append
// 25 messages each to one room at the same moment. The room ends with
// offsets 1..300, each message stored once, every ack naming a distinct
// offset, and every node serving the same history.
func TestConcurrentAppendsOneRoom(t *testing.T) {
	c := startCluster(t, options{nodes: 3})
	const perNode, perUser, room = 4, 25, "hot"
	names := userNames("app", perNode*len(c.nodes))
	sessions := signupAll(t, c.baseURLs(), names)
	createRooms(t, c.nodes[0].URL, sessions[0].AccessToken, room)

	members := make([]*member, len(names))
	for i, name := range names {
		n := c.nodes[i%len(c.nodes)]
		ch := connect(t, n.WSURL(), name, sessions[i].AccessToken, chatOptions{})
		ch.subscribe(room)
		members[i] = &member{user: name, rooms: []string{room}, ch: ch}
	}
	want := sendAll(t, members, perUser)
	total := len(names) * perUser
	testenv.Eventually(t, waitTimeout, "every message acknowledged and delivered", func() error {
		for _, m := range members {
			if err := m.allAcked(); err != nil {
				return err
			}
			if got := m.count(room); got != total {
				return fmt.Errorf("%s has %d of %d messages", m.user, got, total)
			}
		}
		return nil
	})

	// Acks: one distinct offset per message, together exactly 1..total.
	var offsets []int64
	for _, m := range members {
		m.ch.mu.Lock()
		for _, off := range m.ch.acks {
			offsets = append(offsets, off)
		}
		m.ch.mu.Unlock()
	}
	slices.Sort(offsets)
	if len(offsets) != total {
		t.Errorf("%d acks, want %d", len(offsets), total)
	}
	for i, off := range offsets {
		if off != int64(i+1) {
			t.Fatalf("acked offsets are not 1..%d: position %d holds %d", total, i, off)
		}
	}

	// History from every node: dense, complete, identical.
	var ref [][]protocol.Message
	for i := range c.nodes {
		h, err := members[i].ch.fetchHistory(room) // members[i] is on node i
		if err != nil {
			t.Fatal(err)
		}
		ref = append(ref, h)
	}
	checkDense(t, room, ref[0], total)
	checkBodies(t, room, ref[0], want)
	for i := 1; i < len(ref); i++ {
		if !reflect.DeepEqual(ref[i], ref[0]) {
			t.Errorf("history differs between %s and %s", c.nodes[0].ID, c.nodes[i].ID)
		}
	}
	for _, m := range members {
		if !reflect.DeepEqual(m.messages(room), ref[0]) {
			t.Errorf("%s: delivered messages differ from the history", m.user)
		}
	}
}
