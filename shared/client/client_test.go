//go:build !js

package client

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parleychat/parley/shared/client/internal/peer"
	"github.com/parleychat/parley/shared/protocol"
	"github.com/parleychat/parley/shared/testenv"
)

func TestSubscribeReplaysBacklogAndDeliversLive(t *testing.T) {
	p := peer.New(t)
	for i := 0; i < 3; i++ {
		p.Post("general", "bob", fmt.Sprint("old ", i))
		p.Post("random", "bob", fmt.Sprint("old ", i))
	}
	rec := &recorder{}
	c := New(testConfig(p, rec))
	if err := c.Subscribe("general", 1); err != nil {
		t.Fatal(err)
	}
	_ = c.Subscribe("random", 0) // no offset: the node starts it live
	start(t, c)
	testenv.Eventually(t, waitTimeout, "backlog", testenv.Cond(func() bool { return len(rec.offsets("general")) == 2 }))
	testenv.Eventually(t, waitTimeout, "subscribed", testenv.Cond(func() bool { return len(rec.kind(EventSubscribed)) == 2 }))
	p.Post("general", "bob", "live")
	p.Post("random", "bob", "live")
	testenv.Eventually(t, waitTimeout, "live messages", testenv.Cond(func() bool { return len(rec.offsets("general")) == 3 && len(rec.offsets("random")) == 1 }))
	evs := rec.all()
	if evs[0].Kind != EventConnected || evs[0].User != "alice" || evs[0].Node != "peer" {
		t.Fatalf("first event %+v, want connected as alice", evs[0])
	}
	for _, sub := range rec.kind(EventSubscribed) {
		if sub.Head != 3 || sub.Epoch != 1 || sub.Reset {
			t.Fatalf("subscribed event %+v", sub)
		}
	}
	if got := rec.offsets("general"); !equalOffsets(got, seq(2, 4)) {
		t.Fatalf("general offsets %v, want 2..4", got)
	}
	if got := rec.offsets("random"); !equalOffsets(got, []int64{4}) {
		t.Fatalf("random offsets %v, want [4]", got)
	}
	if len(rec.kind(EventGap)) != 0 || len(p.Frames(protocol.TypeHistory)) != 0 {
		t.Fatal("a live start was treated as a gap")
	}
	if c.Offset("general") != 4 || !c.Connected() || c.User() != "alice" {
		t.Fatalf("Offset %d Connected %v User %q", c.Offset("general"), c.Connected(), c.User())
	}
}

// A room subscribed while empty has offset 0, and a node replays nothing
// for since 0: what was posted while the client was away must be fetched.
func TestResumeRecoversRoomThatWasEmpty(t *testing.T) {
	p := peer.New(t)
	rec := &recorder{}
	c := New(testConfig(p, rec))
	_ = c.Subscribe("general", 0)
	r := start(t, c)
	testenv.Eventually(t, waitTimeout, "subscribed", testenv.Cond(func() bool { return len(rec.kind(EventSubscribed)) == 1 }))
	r.stop(t)
	for i := 0; i < 3; i++ {
		p.Post("general", "bob", "while away")
	}
	start(t, c) // the same client: subscriptions and offsets persist
	testenv.Eventually(t, waitTimeout, "missed messages", testenv.Cond(func() bool { return len(rec.offsets("general")) == 3 }))
	p.Post("general", "bob", "live")
	testenv.Eventually(t, waitTimeout, "live", testenv.Cond(func() bool { return len(rec.offsets("general")) == 4 }))
	if got := rec.offsets("general"); !equalOffsets(got, seq(1, 4)) {
		t.Fatalf("offsets %v, want 1..4", got)
	}
	if h := p.Frames(protocol.TypeHistory); len(h) != 1 || h[0].Before != 4 || h[0].Limit != 3 {
		t.Fatalf("history requests %+v, want before=4 limit=3", h)
	}
}

func TestReconnectAfterSlowConsumerResubscribesFromLastOffset(t *testing.T) {
	p := peer.New(t)
	rec := &recorder{}
	c := New(testConfig(p, rec))
	_ = c.Subscribe("general", 0)
	r := start(t, c)
	testenv.Eventually(t, waitTimeout, "subscribed", testenv.Cond(func() bool { return len(rec.kind(EventSubscribed)) == 1 }))
	for i := 0; i < 3; i++ {
		p.Post("general", "bob", "m")
	}
	testenv.Eventually(t, waitTimeout, "three", testenv.Cond(func() bool { return len(rec.offsets("general")) == 3 }))

	p.CloseAll(protocol.CloseSlowConsumer, "slow")
	p.Post("general", "bob", "while away") // may land before or after the reconnect
	testenv.Eventually(t, waitTimeout, "reconnect", testenv.Cond(func() bool { return len(rec.kind(EventConnected)) == 2 }))
	p.Post("general", "bob", "after")
	testenv.Eventually(t, waitTimeout, "all messages", testenv.Cond(func() bool { return len(rec.offsets("general")) == 5 }))

	subs := p.Frames(protocol.TypeSubscribe)
	if len(subs) != 2 || subs[0].Since != 0 || subs[1].Since != 3 {
		t.Fatalf("subscribe frames %+v, want since 0 then 3", subs)
	}
	if got := rec.offsets("general"); !equalOffsets(got, seq(1, 5)) {
		t.Fatalf("offsets %v, want 1..5 exactly once", got)
	}
	dis := rec.kind(EventDisconnected)
	if len(dis) != 1 || dis[0].Code != protocol.CloseSlowConsumer || dis[0].Retry > 50*time.Millisecond {
		t.Fatalf("disconnected events %+v", dis)
	}
	if err := r.stop(t); !errors.Is(err, context.Canceled) {
		t.Fatalf("Run after cancel = %v, want context.Canceled", err)
	}
}

func TestTerminalCloseStopsRun(t *testing.T) {
	p := peer.New(t)
	p.Configure(func(h *peer.Hooks) { h.AuthClose = protocol.CloseUnauthorized })
	rec := &recorder{}
	r := start(t, New(testConfig(p, rec)))
	err := r.wait(t)
	var ce *CloseError
	if !errors.Is(err, ErrUnauthorized) || !errors.As(err, &ce) || ce.Code != protocol.CloseUnauthorized {
		t.Fatalf("Run = %v, want a CloseError 4500 matching ErrUnauthorized", err)
	}
	if n := p.Accepts(); n != 1 {
		t.Fatalf("%d connections, want 1: a terminal code must not reconnect", n)
	}
	if dis := rec.kind(EventDisconnected); len(dis) != 1 || dis[0].Retry != 0 || dis[0].Code != protocol.CloseUnauthorized {
		t.Fatalf("disconnected events %+v", dis)
	}
}

// TestSessionEndedFrameStopsRun: a browser's WebSocket does not show the
// close code, so a session_ended error frame ends Run as ErrSessionEnded
// however the connection then closes: on a live connection and in answer
// to auth. A client that missed it would reconnect.
func TestSessionEndedFrameStopsRun(t *testing.T) {
	t.Run("live", func(t *testing.T) {
		p := peer.New(t)
		rec := &recorder{}
		r := start(t, New(testConfig(p, rec)))
		testenv.Eventually(t, waitTimeout, "connect", testenv.Cond(func() bool { return len(rec.kind(EventConnected)) == 1 }))
		p.Inject(protocol.ErrorFrame(protocol.ErrSessionEnded, "", "session ended; sign in again"))
		p.CloseAll(1000, "") // a normal close, not 4502
		wantSessionEnded(t, p, rec, r.wait(t))
	})
	t.Run("auth", func(t *testing.T) {
		p := peer.New(t)
		p.Configure(func(h *peer.Hooks) { h.AuthEnded = true })
		rec := &recorder{}
		r := start(t, New(testConfig(p, rec)))
		wantSessionEnded(t, p, rec, r.wait(t))
	})
}

func wantSessionEnded(t *testing.T, p *peer.Peer, rec *recorder, err error) {
	t.Helper()
	var ce *CloseError
	if !errors.Is(err, ErrSessionEnded) || !errors.Is(err, ErrUnauthorized) || !errors.As(err, &ce) || ce.Code != protocol.CloseSessionEnded {
		t.Fatalf("Run = %v, want a CloseError 4502 matching ErrSessionEnded", err)
	}
	if n := p.Accepts(); n != 1 {
		t.Fatalf("%d connections, want 1: an ended session must not reconnect", n)
	}
	if dis := rec.kind(EventDisconnected); len(dis) != 1 || dis[0].Code != protocol.CloseSessionEnded {
		t.Fatalf("disconnected events %+v, want one with code 4502", dis)
	}
}

func TestTerminalCloseOnLiveConnection(t *testing.T) {
	p := peer.New(t)
	rec := &recorder{}
	r := start(t, New(testConfig(p, rec)))
	testenv.Eventually(t, waitTimeout, "connect", testenv.Cond(func() bool { return len(rec.kind(EventConnected)) == 1 }))
	p.CloseAll(protocol.CloseProtocolError, "bad frame")
	if err := r.wait(t); !errors.Is(err, ErrProtocol) {
		t.Fatalf("Run = %v, want ErrProtocol", err)
	}
}

func TestTokenUnauthorizedStopsRun(t *testing.T) {
	p := peer.New(t)
	cfg := testConfig(p, &recorder{})
	cfg.Token = func(context.Context) (string, error) {
		return "", &APIError{Status: 401, Code: protocol.ErrUnauthorized, Message: "refresh token revoked"}
	}
	if err := start(t, New(cfg)).wait(t); !errors.Is(err, ErrUnauthorized) {
		t.Fatalf("Run = %v, want ErrUnauthorized", err)
	}
	if p.Accepts() != 0 {
		t.Fatal("dialed without a token")
	}
}

func TestGoingAwayReconnectsWithinDrainJitter(t *testing.T) {
	p := peer.New(t)
	rec := &recorder{}
	cfg := testConfig(p, rec)
	// A plain backoff would wait up to an hour; the drain path must not.
	cfg.MinBackoff, cfg.MaxBackoff = time.Hour, time.Hour
	cfg.DrainJitter = 30 * time.Millisecond
	start(t, New(cfg))
	testenv.Eventually(t, waitTimeout, "connect", testenv.Cond(func() bool { return len(rec.kind(EventConnected)) == 1 }))
	p.CloseAll(protocol.CloseGoingAway, "draining")
	testenv.Eventually(t, waitTimeout, "reconnect", testenv.Cond(func() bool { return len(rec.kind(EventConnected)) == 2 }))
	dis := rec.kind(EventDisconnected)
	if len(dis) != 1 || dis[0].Code != protocol.CloseGoingAway || dis[0].Retry < 0 || dis[0].Retry > cfg.DrainJitter {
		t.Fatalf("disconnected events %+v, want code 4000 with retry in [0, %v]", dis, cfg.DrainJitter)
	}
}

func TestOutboxResentInOrderWithSameCIDs(t *testing.T) {
	p := peer.New(t)
	// First connection: store the first message but lose its ack, ignore
	// the others. Later connections behave.
	var first atomic.Bool
	first.Store(true)
	p.Configure(func(h *peer.Hooks) {
		h.OnFrame = func(pc *peer.Conn, f protocol.Frame) bool {
			if f.Type != protocol.TypeSend || pc.N() != 1 {
				return false
			}
			if first.CompareAndSwap(true, false) {
				p.Store(pc.User(), f.Room, f.CID, f.Body)
			}
			return true
		}
	})
	rec := &recorder{}
	c := New(testConfig(p, rec))
	_ = c.Subscribe("general", 0)
	offline, err := c.Send("general", "written offline")
	if err != nil {
		t.Fatal(err)
	}
	start(t, c)
	testenv.Eventually(t, waitTimeout, "connect", testenv.Cond(func() bool { return len(rec.kind(EventConnected)) == 1 }))
	var cids = []string{offline}
	for _, body := range []string{"two", "three"} {
		cid, err := c.Send("general", body)
		if err != nil {
			t.Fatal(err)
		}
		cids = append(cids, cid)
	}
	testenv.Eventually(t, waitTimeout, "three sends", testenv.Cond(func() bool { return len(p.Frames(protocol.TypeSend)) == 3 }))
	if pend := c.Pending(); len(pend) != 3 || pend[0].CID != offline || pend[0].Written != 1 {
		t.Fatalf("pending %+v", pend)
	}

	p.CloseAll(protocol.CloseSlowConsumer, "")
	testenv.Eventually(t, waitTimeout, "outbox drained", testenv.Cond(func() bool { return len(c.Pending()) == 0 && len(rec.offsets("general")) == 3 }))

	// The first message was stored on the first connection: after the
	// reconnect it is either resent (and acked as the original) or seen
	// in the backlog with its own cid first, which clears it too.
	sends := p.Frames(protocol.TypeSend)
	for i := 0; i < 3; i++ {
		if sends[i].CID != cids[i] {
			t.Fatalf("send %d has cid %s, want %s", i, sends[i].CID, cids[i])
		}
	}
	resent := sends[3:]
	if len(resent) < 2 || len(resent) > 3 {
		t.Fatalf("%d sends after the reconnect, want the 2 or 3 unacked", len(resent))
	}
	for i, f := range resent {
		if want := cids[3-len(resent)+i]; f.CID != want {
			t.Fatalf("resent %d has cid %s, want %s (same cids, same order)", i, f.CID, want)
		}
	}
	if n := len(p.Messages("general")); n != 3 {
		t.Fatalf("room holds %d messages, want 3: a resent cid must not duplicate", n)
	}
	for i, ev := range rec.kind(EventMessage) {
		if ev.CID != cids[i] || ev.Offset != int64(i+1) {
			t.Fatalf("message %d: cid %s offset %d", i, ev.CID, ev.Offset)
		}
	}
}

func TestOutboxBounded(t *testing.T) {
	c := New(Config{URL: "ws://unused", OutboxSize: 2})
	for i := 0; i < 2; i++ {
		if _, err := c.Send("general", "hi"); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.Send("general", "one too many"); !errors.Is(err, ErrOutboxFull) {
		t.Fatalf("third Send = %v, want ErrOutboxFull", err)
	}
	if err := c.SendWithCID("general", c.Pending()[0].CID, "hi"); err != nil {
		t.Fatalf("re-queueing a pending cid = %v, want nil (idempotent)", err)
	}
	if _, err := c.Send("general", " \n "); err == nil {
		t.Fatal("blank body accepted")
	}
	if _, err := c.Send("No Such Room", "hi"); err == nil {
		t.Fatal("invalid room accepted")
	}
}

func TestSendQueueBound(t *testing.T) {
	cn := newConn(nil, 1, protocol.Frame{User: "alice"}, time.Minute, 2)
	for i := 0; i < 2; i++ {
		if !cn.enqueue([]byte("x"), false) {
			t.Fatalf("enqueue %d refused below the bound", i)
		}
	}
	if cn.enqueue([]byte("typing"), true) || cn.failure() != nil {
		t.Fatal("a droppable frame over the bound must be dropped without failing the connection")
	}
	if cn.enqueue([]byte("subscribe"), false) || !errors.Is(cn.failure(), ErrSendQueueFull) {
		t.Fatalf("a frame that must not be lost over the bound: failure %v, want ErrSendQueueFull", cn.failure())
	}
}

func TestGapInBacklogFetchedWithHistory(t *testing.T) {
	p := peer.New(t)
	for i := 0; i < 7; i++ {
		p.Post("general", "bob", "m")
	}
	// Replay 2, 3, 6, 7 after since 1: the client must fetch 4 and 5.
	p.Configure(func(h *peer.Hooks) {
		h.OnFrame = func(pc *peer.Conn, f protocol.Frame) bool {
			if f.Type != protocol.TypeSubscribe {
				return false
			}
			pc.Send(protocol.Frame{Type: protocol.TypeSubscribed, Room: f.Room, Epoch: 1, Head: 7, Since: f.Since})
			for _, o := range []int{2, 3, 6, 7} {
				m := p.Messages(f.Room)[o-1]
				pc.Send(protocol.Frame{Type: protocol.TypeMsg, Msg: &m})
			}
			pc.Subscribe(f.Room)
			return true
		}
	})
	rec := &recorder{}
	c := New(testConfig(p, rec))
	_ = c.Subscribe("general", 1)
	start(t, c)
	testenv.Eventually(t, waitTimeout, "2..7", testenv.Cond(func() bool { return len(rec.offsets("general")) == 6 }))
	if got := rec.offsets("general"); !equalOffsets(got, seq(2, 7)) {
		t.Fatalf("offsets %v, want 2..7", got)
	}
	h := p.Frames(protocol.TypeHistory)
	if len(h) != 1 || h[0].Before != 6 || h[0].Limit != 2 {
		t.Fatalf("history requests %+v, want one before=6 limit=2", h)
	}
	p.Post("general", "bob", "live")
	testenv.Eventually(t, waitTimeout, "live", testenv.Cond(func() bool { return len(rec.offsets("general")) == 7 }))
	if len(rec.kind(EventGap)) != 0 {
		t.Fatal("a fetchable gap was reported as skipped")
	}
}

func TestOutOfOrderLiveMessagesDeliveredInOrder(t *testing.T) {
	p := peer.New(t)
	rec := &recorder{}
	c := New(testConfig(p, rec))
	_ = c.Subscribe("general", 0)
	start(t, c)
	testenv.Eventually(t, waitTimeout, "subscribed", testenv.Cond(func() bool { return len(rec.kind(EventSubscribed)) == 1 }))
	// Stored in order, sent out of order: whichever comes first, the live
	// 2 or the history reply that fetches it, each is delivered once.
	var stored []protocol.Message
	for i := 0; i < 4; i++ {
		m, _ := p.Store("bob", "general", "", "x")
		stored = append(stored, m)
	}
	for _, o := range []int{1, 3, 2, 3, 4} {
		p.Inject(protocol.Frame{Type: protocol.TypeMsg, Msg: &stored[o-1]})
	}
	testenv.Eventually(t, waitTimeout, "four", testenv.Cond(func() bool { return len(rec.offsets("general")) == 4 }))
	roundTrip(t, c) // a wrong extra delivery would have come first
	if got := rec.offsets("general"); !equalOffsets(got, seq(1, 4)) {
		t.Fatalf("offsets %v, want 1..4 once each", got)
	}
}

func TestHistoryCorrelatesConcurrentRequests(t *testing.T) {
	p := peer.New(t)
	for i := 0; i < 30; i++ {
		p.Post("general", "bob", fmt.Sprint(i+1))
	}
	// Answer history requests in reverse order of arrival.
	var held []protocol.Frame
	var hmu sync.Mutex
	p.Configure(func(h *peer.Hooks) {
		h.OnFrame = func(pc *peer.Conn, f protocol.Frame) bool {
			if f.Type != protocol.TypeHistory {
				return false
			}
			hmu.Lock()
			defer hmu.Unlock()
			held = append(held, f)
			if len(held) == 3 {
				for i := len(held) - 1; i >= 0; i-- {
					pc.Answer(held[i])
				}
			}
			return true
		}
	})
	rec := &recorder{}
	c := New(testConfig(p, rec))
	if _, _, err := c.History(context.Background(), "general", 0, 10); !errors.Is(err, ErrNotConnected) {
		t.Fatalf("History offline = %v, want ErrNotConnected", err)
	}
	start(t, c)
	testenv.Eventually(t, waitTimeout, "connect", testenv.Cond(func() bool { return c.Connected() }))
	var wg sync.WaitGroup
	for _, before := range []int64{0, 21, 11} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
			defer cancel()
			msgs, more, err := c.History(ctx, "general", before, 10)
			if err != nil {
				t.Errorf("History(before=%d): %v", before, err)
				return
			}
			top := before - 1
			if before == 0 {
				top = 30
			}
			if len(msgs) != 10 || msgs[9].Offset != top || msgs[0].Offset != top-9 || more != (top > 10) {
				t.Errorf("History(before=%d) = %d msgs [%d..%d] more %v", before, len(msgs), msgs[0].Offset, msgs[len(msgs)-1].Offset, more)
			}
		}()
	}
	wg.Wait()
}

func TestHistoryErrorAndLostConnection(t *testing.T) {
	p := peer.New(t)
	p.Configure(func(h *peer.Hooks) {
		h.OnFrame = func(pc *peer.Conn, f protocol.Frame) bool {
			switch {
			case f.Type == protocol.TypeHistory && f.Room == "secret":
				pc.Send(protocol.ErrorFrame(protocol.ErrForbidden, f.ID, "not a member"))
				return true
			case f.Type == protocol.TypeHistory && f.Room == "void":
				return true // never answered
			}
			return false
		}
	})
	rec := &recorder{}
	c := New(testConfig(p, rec))
	start(t, c)
	testenv.Eventually(t, waitTimeout, "connect", testenv.Cond(func() bool { return c.Connected() }))
	_, _, err := c.History(context.Background(), "secret", 0, 5)
	var se *ServerError
	if !errors.As(err, &se) || se.Code != protocol.ErrForbidden {
		t.Fatalf("History = %v, want a forbidden ServerError", err)
	}
	done := make(chan error, 1)
	go func() {
		_, _, err := c.History(context.Background(), "void", 0, 5)
		done <- err
	}()
	testenv.Eventually(t, waitTimeout, "request sent", testenv.Cond(func() bool {
		for _, f := range p.Frames(protocol.TypeHistory) {
			if f.Room == "void" {
				return true
			}
		}
		return false
	}))
	p.CloseAll(protocol.CloseIdle, "")
	select {
	case err := <-done:
		if !errors.Is(err, ErrNotConnected) {
			t.Fatalf("History across a lost connection = %v, want ErrNotConnected", err)
		}
	case <-time.After(waitTimeout):
		t.Fatal("History did not return when its connection was lost")
	}
	if len(rec.kind(EventError)) != 0 {
		t.Fatal("an answered error was also emitted as an event")
	}
}

// TestHeartbeatDetectsDeadConnection: a node that answers nothing after
// its welcome is given up, once it was pinged (the first connection's
// pings reach it: a client whose writer ran late must ask before it
// concludes), and the client connects again.
func TestHeartbeatDetectsDeadConnection(t *testing.T) {
	p := peer.New(t)
	var firstPinged atomic.Bool
	p.Configure(func(h *peer.Hooks) {
		h.OnFrame = func(c *peer.Conn, f protocol.Frame) bool {
			if f.Type == protocol.TypePing && c.N() == 1 {
				firstPinged.Store(true)
			}
			return true // answer nothing: a dead connection
		}
	})
	rec := &recorder{}
	cfg := testConfig(p, rec)
	cfg.PingInterval = 20 * time.Millisecond
	start(t, New(cfg))
	testenv.Eventually(t, waitTimeout, "dead connection detected", testenv.Cond(func() bool {
		for _, ev := range rec.kind(EventDisconnected) {
			if errors.Is(ev.Err, ErrHeartbeatTimeout) {
				return true
			}
		}
		return false
	}))
	testenv.Eventually(t, waitTimeout, "reconnect", testenv.Cond(func() bool { return p.Accepts() >= 2 }))
	// Written before the client closed it, so its reader gets it.
	testenv.Eventually(t, waitTimeout, "a ping on the connection given up", testenv.Cond(firstPinged.Load))
}

func TestHeartbeatKeepsLiveConnection(t *testing.T) {
	p := peer.New(t)
	// The node asks for 250ms pings: short enough that a dead-connection
	// check runs many times, long enough that a busy machine's scheduling
	// delays (tens of ms) never look like a dead peer (2.5 intervals).
	p.Configure(func(h *peer.Hooks) { h.Heartbeat = 250 })
	rec := &recorder{}
	start(t, New(testConfig(p, rec)))
	testenv.Eventually(t, waitTimeout, "pings", testenv.Cond(func() bool { return len(p.Frames(protocol.TypePing)) >= 6 }))
	if n := p.Accepts(); n != 1 {
		t.Fatalf("%d connections: a connection answering pings was dropped", n)
	}
}

func TestReauthSendsFreshToken(t *testing.T) {
	p := peer.New(t)
	rec := &recorder{}
	cfg := testConfig(p, rec)
	var calls atomic.Int32
	cfg.Token = func(context.Context) (string, error) { return fmt.Sprint("tok", calls.Add(1)), nil }
	start(t, New(cfg))
	testenv.Eventually(t, waitTimeout, "connect", testenv.Cond(func() bool { return len(rec.kind(EventConnected)) == 1 }))
	p.Inject(protocol.Frame{Type: protocol.TypeReauth})
	testenv.Eventually(t, waitTimeout, "token frame", testenv.Cond(func() bool { return len(p.Frames(protocol.TypeToken)) == 1 }))
	if tok := p.Frames(protocol.TypeToken)[0].Token; tok != "tok2" || p.Tokens()[0] != "tok1" {
		t.Fatalf("auth token %q, reauth token %q", p.Tokens()[0], tok)
	}
}

func TestResyncResubscribesFromLastOffset(t *testing.T) {
	p := peer.New(t)
	rec := &recorder{}
	c := New(testConfig(p, rec))
	_ = c.Subscribe("general", 0)
	start(t, c)
	testenv.Eventually(t, waitTimeout, "subscribed", testenv.Cond(func() bool { return len(rec.kind(EventSubscribed)) == 1 }))
	p.Post("general", "bob", "a")
	p.Post("general", "bob", "b")
	testenv.Eventually(t, waitTimeout, "two", testenv.Cond(func() bool { return len(rec.offsets("general")) == 2 }))
	p.Inject(protocol.Frame{Type: protocol.TypeResync, Room: "general", Epoch: 1, Head: 2})
	testenv.Eventually(t, waitTimeout, "resubscribe", testenv.Cond(func() bool { return len(p.Frames(protocol.TypeSubscribe)) == 2 }))
	if s := p.Frames(protocol.TypeSubscribe)[1]; s.Since != 2 {
		t.Fatalf("resubscribe since %d, want 2", s.Since)
	}
	if len(rec.kind(EventResync)) != 1 {
		t.Fatal("no resync event")
	}
}

func TestRefusedMessageLeavesOutbox(t *testing.T) {
	p := peer.New(t)
	p.Configure(func(h *peer.Hooks) {
		h.OnFrame = func(pc *peer.Conn, f protocol.Frame) bool {
			if f.Type == protocol.TypeSend && f.Body == "forbidden" {
				pc.Send(protocol.ErrorFrame(protocol.ErrForbidden, f.CID, "read-only room"))
				return true
			}
			return false
		}
	})
	rec := &recorder{}
	c := New(testConfig(p, rec))
	start(t, c)
	cid, _ := c.Send("general", "forbidden")
	testenv.Eventually(t, waitTimeout, "error event", testenv.Cond(func() bool { return len(rec.kind(EventError)) == 1 }))
	ev := rec.kind(EventError)[0]
	if ev.CID != cid || len(c.Pending()) != 0 {
		t.Fatalf("error event %+v, pending %d", ev, len(c.Pending()))
	}
}

func TestRateLimitedMessageIsRetried(t *testing.T) {
	p := peer.New(t)
	var refused atomic.Bool
	p.Configure(func(h *peer.Hooks) {
		h.OnFrame = func(pc *peer.Conn, f protocol.Frame) bool {
			if f.Type == protocol.TypeSend && refused.CompareAndSwap(false, true) {
				e := protocol.ErrorFrame(protocol.ErrRateLimited, f.CID, "slow down")
				e.RetryAfter = 10
				pc.Send(e)
				return true
			}
			return false
		}
	})
	rec := &recorder{}
	c := New(testConfig(p, rec))
	start(t, c)
	cid, _ := c.Send("general", "hello")
	testenv.Eventually(t, waitTimeout, "ack after retry", testenv.Cond(func() bool { return len(rec.kind(EventAck)) == 1 }))
	if sends := p.Frames(protocol.TypeSend); len(sends) != 2 || sends[1].CID != cid {
		t.Fatalf("send frames %+v, want the same cid twice", sends)
	}
	if len(rec.kind(EventError)) != 0 || p.Accepts() != 1 {
		t.Fatal("a rate limit must be retried quietly on the same connection")
	}
}

func TestTypingThrottled(t *testing.T) {
	p := peer.New(t)
	rec := &recorder{}
	c := New(testConfig(p, rec))
	c.Typing("general") // offline: dropped
	start(t, c)
	testenv.Eventually(t, waitTimeout, "connect", testenv.Cond(func() bool { return c.Connected() }))
	_ = c.Subscribe("general", 0)
	testenv.Eventually(t, waitTimeout, "subscribed", testenv.Cond(func() bool { return len(rec.kind(EventSubscribed)) == 1 }))
	for i := 0; i < 5; i++ {
		c.Typing("general")
		c.Typing("random") // not subscribed: dropped
	}
	c.Unsubscribe("nothing") // a frame after the typing ones
	p.CreateRoom("later")
	_ = c.Subscribe("later", 0)
	testenv.Eventually(t, waitTimeout, "later subscribe", testenv.Cond(func() bool { return len(p.Frames(protocol.TypeSubscribe)) == 2 }))
	if ty := p.Frames(protocol.TypeTyping); len(ty) != 1 || ty[0].Room != "general" {
		t.Fatalf("typing frames %+v, want one for general", ty)
	}
	p.Inject(protocol.Frame{Type: protocol.TypeTyping, Room: "general", User: "alice"})
	p.Inject(protocol.Frame{Type: protocol.TypeTyping, Room: "general", User: "bob"})
	p.Inject(protocol.Frame{Type: protocol.TypeTyping, Room: "random", User: "bob"})
	testenv.Eventually(t, waitTimeout, "typing event", testenv.Cond(func() bool { return len(rec.kind(EventTyping)) >= 1 }))
	p.Post("general", "bob", "sync") // frames arrive in order: after this all typing is in
	testenv.Eventually(t, waitTimeout, "sync message", testenv.Cond(func() bool { return len(rec.offsets("general")) == 1 }))
	if ty := rec.kind(EventTyping); len(ty) != 1 || ty[0].User != "bob" || ty[0].Room != "general" {
		t.Fatalf("typing events %+v, want only bob in general (own and unsubscribed dropped)", ty)
	}
}

func TestUnsubscribeStopsDelivery(t *testing.T) {
	p := peer.New(t)
	rec := &recorder{}
	c := New(testConfig(p, rec))
	p.CreateRoom("random")
	_ = c.Subscribe("general", 0)
	_ = c.Subscribe("random", 0)
	start(t, c)
	testenv.Eventually(t, waitTimeout, "subscribed", testenv.Cond(func() bool { return len(rec.kind(EventSubscribed)) == 2 }))
	c.Unsubscribe("random")
	testenv.Eventually(t, waitTimeout, "unsubscribe frame", testenv.Cond(func() bool { return len(p.Frames(protocol.TypeUnsubscribe)) == 1 }))
	p.Inject(protocol.Frame{Type: protocol.TypeMsg, Msg: &protocol.Message{Room: "random", Offset: 1, Author: "bob", Body: "x"}})
	p.Post("general", "bob", "sync")
	testenv.Eventually(t, waitTimeout, "general message", testenv.Cond(func() bool { return len(rec.offsets("general")) == 1 }))
	if len(rec.offsets("random")) != 0 {
		t.Fatal("message of an unsubscribed room delivered")
	}
	if subs := c.Subscriptions(); len(subs) != 1 || subs["general"] != 1 {
		t.Fatalf("Subscriptions() = %v", subs)
	}
}

func TestRunRejectsSecondRunAndMissingConfig(t *testing.T) {
	p := peer.New(t)
	rec := &recorder{}
	c := New(testConfig(p, rec))
	start(t, c)
	testenv.Eventually(t, waitTimeout, "connect", testenv.Cond(func() bool { return c.Connected() }))
	if err := c.Run(context.Background()); !errors.Is(err, ErrAlreadyRunning) {
		t.Fatalf("second Run = %v, want ErrAlreadyRunning", err)
	}
	if err := New(Config{}).Run(context.Background()); err == nil {
		t.Fatal("Run without URL and Token succeeded")
	}
}

func TestReconnectsWhenNodeIsDown(t *testing.T) {
	p := peer.New(t)
	rec := &recorder{}
	cfg := testConfig(p, rec)
	p.Close() // nothing listens: every dial fails
	r := start(t, New(cfg))
	testenv.Eventually(t, waitTimeout, "several failed attempts", testenv.Cond(func() bool { return len(rec.kind(EventDisconnected)) >= 3 }))
	for _, ev := range rec.kind(EventDisconnected) {
		if ev.Err == nil || ev.Retry > cfg.MaxBackoff {
			t.Fatalf("disconnected event %+v", ev)
		}
	}
	if err := r.stop(t); !errors.Is(err, context.Canceled) {
		t.Fatalf("Run = %v", err)
	}
}

// TestRetryNowCutsTheWait: with a backoff of an hour, only RetryNow makes
// the client try again.
func TestRetryNowCutsTheWait(t *testing.T) {
	p := peer.New(t)
	rec := &recorder{}
	cfg := testConfig(p, rec)
	cfg.MinBackoff, cfg.MaxBackoff = time.Hour, time.Hour
	p.Close() // nothing listens: every dial fails
	c := New(cfg)
	r := start(t, c)
	testenv.Eventually(t, waitTimeout, "the first failed attempt", testenv.Cond(func() bool { return len(rec.kind(EventDisconnected)) == 1 }))
	for want := 2; want <= 3; want++ {
		c.RetryNow()
		testenv.Eventually(t, waitTimeout, "another attempt after RetryNow", testenv.Cond(func() bool { return len(rec.kind(EventDisconnected)) >= want }))
	}
	if err := r.stop(t); !errors.Is(err, context.Canceled) {
		t.Fatalf("Run = %v", err)
	}
}

func TestHistoryPageLargerThanMaxFrameBytes(t *testing.T) {
	p := peer.New(t)
	// A longest body is 20 KB once escaped: 50 make a 1 MB frame (a full
	// page of 200, 4 MB).
	body := strings.Repeat("<&é>", protocol.MaxBodyRunes/4)
	const n = 50
	for i := 0; i < n; i++ {
		p.Post("general", "bob", body)
	}
	c := New(testConfig(p, &recorder{}))
	start(t, c)
	testenv.Eventually(t, waitTimeout, "connect", testenv.Cond(func() bool { return c.Connected() }))
	msgs, more, err := c.History(context.Background(), "general", 0, n)
	if err != nil || len(msgs) != n || more || msgs[0].Body != body {
		t.Fatalf("History = %d msgs, more %v, err %v", len(msgs), more, err)
	}
	if p.Accepts() != 1 {
		t.Fatal("a large page dropped the connection")
	}
}

func TestEpochChangeRestartsRoom(t *testing.T) {
	p := peer.New(t)
	p.Post("general", "bob", "one")
	p.Post("general", "bob", "two")
	rec := &recorder{}
	c := New(testConfig(p, rec))
	// Cached under epoch 5 up to offset 3; the node is at epoch 1, head 2.
	_ = c.SubscribeEpoch("general", 5, 3)
	start(t, c)
	testenv.Eventually(t, waitTimeout, "subscribed", testenv.Cond(func() bool { return len(rec.kind(EventSubscribed)) == 1 }))
	if ev := rec.kind(EventSubscribed)[0]; !ev.Reset || ev.Epoch != 1 {
		t.Fatalf("subscribed event %+v, want a reset to epoch 1", ev)
	}
	p.Post("general", "bob", "three")
	testenv.Eventually(t, waitTimeout, "message of the new epoch", testenv.Cond(func() bool { return len(rec.offsets("general")) == 1 }))
	if got := rec.offsets("general"); !equalOffsets(got, []int64{3}) {
		t.Fatalf("offsets %v, want [3]", got)
	}
}

func TestSubscribeUnknownRoomReportsError(t *testing.T) {
	p := peer.New(t)
	rec := &recorder{}
	c := New(testConfig(p, rec))
	_ = c.Subscribe("nowhere", 0)
	start(t, c)
	testenv.Eventually(t, waitTimeout, "error", testenv.Cond(func() bool { return len(rec.kind(EventError)) == 1 }))
	ev := rec.kind(EventError)[0]
	var se *ServerError
	if ev.Room != "nowhere" || !errors.As(ev.Err, &se) || se.Code != protocol.ErrNotFound {
		t.Fatalf("error event %+v", ev)
	}
}
