package ws

import (
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parleychat/parley/server/hub"
	"github.com/parleychat/parley/server/store"
	"github.com/parleychat/parley/shared/protocol"
	"github.com/parleychat/parley/shared/testenv"
)

// failingStore is a real SQLite store whose Append fails while fail is set,
// as a store in an outage does.
type failingStore struct {
	*store.SQLite
	fail atomic.Bool
}

func (s *failingStore) Append(ctx context.Context, m store.Message) (store.Message, bool, error) {
	if s.fail.Load() {
		return store.Message{}, false, errors.New("store unreachable")
	}
	return s.SQLite.Append(ctx, m)
}

func (s *failingStore) AppendAll(ctx context.Context, ms []store.Message) ([]store.Appended, error) {
	if s.fail.Load() {
		return nil, errors.New("store unreachable")
	}
	return s.SQLite.AppendAll(ctx, ms)
}

// gateConn is a conn of alice with a real store behind it, a send limit of
// one message per second (burst one) and the clock clk.
func gateConn(t *testing.T, clk *testenv.Clock) (*conn, *failingStore) {
	t.Helper()
	db, err := store.OpenSQLite(context.Background(), filepath.Join(t.TempDir(), "gate.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.EnsureRoom(context.Background(), "general"); err != nil {
		t.Fatal(err)
	}
	st := &failingStore{SQLite: db}
	c := clockConn(clk, Config{Store: st, Hub: hub.New(hub.Config{Broker: &publishLog{}}), SendRate: 1, SendBurst: 1})
	c.user = "alice"
	return c, st
}

// answers sends each cid in turn and returns the answers: "ack", or the
// error code.
func answers(t *testing.T, c *conn, cids ...string) []string {
	t.Helper()
	var out []string
	for _, cid := range cids {
		c.send(context.Background(), protocol.Frame{Type: protocol.TypeSend, Room: "general", CID: cid, Body: "body of " + cid})
		for _, b := range c.q.take(nil) {
			var f protocol.Frame
			if err := json.Unmarshal(b, &f); err != nil {
				t.Fatal(err)
			}
			switch {
			case f.Type == protocol.TypeAck && f.CID == cid:
				out = append(out, "ack")
			case f.Type == protocol.TypeError && f.Ref == cid:
				out = append(out, f.Code)
			default:
				t.Fatalf("send %s answered %+v", cid, f)
			}
		}
	}
	return out
}

func storedCIDs(t *testing.T, st *failingStore) []string {
	t.Helper()
	msgs, err := st.History(context.Background(), "general", store.Page{Newest: true, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, m := range msgs {
		out = append(out, m.CID)
	}
	return out
}

// TestRefusedSendHoldsLaterSends: once a send is refused for now, the
// connection's later sends are refused too until it comes again, so the
// messages a client had already written behind it cannot overtake it.
func TestRefusedSendHoldsLaterSends(t *testing.T) {
	clk := testenv.NewClock(t0)
	c, st := gateConn(t, clk)
	// a uses the burst; b is over the limit; c and d were already on
	// their way behind b, and c comes again before b (a confused client).
	if got, want := answers(t, c, "a", "b", "c", "d"), []string{"ack", "rate_limited", "rate_limited", "rate_limited"}; !slices.Equal(got, want) {
		t.Fatalf("answers %v, want %v", got, want)
	}
	clk.Advance(time.Second)
	if got := answers(t, c, "c"); !slices.Equal(got, []string{"rate_limited"}) {
		t.Fatalf("c before b was resent: %v, want rate_limited", got)
	}
	// The client resends from b on, one per second.
	for _, cid := range []string{"b", "c", "d"} {
		if got := answers(t, c, cid); !slices.Equal(got, []string{"ack"}) {
			t.Fatalf("resent %s: %v, want ack", cid, got)
		}
		clk.Advance(time.Second)
	}
	if got := storedCIDs(t, st); !slices.Equal(got, []string{"a", "b", "c", "d"}) {
		t.Fatalf("stored %v, want a b c d in send order", got)
	}
}

// TestSendGateLapses: a client that never sends the refused message again
// is held back only for sendGateGrace past the retry_after.
func TestSendGateLapses(t *testing.T) {
	clk := testenv.NewClock(t0)
	c, st := gateConn(t, clk)
	answers(t, c, "a", "b") // b refused: the gate holds
	clk.Advance(time.Second + sendGateGrace - time.Nanosecond)
	if got := answers(t, c, "x"); !slices.Equal(got, []string{"rate_limited"}) {
		t.Fatalf("x inside the gate: %v", got)
	}
	clk.Advance(time.Nanosecond)
	if got := answers(t, c, "x"); !slices.Equal(got, []string{"ack"}) {
		t.Fatalf("x after the gate lapsed: %v", got)
	}
	if got := storedCIDs(t, st); !slices.Equal(got, []string{"a", "x"}) {
		t.Fatalf("stored %v", got)
	}
}

// TestUnavailableSendHoldsLaterSends: the same order rule when the store
// refuses a message: later sends get unavailable until it comes again.
func TestUnavailableSendHoldsLaterSends(t *testing.T) {
	clk := testenv.NewClock(t0)
	c, st := gateConn(t, clk)
	st.fail.Store(true)
	if got := answers(t, c, "a"); !slices.Equal(got, []string{"unavailable"}) {
		t.Fatalf("a during the outage: %v", got)
	}
	clk.Advance(time.Second) // under the send limit from here on
	if got := answers(t, c, "b"); !slices.Equal(got, []string{"unavailable"}) {
		t.Fatalf("b behind a: %v, want unavailable", got)
	}
	st.fail.Store(false)
	if got := answers(t, c, "b"); !slices.Equal(got, []string{"unavailable"}) {
		t.Fatalf("b before a was resent, the store back: %v, want unavailable", got)
	}
	if got := answers(t, c, "a"); !slices.Equal(got, []string{"ack"}) {
		t.Fatalf("a resent: %v", got)
	}
	clk.Advance(time.Second)
	if got := answers(t, c, "b"); !slices.Equal(got, []string{"ack"}) {
		t.Fatalf("b resent after a: %v", got)
	}
	if got := storedCIDs(t, st); !slices.Equal(got, []string{"a", "b"}) {
		t.Fatalf("stored %v, want a b", got)
	}
}

// burstAnswers hands the sends of cids to the connection as one run read
// together (conn.sends) and returns each answer, in the order given.
func burstAnswers(t *testing.T, c *conn, cids ...string) []string {
	t.Helper()
	var frames []protocol.Frame
	for _, cid := range cids {
		frames = append(frames, protocol.Frame{Type: protocol.TypeSend, Room: "general", CID: cid, Body: "body of " + cid})
	}
	c.sends(context.Background(), frames)
	var out []string
	for _, b := range c.q.take(nil) {
		var f protocol.Frame
		if err := json.Unmarshal(b, &f); err != nil {
			t.Fatal(err)
		}
		switch f.Type {
		case protocol.TypeAck:
			out = append(out, f.CID+" ack")
		case protocol.TypeError:
			out = append(out, f.Ref+" "+f.Code)
		default:
			t.Fatalf("answered %+v", f)
		}
	}
	return out
}

// TestUnavailableBurstHoldsLaterSends: a run of sends the store refuses
// is answered as one by one: the first unavailable, the rest held back
// behind it (none stored); resent out of order with the store back, the
// held-back one is refused again, and the refused one and those after it
// are stored in order.
func TestUnavailableBurstHoldsLaterSends(t *testing.T) {
	clk := testenv.NewClock(t0)
	c, st := gateConn(t, clk)
	c.sendLim.SetBurstAt(clk.Now(), 10)
	clk.Advance(10 * time.Second) // a full burst of 10
	st.fail.Store(true)
	if got, want := burstAnswers(t, c, "a", "b", "c"), []string{"a unavailable", "b unavailable", "c unavailable"}; !slices.Equal(got, want) {
		t.Fatalf("during the outage: %v, want %v", got, want)
	}
	st.fail.Store(false)
	clk.Advance(3 * time.Second) // room for a, b and c; the gate holds (sendGateGrace)
	if got, want := burstAnswers(t, c, "b", "a", "b", "c"), []string{"b unavailable", "a ack", "b ack", "c ack"}; !slices.Equal(got, want) {
		t.Fatalf("store back: %v, want %v", got, want)
	}
	if got := storedCIDs(t, st); !slices.Equal(got, []string{"a", "b", "c"}) {
		t.Fatalf("stored %v, want a b c", got)
	}
}
