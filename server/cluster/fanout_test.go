package cluster_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/parleychat/parley/shared/protocol"
	"github.com/parleychat/parley/shared/testenv"
)

// baseURLs lists every node's http:// base URL.
func (c *cluster) baseURLs() []string {
	out := make([]string, len(c.nodes))
	for i, n := range c.nodes {
		out[i] = n.URL
	}
	return out
}

// member is one user of TestFanoutAcrossNodes: either a Go client or a raw
// connection whose frames are checked on the wire.
type member struct {
	user  string
	rooms []string
	ch    *chatter
	w     *wireWatcher
	cids  []string // raw members: cids sent
}

func (m *member) count(room string) int {
	if m.ch != nil {
		return m.ch.count(room)
	}
	return m.w.count(room)
}

func (m *member) messages(room string) []protocol.Message {
	if m.ch != nil {
		return m.ch.messages(room)
	}
	return m.w.messages(room)
}

func (m *member) allAcked() error {
	if m.ch != nil {
		return m.ch.outboxEmpty()
	}
	return m.w.acked(m.cids)
}

// TestFanoutAcrossNodes: 30 users spread over 3 nodes in 3 rooms send 20
// messages each at the same time. Every subscriber receives every message
// of its rooms exactly once, in dense offset order from 1, and every node
// serves the identical history.
func TestFanoutAcrossNodes(t *testing.T) {
	c := startCluster(t, options{nodes: 3})
	const users, perUser = 30, 20
	rooms := []string{"alpha", "beta", "gamma"}
	names := userNames("fan", users)
	// User i signs up on node i%3 and chats on node (i+1)%3: the token of
	// one node must be good on another.
	sessions := signupAll(t, c.baseURLs(), names)
	createRooms(t, c.nodes[0].URL, sessions[0].AccessToken, rooms...)

	members := make([]*member, users)
	for i, name := range names {
		m := &member{user: name, rooms: []string{rooms[i%3]}}
		if i%2 == 0 {
			m.rooms = append(m.rooms, rooms[(i+1)%3])
		}
		n := c.nodes[(i+1)%3]
		if i%5 == 0 {
			m.w = rawMember(t, n, sessions[i].AccessToken, m.rooms)
		} else {
			m.ch = connect(t, n.WSURL(), name, sessions[i].AccessToken, chatOptions{})
			m.ch.subscribe(m.rooms...)
		}
		members[i] = m
	}

	want := sendAll(t, members, perUser)
	total := make(map[string]int)
	for _, s := range want {
		total[s.room]++
	}
	testenv.Eventually(t, waitTimeout, "every member has every message of its rooms", func() error {
		for _, m := range members {
			if err := m.allAcked(); err != nil {
				return err
			}
			for _, r := range m.rooms {
				if got := m.count(r); got != total[r] {
					return fmt.Errorf("%s has %d of %d messages in %s", m.user, got, total[r], r)
				}
			}
		}
		return nil
	})

	// One Go client per node reads the history through its own node.
	readers := make([]*chatter, len(c.nodes))
	for _, m := range members {
		if m.ch == nil {
			continue
		}
		for i, n := range c.nodes {
			if readers[i] == nil && m.ch.waitConnected() == n.ID {
				readers[i] = m.ch
			}
		}
	}
	for _, r := range rooms {
		var ref []protocol.Message
		for i, rd := range readers {
			if rd == nil {
				t.Fatalf("no reader on %s", c.nodes[i].ID)
			}
			h, err := rd.fetchHistory(r)
			if err != nil {
				t.Fatal(err)
			}
			if i == 0 {
				ref = h
				checkDense(t, r, ref, total[r])
				checkBodies(t, r, ref, want)
				continue
			}
			if !reflect.DeepEqual(h, ref) {
				t.Errorf("history of %s differs between %s and %s", r, c.nodes[0].ID, c.nodes[i].ID)
			}
		}
		for _, m := range members {
			if slices.Contains(m.rooms, r) && !reflect.DeepEqual(m.messages(r), ref) {
				t.Errorf("%s: messages of %s differ from the history", m.user, r)
			}
		}
	}
	for _, m := range members {
		if m.w != nil {
			m.w.stop()
			for _, p := range m.w.failures() {
				t.Errorf("%s (raw): %s", m.user, p)
			}
		}
	}
}

// rawMember connects a raw client to n and subscribes it to rooms.
func rawMember(t testing.TB, n *node, token string, rooms []string) *wireWatcher {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	rc, err := dialRaw(ctx, n.WSURL(), token, nil)
	if err != nil {
		t.Fatal(err)
	}
	w := watch(rc)
	t.Cleanup(w.stop)
	for _, r := range rooms {
		if err := rc.write(ctx, protocol.Frame{Type: protocol.TypeSubscribe, Room: r}); err != nil {
			t.Fatal(err)
		}
	}
	testenv.Eventually(t, waitTimeout, rc.user+" subscribed", func() error { return w.isSubscribed(rooms...) })
	return w
}

// sent is one message a test sent.
type sent struct {
	room, author, body string
}

// sendAll makes every member send perUser messages at once, alternating
// between its rooms, and returns what was sent.
func sendAll(t testing.TB, members []*member, perUser int) []sent {
	t.Helper()
	var (
		mu   sync.Mutex
		out  []sent
		errs []error
		wg   sync.WaitGroup
	)
	start := make(chan struct{})
	for _, m := range members {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			for k := range perUser {
				room := m.rooms[k%len(m.rooms)]
				body := fmt.Sprintf("%s says %d", m.user, k)
				err := m.send(room, body, k)
				mu.Lock()
				if err != nil {
					errs = append(errs, err)
				} else {
					out = append(out, sent{room: room, author: m.user, body: body})
				}
				mu.Unlock()
			}
		}()
	}
	close(start)
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	return out
}

func (m *member) send(room, body string, k int) error {
	if m.ch != nil {
		_, err := m.ch.c.Send(room, body)
		return err
	}
	cid := fmt.Sprintf("%s-%d", m.user, k)
	m.cids = append(m.cids, cid)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return m.w.rc.write(ctx, protocol.Frame{Type: protocol.TypeSend, Room: room, CID: cid, Body: body})
}

// checkDense fails unless msgs carry offsets 1..n in order.
func checkDense(t testing.TB, room string, msgs []protocol.Message, n int) {
	t.Helper()
	if len(msgs) != n {
		t.Errorf("%s: %d messages, want %d", room, len(msgs), n)
	}
	for i, m := range msgs {
		if m.Offset != int64(i+1) {
			t.Errorf("%s: message %d has offset %d", room, i, m.Offset)
			return
		}
	}
}

// checkBodies fails unless msgs hold exactly the messages sent to room.
func checkBodies(t testing.TB, room string, msgs []protocol.Message, want []sent) {
	t.Helper()
	wantSet := make(map[sent]int)
	for _, s := range want {
		if s.room == room {
			wantSet[s]++
		}
	}
	for _, m := range msgs {
		k := sent{room: m.Room, author: m.Author, body: m.Body}
		if wantSet[k] == 0 {
			t.Errorf("%s: unexpected or duplicate message %d by %s: %q", room, m.Offset, m.Author, m.Body)
			continue
		}
		wantSet[k]--
	}
	for k, n := range wantSet {
		if n > 0 {
			t.Errorf("%s: missing message by %s: %q", room, k.author, k.body)
		}
	}
}
