//go:build !js

package client

import (
	"fmt"
	"sync"
	"testing"

	"github.com/parleychat/parley/shared/client/internal/peer"
	"github.com/parleychat/parley/shared/protocol"
	"github.com/parleychat/parley/shared/testenv"
)

// refuser answers the first n frames of one type with an error frame of
// code (as a node whose database is down answers unavailable), then lets
// the peer answer.
type refuser struct {
	mu      sync.Mutex
	typ     string
	code    string
	left    int
	refused int
}

func (r *refuser) onFrame(pc *peer.Conn, f protocol.Frame) bool {
	if f.Type != r.typ {
		return false
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.left == 0 {
		return false
	}
	r.left--
	r.refused++
	ref := f.Room // a subscribe's error names its room, a history's its id
	if f.Type == protocol.TypeHistory {
		ref = f.ID
	}
	pc.Send(protocol.ErrorFrame(r.code, ref, "store unavailable; try again"))
	return true
}

func (r *refuser) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.refused
}

// A subscribe refused with unavailable is retried on the same connection
// until it works; the room then delivers as usual and nothing is reported
// as an error.
func TestSubscribeRetriedAfterUnavailable(t *testing.T) {
	p := peer.New(t)
	p.Post("general", "bob", "before")
	ref := &refuser{typ: protocol.TypeSubscribe, code: protocol.ErrUnavailable, left: 3}
	p.Configure(func(h *peer.Hooks) { h.OnFrame = ref.onFrame })
	rec := &recorder{}
	c := New(testConfig(p, rec))
	_ = c.Subscribe("general", 0)
	start(t, c)
	testenv.Eventually(t, waitTimeout, "subscribed after three refusals", testenv.Cond(func() bool { return len(rec.kind(EventSubscribed)) == 1 }))
	if n := len(p.Frames(protocol.TypeSubscribe)); n != 4 {
		t.Fatalf("%d subscribe frames, want 4 (three refused, one answered)", n)
	}
	if p.Accepts() != 1 {
		t.Fatalf("%d connections: the retries must not reconnect", p.Accepts())
	}
	retries := rec.kind(EventRoomRetry)
	if len(retries) != 3 {
		t.Fatalf("%d room retry events, want 3", len(retries))
	}
	for _, ev := range retries {
		if ev.Room != "general" || ev.Err == nil || ev.Retry < 0 {
			t.Fatalf("room retry event %+v", ev)
		}
	}
	if errs := rec.kind(EventError); len(errs) != 0 {
		t.Fatalf("a retried subscribe was reported as an error: %+v", errs)
	}
	p.Post("general", "bob", "live")
	testenv.Eventually(t, waitTimeout, "the live message", testenv.Cond(func() bool { return len(rec.offsets("general")) == 1 }))
	if got := rec.offsets("general"); !equalOffsets(got, []int64{2}) {
		t.Fatalf("offsets %v, want [2]", got)
	}
}

// openGap runs a client subscribed to general at offset 1, with the
// peer's first refusals history requests answered with code; it then
// stores gap+1 more messages and sends only the last, so the ones before
// it are a gap the client must fetch.
func openGap(t *testing.T, code string, refusals, gap int) (*peer.Peer, *recorder, *refuser) {
	t.Helper()
	p := peer.New(t)
	p.Post("general", "bob", "1")
	ref := &refuser{typ: protocol.TypeHistory, code: code, left: refusals}
	p.Configure(func(h *peer.Hooks) { h.OnFrame = ref.onFrame })
	rec := &recorder{}
	c := New(testConfig(p, rec))
	_ = c.Subscribe("general", 1)
	start(t, c)
	testenv.Eventually(t, waitTimeout, "subscribed", testenv.Cond(func() bool { return len(rec.kind(EventSubscribed)) == 1 }))
	var last protocol.Message
	for i := range gap + 1 {
		last, _ = p.Store("bob", "general", "", fmt.Sprint(i+2))
	}
	p.Inject(protocol.Frame{Type: protocol.TypeMsg, Msg: &last})
	return p, rec, ref
}

// A gap fetch refused with unavailable is fetched again, never skipped:
// the messages after the gap wait for it and arrive in order.
func TestGapFetchRetriedAfterUnavailable(t *testing.T) {
	p, rec, ref := openGap(t, protocol.ErrUnavailable, 2, 2)
	testenv.Eventually(t, waitTimeout, "2, 3 and 4", testenv.Cond(func() bool { return len(rec.offsets("general")) == 3 }))
	if got := rec.offsets("general"); !equalOffsets(got, seq(2, 4)) {
		t.Fatalf("offsets %v, want 2..4", got)
	}
	if ref.count() != 2 || len(p.Frames(protocol.TypeHistory)) != 3 {
		t.Fatalf("%d refusals, %d history requests; want 2 and 3", ref.count(), len(p.Frames(protocol.TypeHistory)))
	}
	if gaps := rec.kind(EventGap); len(gaps) != 0 {
		t.Fatalf("a fetchable gap was skipped: %+v", gaps)
	}
	if n := len(rec.kind(EventRoomRetry)); n != 2 {
		t.Fatalf("%d room retry events, want 2", n)
	}
}

// A gap fetch the node refuses for good (forbidden) is skipped and
// reported, not retried.
func TestGapFetchRefusedForGoodIsSkipped(t *testing.T) {
	p, rec, _ := openGap(t, protocol.ErrForbidden, 1, 1)
	testenv.Eventually(t, waitTimeout, "the gap skipped", testenv.Cond(func() bool { return len(rec.kind(EventGap)) == 1 }))
	if got := rec.offsets("general"); !equalOffsets(got, []int64{3}) {
		t.Fatalf("offsets %v, want [3]", got)
	}
	if n := len(p.Frames(protocol.TypeHistory)); n != 1 || len(rec.kind(EventRoomRetry)) != 0 {
		t.Fatalf("%d history requests and %d retries after a permanent refusal, want 1 and 0", n, len(rec.kind(EventRoomRetry)))
	}
}

// A room refused for now and then unsubscribed is not retried.
func TestUnsubscribeStopsRoomRetries(t *testing.T) {
	p := peer.New(t)
	ref := &refuser{typ: protocol.TypeSubscribe, code: protocol.ErrUnavailable, left: 1000}
	p.Configure(func(h *peer.Hooks) { h.OnFrame = ref.onFrame })
	rec := &recorder{}
	cfg := testConfig(p, rec)
	cfg.RoomRetry = cfg.MinBackoff
	c := New(cfg)
	_ = c.Subscribe("general", 0)
	start(t, c)
	testenv.Eventually(t, waitTimeout, "a few retries", testenv.Cond(func() bool { return ref.count() >= 3 }))
	c.Unsubscribe("general")
	c.mu.Lock()
	_, waits := c.retrying["general"]
	c.mu.Unlock()
	if waits {
		t.Fatal("an unsubscribed room still waits for a retry")
	}
	roundTrip(t, c) // the unsubscribe has reached the peer
	before := len(p.Frames(protocol.TypeSubscribe))
	roundTrip(t, c)
	if after := len(p.Frames(protocol.TypeSubscribe)); after != before {
		t.Fatalf("%d subscribes after unsubscribing, want none", after-before)
	}
}
