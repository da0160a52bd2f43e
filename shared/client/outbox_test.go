//go:build !js

package client

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parleychat/parley/shared/client/internal/peer"
	"github.com/parleychat/parley/shared/protocol"
	"github.com/parleychat/parley/shared/testenv"
)

// limitedPeer is a peer with the node's per-connection limits: a token
// bucket for send frames (refill faster than the node's 20/s, burst
// smaller than its 40, to keep the tests short) and the node's flood limit
// for all frames (100/s, burst 200), beyond which it closes with
// CloseFlood.
func limitedPeer(t *testing.T) *peer.Peer {
	p := peer.New(t)
	p.Configure(func(h *peer.Hooks) {
		h.SendRate, h.SendBurst = 50, 20
		h.FrameRate, h.FrameBurst = 100, 200
	})
	return p
}

// checkStoredInOrder fails unless room holds exactly the messages cids, in
// that order, each once.
func checkStoredInOrder(t *testing.T, p *peer.Peer, room string, cids []string) {
	t.Helper()
	got := p.Messages(room)
	if len(got) != len(cids) {
		t.Fatalf("room holds %d messages, want %d", len(got), len(cids))
	}
	for i, m := range got {
		if m.CID != cids[i] {
			t.Fatalf("message at offset %d has cid %s (%q), want %s: stored out of send order", m.Offset, m.CID, m.Body, cids[i])
		}
	}
}

// sendMany queues n messages and returns their cids in send order.
func sendMany(t *testing.T, c *Client, n int) []string {
	t.Helper()
	cids := make([]string, n)
	for i := range cids {
		cid, err := c.Send("general", fmt.Sprint("message ", i))
		if err != nil {
			t.Fatalf("send %d: %v", i, err)
		}
		cids[i] = cid
	}
	return cids
}

// ackedCIDs returns the distinct cids of the ack events.
func ackedCIDs(rec *recorder) map[string]bool {
	out := map[string]bool{}
	for _, ev := range rec.kind(EventAck) {
		out[ev.CID] = true
	}
	return out
}

func TestBurstOverRateLimitAllStoredInSendOrder(t *testing.T) {
	p := limitedPeer(t)
	rec := &recorder{}
	c := New(testConfig(p, rec))
	start(t, c)
	testenv.Eventually(t, waitTimeout, "connect", testenv.Cond(func() bool { return c.Connected() }))

	began := time.Now()
	cids := sendMany(t, c, 200)
	testenv.Eventually(t, 30*time.Second, "200 acks", testenv.Cond(func() bool { return len(ackedCIDs(rec)) == 200 }))
	took := time.Since(began)

	if errs := rec.kind(EventError); len(errs) != 0 {
		t.Fatalf("%d error events, first %+v: a rate limit must never drop a message", len(errs), errs[0])
	}
	if n := len(c.Pending()); n != 0 {
		t.Fatalf("%d messages still pending after every ack", n)
	}
	checkStoredInOrder(t, p, "general", cids)
	if p.Floods() != 0 || p.Accepts() != 1 {
		t.Fatalf("floods %d, connections %d: the outbox must drain on one connection without flooding", p.Floods(), p.Accepts())
	}
	sends, refused := len(p.Frames(protocol.TypeSend)), p.RateLimited()
	t.Logf("200 messages stored in %v: %d send frames, %d refused with rate_limited", took.Round(time.Millisecond), sends, refused)
	// The old client re-pipelined its whole backlog after each refusal; the
	// window and the pacing keep refusals to a fraction of the messages.
	if refused > 50 {
		t.Fatalf("%d rate_limited refusals for 200 messages: the outbox provokes a storm", refused)
	}
}

func TestOfflineOutboxDrainsAfterConnect(t *testing.T) {
	p := limitedPeer(t)
	rec := &recorder{}
	c := New(testConfig(p, rec))
	_ = c.Subscribe("general", 0)
	cids := sendMany(t, c, 100) // queued while disconnected
	if n := len(c.Pending()); n != 100 {
		t.Fatalf("%d pending before connecting, want 100", n)
	}
	start(t, c)
	testenv.Eventually(t, 30*time.Second, "outbox drained", testenv.Cond(func() bool { return len(c.Pending()) == 0 }))

	if errs := rec.kind(EventError); len(errs) != 0 {
		t.Fatalf("%d error events, first %+v", len(errs), errs[0])
	}
	if n := len(ackedCIDs(rec)); n != 100 {
		t.Fatalf("%d messages acked, want 100", n)
	}
	checkStoredInOrder(t, p, "general", cids)
	testenv.Eventually(t, waitTimeout, "own messages delivered", testenv.Cond(func() bool { return len(rec.offsets("general")) == 100 }))
	if got := rec.offsets("general"); !equalOffsets(got, seq(1, 100)) {
		t.Fatalf("delivered offsets %v, want 1..100", got)
	}
	if p.Floods() != 0 || p.Accepts() != 1 {
		t.Fatalf("floods %d, connections %d", p.Floods(), p.Accepts())
	}
	t.Logf("100 offline messages: %d send frames, %d refused with rate_limited", len(p.Frames(protocol.TypeSend)), p.RateLimited())
}

func TestPermanentErrorDropsOnlyThatMessage(t *testing.T) {
	p := limitedPeer(t)
	p.Configure(func(h *peer.Hooks) {
		h.OnFrame = func(pc *peer.Conn, f protocol.Frame) bool {
			if f.Type == protocol.TypeSend && f.Body == "message 30" {
				pc.Send(protocol.ErrorFrame(protocol.ErrForbidden, f.CID, "read-only room"))
				return true
			}
			return false
		}
	})
	rec := &recorder{}
	c := New(testConfig(p, rec))
	start(t, c)
	testenv.Eventually(t, waitTimeout, "connect", testenv.Cond(func() bool { return c.Connected() }))
	cids := sendMany(t, c, 60)
	testenv.Eventually(t, 30*time.Second, "outbox drained", testenv.Cond(func() bool { return len(c.Pending()) == 0 }))

	errs := rec.kind(EventError)
	if len(errs) != 1 || errs[0].CID != cids[30] {
		t.Fatalf("error events %+v, want one for message 30 (%s)", errs, cids[30])
	}
	var se *ServerError
	if !errors.As(errs[0].Err, &se) || se.Code != protocol.ErrForbidden {
		t.Fatalf("error %v, want forbidden", errs[0].Err)
	}
	want := append(append([]string(nil), cids[:30]...), cids[31:]...)
	checkStoredInOrder(t, p, "general", want)
	if p.RateLimited() == 0 {
		t.Fatal("the burst never reached the rate limit: the test proves nothing")
	}
}

// A message refused far more often than the old bound of five attempts,
// with rate_limited and unavailable (no retry_after: the client backs
// off), is still stored.
func TestRetryableRefusalsNeverDrop(t *testing.T) {
	p := peer.New(t)
	var refusals atomic.Int32
	p.Configure(func(h *peer.Hooks) {
		h.OnFrame = func(pc *peer.Conn, f protocol.Frame) bool {
			if f.Type != protocol.TypeSend || refusals.Add(1) > 12 {
				return false
			}
			e := protocol.ErrorFrame(protocol.ErrUnavailable, f.CID, "store down")
			if refusals.Load()%2 == 0 {
				e = protocol.ErrorFrame(protocol.ErrRateLimited, f.CID, "slow down")
				e.RetryAfter = 1
			}
			pc.Send(e)
			return true
		}
	})
	rec := &recorder{}
	c := New(testConfig(p, rec))
	start(t, c)
	cid, _ := c.Send("general", "persistent")
	testenv.Eventually(t, 10*time.Second, "ack", testenv.Cond(func() bool { return len(rec.kind(EventAck)) == 1 }))
	if errs := rec.kind(EventError); len(errs) != 0 {
		t.Fatalf("error events %+v: rate_limited and unavailable must never drop", errs)
	}
	sends := p.Frames(protocol.TypeSend)
	if len(sends) != 13 {
		t.Fatalf("%d send frames, want 12 refused and 1 stored", len(sends))
	}
	for _, f := range sends {
		if f.CID != cid {
			t.Fatalf("send with cid %s, want %s every time", f.CID, cid)
		}
	}
	if p.Accepts() != 1 {
		t.Fatalf("%d connections: refusals are retried on the same one", p.Accepts())
	}
}

// internal_error is retried, but a bounded number of times: a message that
// keeps hitting a node bug must not block the outbox for good.
func TestInternalErrorDropsAfterBound(t *testing.T) {
	p := peer.New(t)
	p.Configure(func(h *peer.Hooks) {
		h.OnFrame = func(pc *peer.Conn, f protocol.Frame) bool {
			if f.Type == protocol.TypeSend && f.Body == "poison" {
				pc.Send(protocol.ErrorFrame(protocol.ErrInternal, f.CID, "bug"))
				return true
			}
			return false
		}
	})
	rec := &recorder{}
	c := New(testConfig(p, rec))
	start(t, c)
	poison, _ := c.Send("general", "poison")
	fine, _ := c.Send("general", "fine")
	testenv.Eventually(t, 10*time.Second, "outbox drained", testenv.Cond(func() bool { return len(c.Pending()) == 0 }))
	errs := rec.kind(EventError)
	if len(errs) != 1 || errs[0].CID != poison {
		t.Fatalf("error events %+v, want one for the poison message", errs)
	}
	n := 0
	for _, f := range p.Frames(protocol.TypeSend) {
		if f.CID == poison {
			n++
		}
	}
	if n != maxInternalFailures {
		t.Fatalf("poison message written %d times, want %d", n, maxInternalFailures)
	}
	checkStoredInOrder(t, p, "general", []string{fine})
}

// At most sendWindow messages await their answer; each answer lets one
// more go.
func TestSendWindowBoundsMessagesInFlight(t *testing.T) {
	p := peer.New(t)
	var mu sync.Mutex
	var held []protocol.Frame
	var conn *peer.Conn
	p.Configure(func(h *peer.Hooks) {
		h.OnFrame = func(pc *peer.Conn, f protocol.Frame) bool {
			if f.Type != protocol.TypeSend {
				return false
			}
			mu.Lock()
			held, conn = append(held, f), pc
			mu.Unlock()
			return true // no answer yet
		}
	})
	rec := &recorder{}
	c := New(testConfig(p, rec))
	start(t, c)
	testenv.Eventually(t, waitTimeout, "connect", testenv.Cond(func() bool { return c.Connected() }))
	cids := sendMany(t, c, 3*sendWindow)
	testenv.Eventually(t, waitTimeout, "a full window", testenv.Cond(func() bool { return len(p.Frames(protocol.TypeSend)) == sendWindow }))
	roundTrip(t, c) // a send beyond the window would have arrived first
	if n := len(p.Frames(protocol.TypeSend)); n != sendWindow {
		t.Fatalf("%d sends in flight, want the window of %d", n, sendWindow)
	}

	mu.Lock()
	first, pc := held[0], conn
	mu.Unlock()
	m, _ := p.Store(pc.User(), first.Room, first.CID, first.Body)
	pc.Send(protocol.Frame{Type: protocol.TypeAck, Room: m.Room, CID: m.CID, Offset: m.Offset, TS: m.TS})
	testenv.Eventually(t, waitTimeout, "one more send after the ack", testenv.Cond(func() bool { return len(p.Frames(protocol.TypeSend)) == sendWindow+1 }))
	roundTrip(t, c)
	sends := p.Frames(protocol.TypeSend)
	if len(sends) != sendWindow+1 {
		t.Fatalf("%d sends after one ack, want %d", len(sends), sendWindow+1)
	}
	for i, f := range sends {
		if f.CID != cids[i] {
			t.Fatalf("send %d has cid %s, want %s (outbox order)", i, f.CID, cids[i])
		}
	}
}

// After a rate_limited answer for one message, the later ones already in
// flight are refused too: everything is resent from the refused message,
// in order, once each, and their own refusals do not pause the outbox
// again.
func TestRefusalResendsFromRefusedMessageInOrder(t *testing.T) {
	p := peer.New(t)
	var gate atomic.Bool // refuse every send while set
	gate.Store(true)
	var refused atomic.Int32
	p.Configure(func(h *peer.Hooks) {
		h.OnFrame = func(pc *peer.Conn, f protocol.Frame) bool {
			if f.Type != protocol.TypeSend || !gate.Load() {
				return false
			}
			if refused.Add(1) == sendWindow {
				gate.Store(false)
			}
			e := protocol.ErrorFrame(protocol.ErrRateLimited, f.CID, "slow down")
			e.RetryAfter = 20
			pc.Send(e)
			return true
		}
	})
	rec := &recorder{}
	c := New(testConfig(p, rec))
	start(t, c)
	testenv.Eventually(t, waitTimeout, "connect", testenv.Cond(func() bool { return c.Connected() }))
	cids := sendMany(t, c, 3*sendWindow)
	testenv.Eventually(t, 10*time.Second, "outbox drained", testenv.Cond(func() bool { return len(c.Pending()) == 0 }))
	checkStoredInOrder(t, p, "general", cids)
	sends := p.Frames(protocol.TypeSend)
	if len(sends) != len(cids)+sendWindow {
		t.Fatalf("%d send frames, want %d: the refused window once more, then each message once", len(sends), len(cids)+sendWindow)
	}
	for i, f := range sends[sendWindow:] {
		if f.CID != cids[i] {
			t.Fatalf("resend %d has cid %s, want %s (from the refused one, in order)", i, f.CID, cids[i])
		}
	}
	if len(rec.kind(EventError)) != 0 {
		t.Fatal("a rate limit reported as an error")
	}
}
