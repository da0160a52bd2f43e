package cluster_test

import (
	"fmt"
	"net/http"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/parleychat/parley/shared/protocol"
	"github.com/parleychat/parley/shared/testenv"
)

// loader sends a message every interval through a chatter until stopped.
type loader struct {
	ch       *chatter
	room     string
	interval time.Duration
	stopc    chan struct{}
	done     chan struct{}

	mu   sync.Mutex
	sent int
	err  error
}

func startLoader(t testing.TB, ch *chatter, room string, interval time.Duration) *loader {
	l := &loader{ch: ch, room: room, interval: interval, stopc: make(chan struct{}), done: make(chan struct{})}
	go l.run()
	t.Cleanup(func() { _, _ = l.stop() })
	return l
}

func (l *loader) run() {
	defer close(l.done)
	tick := time.NewTicker(l.interval)
	defer tick.Stop()
	for {
		select {
		case <-l.stopc:
			return
		case <-tick.C:
		}
		l.mu.Lock()
		_, err := l.ch.c.Send(l.room, fmt.Sprintf("%s load %d", l.ch.name, l.sent))
		if err != nil {
			l.err = err
			l.mu.Unlock()
			return
		}
		l.sent++
		l.mu.Unlock()
	}
}

// stop ends the loader and returns how many messages it queued.
func (l *loader) stop() (int, error) {
	select {
	case <-l.stopc:
	default:
		close(l.stopc)
	}
	<-l.done
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.sent, l.err
}

func (l *loader) count() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.sent
}

// readyzWatch polls a node's /readyz until the node stops answering and
// records every status it saw.
type readyzWatch struct {
	done  chan struct{}
	mu    sync.Mutex
	codes map[int]int
}

func watchReadyz(n *node) *readyzWatch {
	w := &readyzWatch{done: make(chan struct{}), codes: make(map[int]int)}
	go func() {
		defer close(w.done)
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		for {
			code, err := n.Readyz()
			if err == nil {
				w.mu.Lock()
				w.codes[code]++
				w.mu.Unlock()
			}
			select {
			case <-n.Done():
				return
			case <-tick.C:
			}
		}
	}()
	return w
}

// TestDrainMovesClients: six clients are on node1 behind a balancer while
// clients on node2 and node3 keep sending. SIGTERM on node1: its /readyz
// turns 503, its clients are closed with 4000 (going away), reconnect
// through the balancer to the other nodes and end with every message of
// the room, exactly once and in order; node1 exits 0 within its drain
// timeout.
func TestDrainMovesClients(t *testing.T) {
	c := startCluster(t, options{nodes: 3, drainDelay: 500 * time.Millisecond})
	const room = "ops"
	drained := c.nodes[0]
	names := userNames("drain", 8)
	sessions := signupAll(t, c.baseURLs(), names)
	createRooms(t, c.nodes[0].URL, sessions[0].AccessToken, room)

	lb := startBalancer(t, c.nodes)
	var movers []*chatter
	for i := range 6 {
		ch := connect(t, lb.wsURL(), names[i], sessions[i].AccessToken, chatOptions{})
		if got := ch.waitConnected(); got != drained.ID {
			t.Fatalf("%s connected to %s through the balancer, want %s", names[i], got, drained.ID)
		}
		ch.subscribe(room)
		movers = append(movers, ch)
	}
	lb.roundRobin()
	everyone := slices.Clone(movers)
	for i, n := range c.nodes[1:] {
		ch := connect(t, n.WSURL(), names[6+i], sessions[6+i].AccessToken, chatOptions{})
		ch.subscribe(room)
		everyone = append(everyone, ch)
	}
	// The load starts only once everyone is subscribed: a subscribe from
	// 0 starts live at the room's head, so a chatter subscribing after
	// the first send would rightly not be sent it, and the test's
	// every-message check would fail for the test's own race.
	var loaders []*loader
	for _, ch := range everyone[len(movers):] {
		loaders = append(loaders, startLoader(t, ch, room, 70*time.Millisecond))
	}
	testenv.Eventually(t, waitTimeout, "load flowing", func() error { return allHave(everyone, room, 20) })

	// Messages the movers send just before the drain may be caught in
	// flight: their outbox must resend them on the new node, once.
	moverSent := 0
	for _, ch := range movers {
		for k := range 3 {
			ch.send(room, fmt.Sprintf("%s before drain %d", ch.name, k))
			moverSent++
		}
	}
	rw := watchReadyz(drained)
	code, took, err := drained.Term(c.opts.drainDelay + c.opts.drainTimeout + 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	<-rw.done
	t.Logf("drain: %s exited with %d after %v; readyz statuses seen: %v", drained.ID, code, took.Round(time.Millisecond), rw.codes)
	if code != 0 {
		t.Errorf("%s exit code %d, want 0", drained.ID, code)
	}
	if limit := c.opts.drainDelay + c.opts.drainTimeout; took > limit+2*time.Second {
		t.Errorf("%s took %v to drain, over its delay+timeout %v", drained.ID, took, limit)
	}
	if rw.codes[http.StatusServiceUnavailable] == 0 {
		t.Errorf("%s /readyz never answered 503 while draining (saw %v)", drained.ID, rw.codes)
	}

	for _, ch := range movers {
		testenv.Eventually(t, waitTimeout, ch.name+" moved", func() error {
			nodes, closes := ch.connections()
			if !slices.Contains(closes, protocol.CloseGoingAway) {
				return fmt.Errorf("no close %d yet (closes %v)", protocol.CloseGoingAway, closes)
			}
			if last := nodes[len(nodes)-1]; last == drained.ID || !ch.c.Connected() {
				return fmt.Errorf("still not on another node (connections: %v)", nodes)
			}
			return nil
		})
	}
	// Keep the load on a little after the move, then stop it.
	before := loaders[0].count()
	testenv.Eventually(t, waitTimeout, "load continues after the drain", func() error {
		if loaders[0].count() < before+10 {
			return fmt.Errorf("only %d messages since the move", loaders[0].count()-before)
		}
		return nil
	})
	total := moverSent
	for _, l := range loaders {
		n, err := l.stop()
		if err != nil {
			t.Fatal(err)
		}
		total += n
	}
	checkComplete(t, everyone, room, total, everyone[len(everyone)-1])
	for _, ch := range movers {
		nodes, _ := ch.connections()
		t.Logf("%s: connections on %v", ch.name, nodes)
	}
}

// allHave reports an error until every chatter has at least n messages of
// room.
func allHave(chatters []*chatter, room string, n int) error {
	for _, ch := range chatters {
		if got := ch.count(room); got < n {
			return fmt.Errorf("%s has %d messages, want at least %d", ch.name, got, n)
		}
	}
	return nil
}

// checkComplete waits until every chatter's outbox is empty and it holds
// total messages of room, then checks the room's history (read through
// reader) is dense and equals what each chatter received.
func checkComplete(t testing.TB, chatters []*chatter, room string, total int, reader *chatter) {
	t.Helper()
	testenv.Eventually(t, waitTimeout, "every client has every message", func() error {
		for _, ch := range chatters {
			if err := ch.outboxEmpty(); err != nil {
				return err
			}
			if got := ch.count(room); got != total {
				return fmt.Errorf("%s has %d of %d messages", ch.name, got, total)
			}
		}
		return nil
	})
	h, err := reader.fetchHistory(room)
	if err != nil {
		t.Fatal(err)
	}
	checkDense(t, room, h, total)
	seen := make(map[string]bool)
	for _, m := range h {
		key := m.Author + "\x00" + m.Body
		if seen[key] {
			t.Errorf("%s: message %q by %s stored twice", room, m.Body, m.Author)
		}
		seen[key] = true
	}
	for _, ch := range chatters {
		if !reflect.DeepEqual(ch.messages(room), h) {
			t.Errorf("%s: delivered messages differ from the history", ch.name)
		}
	}
}
