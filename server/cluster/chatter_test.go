package cluster_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/parleychat/parley/shared/client"
	"github.com/parleychat/parley/shared/protocol"
	"github.com/parleychat/parley/shared/testenv"
)

// chatter is one user running the Go client (shared/client) against a
// WebSocket URL, recording everything the client delivers and checking as
// it goes that every room's messages arrive densely from offset 1.
type chatter struct {
	t    testing.TB
	name string
	c    *client.Client
	stop context.CancelFunc
	done chan error
	once sync.Once

	mu         sync.Mutex
	msgs       map[string][]protocol.Message // delivered, in delivery order
	subscribed map[string]int                // subscribed events per room
	nodes      []string                      // node of each connection, in order
	closes     []protocol.CloseCode          // close codes of ended connections
	presence   map[string]*client.Presence   // presence per room, full lists and deltas applied
	deltas     map[string]int                // presence deltas received per room
	typing     map[string]map[string]bool    // users seen typing per room
	acks       map[string]int64              // cid → offset
	retries    map[string]int                // room retry events per room
	lastErr    error                         // why the last connection ended
	problems   []string
}

// chatOptions are optional settings of a chatter.
type chatOptions struct {
	// origin is sent as the handshake's Origin, as a browser would.
	origin string
}

// connect starts a chatter for user with token at wsURL; it runs until the
// test ends or disconnect is called.
func connect(t testing.TB, wsURL, user, token string, opts chatOptions) *chatter {
	t.Helper()
	ch := &chatter{
		t:          t,
		name:       user,
		done:       make(chan error, 1),
		msgs:       make(map[string][]protocol.Message),
		subscribed: make(map[string]int),
		presence:   make(map[string]*client.Presence),
		deltas:     make(map[string]int),
		typing:     make(map[string]map[string]bool),
		acks:       make(map[string]int64),
		retries:    make(map[string]int),
	}
	ch.c = client.New(client.Config{
		URL:         wsURL,
		Token:       func(context.Context) (string, error) { return token, nil },
		OnEvent:     ch.onEvent,
		MinBackoff:  50 * time.Millisecond,
		MaxBackoff:  time.Second,
		DrainJitter: time.Second,
		Origin:      opts.origin,
	})
	ctx, cancel := context.WithCancel(context.Background())
	ch.stop = cancel
	go func() { ch.done <- ch.c.Run(ctx) }()
	t.Cleanup(func() {
		ch.disconnect()
		ch.checkProblems()
	})
	return ch
}

// disconnect stops the client and waits for Run to return.
func (ch *chatter) disconnect() {
	ch.once.Do(func() {
		ch.stop()
		select {
		case err := <-ch.done:
			if err != nil && !errors.Is(err, context.Canceled) {
				ch.t.Errorf("%s: client run: %v", ch.name, err)
			}
		case <-time.After(10 * time.Second):
			ch.t.Errorf("%s: client did not stop", ch.name)
		}
	})
}

func (ch *chatter) onEvent(ev client.Event) {
	ch.mu.Lock()
	defer ch.mu.Unlock()
	switch ev.Kind {
	case client.EventConnected:
		ch.nodes = append(ch.nodes, ev.Node)
	case client.EventDisconnected:
		ch.lastErr = ev.Err
		if ev.Code != 0 {
			ch.closes = append(ch.closes, ev.Code)
		}
	case client.EventSubscribed:
		ch.subscribed[ev.Room]++
	case client.EventMessage:
		ch.onMessage(ev)
	case client.EventAck:
		ch.acks[ev.CID] = ev.Offset
	case client.EventPresence:
		if ch.presence[ev.Room] == nil {
			ch.presence[ev.Room] = new(client.Presence)
		}
		ch.presence[ev.Room].Apply(ev)
		if ev.Delta {
			ch.deltas[ev.Room]++
		}
	case client.EventTyping:
		if ch.typing[ev.Room] == nil {
			ch.typing[ev.Room] = make(map[string]bool)
		}
		ch.typing[ev.Room][ev.User] = true
	case client.EventRoomRetry:
		ch.retries[ev.Room]++
	case client.EventGap:
		ch.problem("gap in %s: offsets %d..%d skipped", ev.Room, ev.Since+1, ev.Offset-1)
	case client.EventError:
		ch.problem("error event (room %s, ref %s): %v", ev.Room, ev.Ref, ev.Err)
	}
}

// onMessage records a delivered message; callers hold mu.
func (ch *chatter) onMessage(ev client.Event) {
	list := ch.msgs[ev.Room]
	want := int64(1)
	if len(list) > 0 {
		want = list[len(list)-1].Offset + 1
	}
	if ev.Offset != want {
		ch.problem("room %s: delivered offset %d, want %d", ev.Room, ev.Offset, want)
	}
	ch.msgs[ev.Room] = append(list, *ev.Msg)
}

func (ch *chatter) problem(format string, args ...any) {
	ch.problems = append(ch.problems, fmt.Sprintf(format, args...))
}

// subscribe subscribes to rooms from the start and waits until the node
// confirmed each.
func (ch *chatter) subscribe(rooms ...string) {
	ch.t.Helper()
	for _, r := range rooms {
		if err := ch.c.Subscribe(r, 0); err != nil {
			ch.t.Fatalf("%s: subscribe %s: %v", ch.name, r, err)
		}
	}
	testenv.Eventually(ch.t, waitTimeout, ch.name+" subscribed", func() error {
		ch.mu.Lock()
		defer ch.mu.Unlock()
		for _, r := range rooms {
			if ch.subscribed[r] == 0 {
				return fmt.Errorf("no subscribed event for %s", r)
			}
		}
		return nil
	})
}

// send queues a message and returns its cid.
func (ch *chatter) send(room, body string) string {
	ch.t.Helper()
	cid, err := ch.c.Send(room, body)
	if err != nil {
		ch.t.Fatalf("%s: send to %s: %v", ch.name, room, err)
	}
	return cid
}

// waitConnected waits until a connection is up and returns its node.
func (ch *chatter) waitConnected() string {
	ch.t.Helper()
	var node string
	testenv.Eventually(ch.t, waitTimeout, ch.name+" connected", func() error {
		ch.mu.Lock()
		defer ch.mu.Unlock()
		if !ch.c.Connected() || len(ch.nodes) == 0 {
			return fmt.Errorf("not connected (last error: %v)", ch.lastErr)
		}
		node = ch.nodes[len(ch.nodes)-1]
		return nil
	})
	return node
}

// messages returns a copy of what was delivered for room.
func (ch *chatter) messages(room string) []protocol.Message {
	ch.mu.Lock()
	defer ch.mu.Unlock()
	return slices.Clone(ch.msgs[room])
}

func (ch *chatter) count(room string) int {
	ch.mu.Lock()
	defer ch.mu.Unlock()
	return len(ch.msgs[room])
}

// lastOffset is the offset of the last message delivered for room.
func (ch *chatter) lastOffset(room string) int64 {
	ch.mu.Lock()
	defer ch.mu.Unlock()
	if list := ch.msgs[room]; len(list) > 0 {
		return list[len(list)-1].Offset
	}
	return 0
}

// retryCount is how many times the node refused room for now.
func (ch *chatter) retryCount(room string) int {
	ch.mu.Lock()
	defer ch.mu.Unlock()
	return ch.retries[room]
}

// presenceOf returns the latest presence list of room.
func (ch *chatter) presenceOf(room string) []string {
	ch.mu.Lock()
	defer ch.mu.Unlock()
	if p := ch.presence[room]; p != nil {
		return p.Users()
	}
	return nil
}

// presenceDeltas returns how many presence deltas room got.
func (ch *chatter) presenceDeltas(room string) int {
	ch.mu.Lock()
	defer ch.mu.Unlock()
	return ch.deltas[room]
}

func (ch *chatter) sawTyping(room, user string) bool {
	ch.mu.Lock()
	defer ch.mu.Unlock()
	return ch.typing[room][user]
}

// connections returns the node of every connection so far and the close
// codes of those that ended.
func (ch *chatter) connections() (nodes []string, closes []protocol.CloseCode) {
	ch.mu.Lock()
	defer ch.mu.Unlock()
	return slices.Clone(ch.nodes), slices.Clone(ch.closes)
}

// checkProblems fails the test with everything that went wrong so far.
func (ch *chatter) checkProblems() {
	ch.t.Helper()
	ch.mu.Lock()
	defer ch.mu.Unlock()
	for _, p := range ch.problems {
		ch.t.Errorf("%s: %s", ch.name, p)
	}
	ch.problems = nil
}

// outboxEmpty reports an error while messages wait for their ack.
func (ch *chatter) outboxEmpty() error {
	if n := len(ch.c.Pending()); n > 0 {
		return fmt.Errorf("%s: %d messages wait for their ack", ch.name, n)
	}
	return nil
}

// fetchHistory reads room's whole history through ch's connection, page
// by page from the newest, and returns it oldest first.
func (ch *chatter) fetchHistory(room string) ([]protocol.Message, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var all []protocol.Message
	before := int64(0)
	for {
		page, more, err := ch.c.History(ctx, room, before, protocol.HistoryPageMax)
		if err != nil {
			return nil, fmt.Errorf("%s: history of %s before %d: %w", ch.name, room, before, err)
		}
		all = append(slices.Clone(page), all...)
		if !more || len(page) == 0 {
			return all, nil
		}
		before = page[0].Offset
	}
}
