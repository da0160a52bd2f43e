package ws

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parleychat/parley/server/broker"
	"github.com/parleychat/parley/server/hub"
	"github.com/parleychat/parley/shared/protocol"
	"github.com/parleychat/parley/shared/testenv"
)

// t0 is far from the wall clock, so a read of time.Now where the conn
// should use Config.Now shows up as a wrong deadline.
var t0 = time.Date(2031, 3, 4, 5, 6, 7, 0, time.UTC)

const (
	testIdle   = time.Minute
	testReauth = 30 * time.Second
)

// clockConn returns a conn (with no WebSocket behind it) whose Server reads
// clk, with the idle timeout testIdle and reauth testReauth ahead of expiry.
func clockConn(clk *testenv.Clock, cfg Config) *conn {
	cfg.Now = clk.Now
	cfg.IdleTimeout, cfg.ReauthBefore = testIdle, testReauth
	return newConn(New(cfg), nil, "test")
}

// authedUntil marks c authenticated with a token expiring at exp.
func authedUntil(c *conn, exp time.Time) *conn {
	c.authed.Store(true)
	c.expires.Store(exp.UnixNano())
	return c
}

// queuedTypes lists the types of the frames c has queued, emptying the
// queue.
func queuedTypes(t *testing.T, c *conn) []string {
	t.Helper()
	var types []string
	for _, b := range c.q.take(nil) {
		var f protocol.Frame
		if err := json.Unmarshal(b, &f); err != nil {
			t.Fatalf("queued frame %q: %v", b, err)
		}
		types = append(types, f.Type)
	}
	return types
}

type deadlineCheck struct {
	at       time.Duration // after t0
	code     protocol.CloseCode
	closes   bool
	reauthed bool // a reauth frame was queued by this check
}

// run calls checkDeadlines at t0+d.at and compares the outcome.
func (d deadlineCheck) run(t *testing.T, c *conn) {
	t.Helper()
	code, reason, stop := c.checkDeadlines(t0.Add(d.at))
	if stop != d.closes || code != d.code {
		t.Fatalf("checkDeadlines(t0+%v) = %d %q %v; want %d, close=%v", d.at, code, reason, stop, d.code, d.closes)
	}
	var want []string
	if d.reauthed {
		want = []string{protocol.TypeReauth}
	}
	if got := queuedTypes(t, c); !slices.Equal(got, want) {
		t.Fatalf("checkDeadlines(t0+%v) queued %v, want %v", d.at, got, want)
	}
}

func TestCheckDeadlinesBeforeAuthCloses(t *testing.T) {
	c := clockConn(testenv.NewClock(t0), Config{})
	deadlineCheck{at: 0, code: protocol.CloseAuthTimeout, closes: true}.run(t, c)
}

func TestCheckDeadlinesIdle(t *testing.T) {
	clk := testenv.NewClock(t0)
	c := authedUntil(clockConn(clk, Config{}), t0.Add(time.Hour)) // last read at t0
	deadlineCheck{at: testIdle - time.Nanosecond}.run(t, c)
	deadlineCheck{at: testIdle, code: protocol.CloseIdle, closes: true}.run(t, c)

	clk.Advance(testIdle / 2)
	c.lastRead.Store(clk.Now().UnixNano()) // what the reader does per frame
	deadlineCheck{at: testIdle}.run(t, c)
	deadlineCheck{at: testIdle/2 + testIdle, code: protocol.CloseIdle, closes: true}.run(t, c)
}

func TestCheckDeadlinesTokenExpiry(t *testing.T) {
	clk := testenv.NewClock(t0)
	exp := testReauth + 10*time.Second // shorter than testIdle
	c := authedUntil(clockConn(clk, Config{}), t0.Add(exp))
	c.reauthed.Store(c.expires.Load()) // reauth is TestCheckDeadlinesReauth's
	deadlineCheck{at: exp - time.Nanosecond}.run(t, c)
	deadlineCheck{at: exp, code: protocol.CloseTokenExpired, closes: true}.run(t, c)
}

// TestCheckDeadlinesReauth: one reauth frame per token, from ReauthBefore
// ahead of its expiry; a refreshed token gets its own.
func TestCheckDeadlinesReauth(t *testing.T) {
	clk := testenv.NewClock(t0)
	exp := 40 * time.Second
	c := authedUntil(clockConn(clk, Config{}), t0.Add(exp))
	deadlineCheck{at: exp - testReauth - time.Nanosecond}.run(t, c)
	deadlineCheck{at: exp - testReauth, reauthed: true}.run(t, c)
	deadlineCheck{at: exp - time.Second}.run(t, c)

	// The client reads the reauth, answers and keeps the connection alive.
	clk.Advance(exp - time.Second)
	c.lastRead.Store(clk.Now().UnixNano())
	exp2 := exp + 45*time.Second
	c.expires.Store(t0.Add(exp2).UnixNano())
	deadlineCheck{at: exp}.run(t, c)
	deadlineCheck{at: exp2 - testReauth, reauthed: true}.run(t, c)
	deadlineCheck{at: exp2, code: protocol.CloseTokenExpired, closes: true}.run(t, c)
}

func TestNextDeadline(t *testing.T) {
	const never = -1 // no reauth frame sent yet
	cases := []struct {
		name     string
		now      time.Duration // after t0; the last read was at t0
		exp      time.Duration // token expiry after t0
		reauthed time.Duration // expiry a reauth was sent for, or never
		want     time.Duration
	}{
		{"idle first", 0, time.Hour, never, testIdle},
		{"idle, some time later", 20 * time.Second, time.Hour, never, testIdle - 20*time.Second},
		{"reauth before idle", 0, 50 * time.Second, never, 50*time.Second - testReauth},
		{"reauth sent: expiry", 0, 50 * time.Second, 50 * time.Second, 50 * time.Second},
		{"reauth sent for an older token", 0, 50 * time.Second, 20 * time.Second, 50*time.Second - testReauth},
		{"expiry before idle", 0, 10 * time.Second, 10 * time.Second, 10 * time.Second},
		{"reauth overdue: soon", 0, 10 * time.Second, never, 10 * time.Millisecond},
		{"all past: soon", 2 * time.Hour, time.Hour, time.Hour, 10 * time.Millisecond},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := authedUntil(clockConn(testenv.NewClock(t0), Config{}), t0.Add(tc.exp))
			if tc.reauthed != never {
				c.reauthed.Store(t0.Add(tc.reauthed).UnixNano())
			}
			if got := c.nextDeadline(t0.Add(tc.now)); got != tc.want {
				t.Fatalf("nextDeadline(t0+%v) = %v, want %v", tc.now, got, tc.want)
			}
		})
	}
}

func TestRequestRef(t *testing.T) {
	long := strings.Repeat("x", protocol.MaxCIDLen+1)
	fits := long[1:]
	cases := []struct {
		name string
		f    protocol.Frame
		want string
	}{
		{"cid wins", protocol.Frame{CID: "c1", ID: "i1", Room: "general"}, "c1"},
		{"then id", protocol.Frame{ID: "i1", Room: "general"}, "i1"},
		{"then room", protocol.Frame{Room: "general"}, "general"},
		{"nothing", protocol.Frame{Type: protocol.TypePing}, ""},
		{"cid of the longest length", protocol.Frame{CID: fits}, fits},
		{"cid too long", protocol.Frame{CID: long}, ""},
		{"id too long", protocol.Frame{ID: long, Room: "general"}, ""},
		{"room too long", protocol.Frame{Room: long}, ""},
		{"too long cid does not fall back", protocol.Frame{CID: long, ID: "i1"}, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := requestRef(tc.f); got != tc.want {
				t.Fatalf("requestRef(%+v) = %q, want %q", tc.f, got, tc.want)
			}
		})
	}
}

func killedWith(c *conn) (protocol.CloseCode, bool) {
	select {
	case <-c.killed:
		return c.killCode, true
	default:
		return 0, false
	}
}

// TestSendSlowConsumer: a droppable frame that does not fit is dropped; a
// message that does not fit closes the connection with CloseSlowConsumer.
func TestSendSlowConsumer(t *testing.T) {
	c := clockConn(testenv.NewClock(t0), Config{QueueFrames: 2})
	for range 2 {
		if !c.Send([]byte(`{"type":"msg"}`), false) {
			t.Fatal("Send refused a message with room in the queue")
		}
	}
	if c.Send([]byte(`{"type":"typing"}`), true) {
		t.Fatal("Send queued a droppable frame into a full queue")
	}
	if code, killed := killedWith(c); killed {
		t.Fatalf("a dropped typing frame closed the connection with %d", code)
	}
	if c.Send([]byte(`{"type":"msg"}`), false) {
		t.Fatal("Send queued a message into a full queue")
	}
	if code, killed := killedWith(c); !killed || code != protocol.CloseSlowConsumer {
		t.Fatalf("after an overflowing message: killed=%v code=%d; want code %d", killed, code, protocol.CloseSlowConsumer)
	}
}

// publishLog is a broker that records the rooms published to.
type publishLog struct {
	mu    sync.Mutex
	rooms []string
}

func (p *publishLog) Publish(_ context.Context, room string, _ []byte) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.rooms = append(p.rooms, room)
	return nil
}

func (p *publishLog) PublishAll(ctx context.Context, room string, ps [][]byte) error {
	for _, b := range ps {
		if err := p.Publish(ctx, room, b); err != nil {
			return err
		}
	}
	return nil
}

func (p *publishLog) published() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return strings.Join(p.rooms, " ")
}

func (p *publishLog) Subscribe(context.Context, string) error   { return nil }
func (p *publishLog) Unsubscribe(context.Context, string) error { return nil }
func (p *publishLog) Run(ctx context.Context, _ broker.Handler) error {
	<-ctx.Done()
	return nil
}
func (p *publishLog) Close() error { return nil }

// TestTypingThrottledPerRoom: at most one typing event per room per
// typingEvery, by the Config.Now clock.
func TestTypingThrottledPerRoom(t *testing.T) {
	pub := &publishLog{}
	clk := testenv.NewClock(t0)
	c := clockConn(clk, Config{Hub: hub.New(hub.Config{Broker: pub})})
	c.user = "alice"
	c.markRoom("a")
	c.markRoom("b")
	typing := func(room string) {
		c.typing(context.Background(), protocol.Frame{Type: protocol.TypeTyping, Room: room})
	}

	typing("a")
	clk.Advance(typingEvery - time.Nanosecond)
	typing("a")
	typing("b")
	clk.Advance(time.Nanosecond)
	typing("a")
	if got, want := pub.published(), "a b a"; got != want {
		t.Fatalf("published typing in %q, want %q", got, want)
	}
	typing("elsewhere")
	if got := queuedTypes(t, c); !slices.Equal(got, []string{protocol.TypeError}) {
		t.Fatalf("typing in an unsubscribed room queued %v, want one error", got)
	}
}
