package cluster_test

import (
	"errors"
	"io"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"
)

// balancer is a TCP load balancer in front of the nodes, as a cloud load
// balancer with active health checks would be: each new connection goes to
// the first node, in the balancer's current order, whose /readyz answers
// 200. It lets a client with one URL move to another node when its node
// drains, which is what the drain test needs. It knows nothing of HTTP
// beyond the health check: bytes are copied both ways.
type balancer struct {
	t     testing.TB
	ln    net.Listener
	nodes []*node

	mu    sync.Mutex
	next  int  // where the round-robin starts next
	first bool // always start at nodes[0] instead of round-robin
	// blind: no health check; every connection goes to the next node that
	// accepts TCP, as an L4 balancer without health checks does.
	blind bool
	// refusing: every new connection is closed at once (the network
	// is down for the clients behind the balancer).
	refusing bool
	conns    map[net.Conn]struct{}

	wg sync.WaitGroup
}

// startBalancer listens on a free loopback port; it starts in "first"
// mode (every connection to the first ready node).
func startBalancer(t testing.TB, nodes []*node) *balancer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	b := &balancer{t: t, ln: ln, nodes: nodes, first: true, conns: make(map[net.Conn]struct{})}
	b.wg.Add(1)
	go b.serve()
	t.Cleanup(b.close)
	return b
}

// wsURL is the balancer's WebSocket endpoint.
func (b *balancer) wsURL() string { return "ws://" + b.ln.Addr().String() + "/ws" }

// noHealthChecks makes the balancer send connections to nodes whatever
// their /readyz says.
func (b *balancer) noHealthChecks() {
	b.mu.Lock()
	b.blind = true
	b.mu.Unlock()
}

func (b *balancer) isBlind() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.blind
}

// cut closes every connection through the balancer (as a network blip
// would); new ones are forwarded as before.
func (b *balancer) cut() {
	b.mu.Lock()
	defer b.mu.Unlock()
	for c := range b.conns {
		_ = c.Close()
	}
}

// roundRobin makes the balancer spread new connections over ready nodes.
func (b *balancer) roundRobin() {
	b.mu.Lock()
	b.first = false
	b.mu.Unlock()
}

func (b *balancer) close() {
	_ = b.ln.Close()
	b.mu.Lock()
	for c := range b.conns {
		_ = c.Close()
	}
	b.conns = nil
	b.mu.Unlock()
	b.wg.Wait()
}

func (b *balancer) serve() {
	defer b.wg.Done()
	for {
		c, err := b.ln.Accept()
		if err != nil {
			return // listener closed
		}
		b.wg.Add(1)
		go func() {
			defer b.wg.Done()
			b.forward(c)
		}()
	}
}

// refuse makes the balancer close new connections at once (on) or
// forward them again (off).
func (b *balancer) refuse(on bool) {
	b.mu.Lock()
	b.refusing = on
	b.mu.Unlock()
}

func (b *balancer) isRefusing() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.refusing
}

// forward connects c to a ready node and copies until either side ends.
func (b *balancer) forward(c net.Conn) {
	defer c.Close()
	if b.isRefusing() {
		return
	}
	up, err := b.dialReady()
	if err != nil {
		return
	}
	defer up.Close()
	if !b.track(c, up) {
		return
	}
	defer b.untrack(c, up)
	done := make(chan struct{}, 2)
	go func() {
		_, _ = io.Copy(up, c)
		_ = up.Close()
		done <- struct{}{}
	}()
	_, _ = io.Copy(c, up)
	_ = c.Close()
	<-done
}

// dialReady dials the first node that reports ready.
func (b *balancer) dialReady() (net.Conn, error) {
	b.mu.Lock()
	start := 0
	if !b.first {
		start = b.next
		b.next = (b.next + 1) % len(b.nodes)
	}
	b.mu.Unlock()
	for i := range b.nodes {
		n := b.nodes[(start+i)%len(b.nodes)]
		if !b.isBlind() {
			if code, err := n.Readyz(); err != nil || code != http.StatusOK {
				continue
			}
		}
		up, err := net.DialTimeout("tcp", n.Addr, 2*time.Second)
		if err == nil {
			return up, nil
		}
	}
	return nil, errors.New("no ready node")
}

// track registers a pair of connections for close; it reports false when
// the balancer is closing.
func (b *balancer) track(c, up net.Conn) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.conns == nil {
		return false
	}
	b.conns[c], b.conns[up] = struct{}{}, struct{}{}
	return true
}

func (b *balancer) untrack(c, up net.Conn) {
	b.mu.Lock()
	defer b.mu.Unlock()
	delete(b.conns, c)
	delete(b.conns, up)
}
