package ws

import (
	"bufio"
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/parleychat/parley/server/broker"
	"github.com/parleychat/parley/server/budget"
	"github.com/parleychat/parley/server/hub"
	"github.com/parleychat/parley/server/presence"
	"github.com/parleychat/parley/server/store"
	"github.com/parleychat/parley/shared/protocol"
	"github.com/parleychat/parley/shared/testenv"
)

// burstTimeout bounds every wait of these tests: a guard against hangs.
const burstTimeout = time.Minute

// countingStore is a real store that counts its message transactions:
// one per Append, one per AppendAll.
type countingStore struct {
	store.Store
	appends    atomic.Int64
	appendAlls atomic.Int64
	messages   atomic.Int64 // messages given to either
}

func (s *countingStore) Append(ctx context.Context, m store.Message) (store.Message, bool, error) {
	s.appends.Add(1)
	s.messages.Add(1)
	return s.Store.Append(ctx, m)
}

func (s *countingStore) AppendAll(ctx context.Context, ms []store.Message) ([]store.Appended, error) {
	s.appendAlls.Add(1)
	s.messages.Add(int64(len(ms)))
	return s.Store.AppendAll(ctx, ms)
}

func (s *countingStore) transactions() int64 { return s.appends.Load() + s.appendAlls.Load() }

// startBatchNode runs a node in this process on loopback TCP: a Server
// with cfg and a hub on st with the Redis broker at redisURL, until the
// test ends. It returns the node's address.
func startBatchNode(t *testing.T, st store.Store, redisURL string, cfg Config) string {
	t.Helper()
	quiet := slog.New(slog.DiscardHandler)
	br, err := broker.NewRedis(broker.RedisOptions{URL: redisURL, Prefix: "sendbatch:" + t.Name() + ":", Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	h := hub.New(hub.Config{Store: st, Broker: br, Presence: presence.NewMemory(), Logger: quiet})
	runCtx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- h.Run(runCtx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("hub run: %v", err)
		}
		_ = br.Close()
	})
	cfg.Hub, cfg.Store, cfg.Verify, cfg.Logger = h, st, verifyTestToken, quiet
	_, addr := serveTCPWith(t, cfg)
	return addr
}

// generalStore is a SQLite store in the test's directory with the room
// general, closed when the test ends.
func generalStore(t *testing.T) *store.SQLite {
	t.Helper()
	db, err := store.OpenSQLite(context.Background(), t.TempDir()+"/test.db")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.EnsureRoom(context.Background(), "general"); err != nil {
		t.Fatal(err)
	}
	return db
}

// rawClient is a client on a bare TCP socket, so that a test can write
// many frames in one write: they reach the node together.
type rawClient struct {
	t  *testing.T
	nc net.Conn
	br *bufio.Reader
}

// dialRaw upgrades a TCP connection to addr and authenticates as user.
func dialRaw(t *testing.T, addr, user string) *rawClient {
	t.Helper()
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	if err := nc.SetDeadline(time.Now().Add(burstTimeout)); err != nil { // a guard against hangs
		t.Fatal(err)
	}
	upgrade := "GET " + protocol.PathWS + " HTTP/1.1\r\nHost: " + addr +
		"\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
	if _, err := nc.Write([]byte(upgrade)); err != nil {
		t.Fatal(err)
	}
	c := &rawClient{t: t, nc: nc, br: bufio.NewReader(nc)}
	resp, err := http.ReadResponse(c.br, nil)
	if err != nil || resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("upgrade: %v, %v", resp, err)
	}
	c.write(fmt.Sprintf(`{"v":1,"type":"auth","token":"%s 1h"}`, user))
	if f := c.next(); f.Type != protocol.TypeWelcome {
		t.Fatalf("want welcome, got %+v", f)
	}
	return c
}

// write sends payloads, each a frame, in one write call.
func (c *rawClient) write(payloads ...string) {
	c.t.Helper()
	var b []byte
	for _, p := range payloads {
		b = append(b, clientFrame(p)...)
	}
	if _, err := c.nc.Write(b); err != nil {
		c.t.Fatal(err)
	}
}

// next reads the node's next frame.
func (c *rawClient) next() protocol.Frame {
	c.t.Helper()
	p, err := serverFrame(c.br)
	if err != nil {
		c.t.Fatalf("read frame: %v", err)
	}
	f, err := protocol.Decode([]byte(p))
	if err != nil {
		c.t.Fatalf("decode %q: %v", p, err)
	}
	return f
}

// sendFrames are send frames to room with cids prefix1…prefixN.
func sendFrames(room, prefix string, n int) (payloads, cids []string) {
	for i := 1; i <= n; i++ {
		cid := fmt.Sprint(prefix, i)
		cids = append(cids, cid)
		payloads = append(payloads, fmt.Sprintf(`{"v":1,"type":"send","room":%q,"cid":%q,"body":"body %s"}`, room, cid, cid))
	}
	return payloads, cids
}

// answer is what the node said to one send: "ack@offset", or the error
// code and message.
func answer(f protocol.Frame) (cid, what string) {
	switch f.Type {
	case protocol.TypeAck:
		return f.CID, fmt.Sprint("ack@", f.Offset)
	case protocol.TypeError:
		return f.Ref, f.Code + ": " + f.Message
	}
	return "", f.Type
}

// TestBurstOfSendsIsBatched: a client writes 8 sends without waiting
// (one write: they reach the node together). Each is acknowledged, in
// order, at offsets 1…8, stored once, and delivered in order to a
// subscriber on another node; the node stores them in fewer
// transactions than messages. A single send after them is stored alone,
// as ever.
func TestBurstOfSendsIsBatched(t *testing.T) {
	ctx := context.Background()
	pgURL, rs := testenv.Postgres(t), testenv.StartRedis(t)
	open := func() store.Store {
		st, err := store.OpenPostgres(ctx, pgURL, 4)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		return st
	}
	stA := &countingStore{Store: open()}
	stB := open()
	if _, err := stB.EnsureRoom(ctx, "general"); err != nil {
		t.Fatal(err)
	}
	addrA := startBatchNode(t, stA, rs.URL(), Config{})
	addrB := startBatchNode(t, stB, rs.URL(), Config{})

	bob, _, err := websocket.Dial(ctx, "ws://"+addrB+protocol.PathWS, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer bob.CloseNow()
	readCtx, cancel := context.WithTimeout(ctx, burstTimeout) // a guard against hangs
	defer cancel()
	bobSend := func(f protocol.Frame) {
		b, err := protocol.Encode(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := bob.Write(readCtx, websocket.MessageText, b); err != nil {
			t.Fatal(err)
		}
	}
	bobNext := func(typ string) protocol.Frame {
		for {
			_, b, err := bob.Read(readCtx)
			if err != nil {
				t.Fatalf("bob waiting for %s: %v", typ, err)
			}
			f, err := protocol.Decode(b)
			if err != nil {
				t.Fatal(err)
			}
			if f.Type == typ {
				return f
			}
		}
	}
	bobSend(protocol.Frame{Type: protocol.TypeAuth, Token: "bob 1h"})
	bobNext(protocol.TypeWelcome)
	bobSend(protocol.Frame{Type: protocol.TypeSubscribe, Room: "general"})
	bobNext(protocol.TypeSubscribed)

	alice := dialRaw(t, addrA, "alice")
	payloads, cids := sendFrames("general", "c", 8)
	alice.write(payloads...)
	for i, cid := range cids {
		if got, what := answer(alice.next()); got != cid || what != fmt.Sprint("ack@", i+1) {
			t.Fatalf("answer %d: %s %s; want %s ack@%d", i, got, what, cid, i+1)
		}
	}
	if tx, msgs := stA.transactions(), stA.messages.Load(); msgs != 8 || tx >= msgs {
		t.Fatalf("8 sends written at once took %d store transactions for %d messages; want fewer transactions than messages", tx, msgs)
	}
	for i, cid := range cids {
		m := bobNext(protocol.TypeMsg).Msg
		if m.CID != cid || m.Offset != int64(i+1) || m.Author != "alice" || m.Body != "body "+cid {
			t.Fatalf("bob's message %d: %+v, want %s at %d", i, m, cid, i+1)
		}
	}
	// Resent (a reconnecting client), the burst is acknowledged at the
	// same offsets and stored nowhere again; then one more.
	alice.write(payloads...)
	for i, cid := range cids {
		if got, what := answer(alice.next()); got != cid || what != fmt.Sprint("ack@", i+1) {
			t.Fatalf("resent answer %d: %s %s; want %s ack@%d", i, got, what, cid, i+1)
		}
	}
	before := stA.appends.Load()
	one, _ := sendFrames("general", "single", 1)
	alice.write(one...)
	if got, what := answer(alice.next()); got != "single1" || what != "ack@9" {
		t.Fatalf("a single send: %s %s, want single1 ack@9", got, what)
	}
	if stA.appends.Load() != before+1 {
		t.Fatal("a single send was not stored with one Append")
	}
	if m := bobNext(protocol.TypeMsg).Msg; m.CID != "single1" || m.Offset != 9 {
		t.Fatalf("bob's next message: %+v, want single1 at 9 (nothing twice)", m)
	}
	msgs, err := stB.History(ctx, "general", store.Page{After: 0, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	var stored []string
	for _, m := range msgs {
		stored = append(stored, m.CID)
	}
	if want := append(slices.Clone(cids), "single1"); !slices.Equal(stored, want) {
		t.Fatalf("stored %v, want %v", stored, want)
	}
}

// TestBurstKeepsPerMessageRules: in a burst written at once, the
// connection's rate limit refuses exactly the sends beyond it, and the
// sends after the first refused are held back (the gate) until it is
// resent, as when they came one by one; an invalid send and a frame that
// is not a send are answered in their place; the account's budget
// refuses from the first send beyond it on, and holds back the rest.
func TestBurstKeepsPerMessageRules(t *testing.T) {
	ctx := context.Background()
	rs := testenv.StartRedis(t)
	db := generalStore(t)
	st := &countingStore{Store: db}
	// 5 sends per connection, 8 per account, neither refilling while the
	// test runs.
	userBudget := budget.NewMemory(budget.Limits{Rate: 0.001, Burst: 8, ByteRate: 1e6, ByteBurst: 1e6}, nil)
	addr := startBatchNode(t, st, rs.URL(), Config{SendRate: 0.001, SendBurst: 5,
		UserBudget: userBudget.Take, UserBudgetAll: userBudget.TakeAll})

	send := func(cid string) string {
		return `{"v":1,"type":"send","room":"general","cid":"` + cid + `","body":"` + cid + `"}`
	}
	check := func(c *rawClient, want []string) {
		t.Helper()
		var got []string
		for range want {
			cid, what := answer(c.next())
			got = append(got, cid+" "+what)
		}
		if !slices.Equal(got, want) {
			t.Fatalf("answers\n%q\nwant\n%q", got, want)
		}
	}
	const (
		tooFast  = "rate_limited: sending too fast"
		heldBack = "rate_limited: an earlier message was refused; send it again first"
		account  = "rate_limited: your account is sending too fast"
	)
	alice := dialRaw(t, addr, "alice")
	alice.write(send("a1"), send("a2"),
		`{"v":1,"type":"send","room":"general","cid":"bad","body":"x\u202ey"}`,
		`{"v":1,"type":"ping","id":"p1"}`,
		send("a3"), send("a4"), send("a5"), send("a6"), send("a7"))
	// bad is refused before it costs anything; a1…a5 use the
	// connection's 5, a6 is one too many, a7 is held back behind it.
	check(alice, []string{"a1 ack@1", "a2 ack@2", "bad bad_request: message contains bidirectional formatting character U+202E", " pong",
		"a3 ack@3", "a4 ack@4", "a5 ack@5", "a6 " + tooFast, "a7 " + heldBack})
	if st.appendAlls.Load() == 0 {
		t.Fatal("the burst was not stored in batches")
	}
	// Another connection of alice's: its own 5, but the account has 3
	// of its 8 left: b4 is refused, b5 held back behind it.
	alice2 := dialRaw(t, addr, "alice")
	alice2.write(send("b1"), send("b2"), send("b3"), send("b4"), send("b5"))
	check(alice2, []string{"b1 ack@6", "b2 ack@7", "b3 ack@8", "b4 " + account, "b5 " + heldBack})
	if n := st.messages.Load(); n != 8 {
		t.Fatalf("the store was given %d messages, want 8 (refused ones are not stored)", n)
	}
	// A cid carol used in another room is a conflict in the middle of a
	// burst, and the sends around it are stored.
	if _, err := db.EnsureRoom(ctx, "other"); err != nil {
		t.Fatal(err)
	}
	carol := dialRaw(t, addr, "carol")
	carol.write(`{"v":1,"type":"send","room":"other","cid":"x","body":"x"}`)
	check(carol, []string{"x ack@1"})
	carol.write(send("y1"), send("x"), send("y2"))
	check(carol, []string{"y1 ack@9", `x conflict: cid already names a message in room "other"; use a fresh cid`, "y2 ack@10"})
}

// TestWholeFrame: the reader reads on only what it can read without
// waiting: an unfragmented text frame that has arrived whole.
func TestWholeFrame(t *testing.T) {
	short := clientFrame(`{"v":1}`) // 6-byte head, 7-byte payload
	ext16 := append([]byte{0x81, 0x80 | 126, 0x01, 0x00, 0, 0, 0, 0}, make([]byte, 256)...)
	ext64 := append([]byte{0x81, 0x80 | 127, 0, 0, 0, 0, 0, 0, 0x01, 0x00, 0, 0, 0, 0}, make([]byte, 256)...)
	huge := []byte{0x81, 0x80 | 127, 0, 0, 0, 0, 0, 0x10, 0, 0, 0, 0, 0, 0}
	for _, tc := range []struct {
		name  string
		frame []byte
		avail int
		want  bool
	}{
		{"whole", short, len(short), true},
		{"whole, more after it", short, len(short) + 100, true},
		{"payload still arriving", short, len(short) - 1, false},
		{"head only", short[:2], 2, false},
		{"one byte", short[:1], 1, false},
		{"16-bit length, whole", ext16, len(ext16), true},
		{"16-bit length, arriving", ext16, len(ext16) - 1, false},
		{"16-bit length, head cut", ext16[:3], 3, false},
		{"64-bit length, whole", ext64, len(ext64), true},
		{"64-bit length, head cut", ext64[:9], 9, false},
		{"larger than a node reads", huge, 1 << 21, false},
		{"fragment", append([]byte{0x01}, short[1:]...), len(short), false},
		{"binary", append([]byte{0x82}, short[1:]...), len(short), false},
		{"ping", append([]byte{0x89}, short[1:]...), len(short), false},
		{"close", append([]byte{0x88}, short[1:]...), len(short), false},
	} {
		head := tc.frame[:min(len(tc.frame), maxClientHead)]
		if got := wholeFrame(head, tc.avail); got != tc.want {
			t.Errorf("%s: wholeFrame = %v, want %v", tc.name, got, tc.want)
		}
	}
}

// TestRefusedByAccessCostsNoBudget: the membership check and the
// account's budget run at the same time, yet a send the check refuses
// (alone or in a burst) costs the account nothing, and its answer is the
// check's even when the budget is spent too; the budget is one in a real
// Redis.
func TestRefusedByAccessCostsNoBudget(t *testing.T) {
	ctx := context.Background()
	rs := testenv.StartRedis(t)
	db := generalStore(t)
	if _, err := db.CreateRoomOf(ctx, "secret", protocol.KindPrivate, "dave"); err != nil {
		t.Fatal(err)
	}
	// 3 sends per account, not refilling while the test runs.
	userBudget, err := budget.NewRedis(budget.RedisOptions{URL: rs.URL(), Prefix: "test:" + t.Name() + ":",
		Limits: budget.Limits{Rate: 0.001, Burst: 3, ByteRate: 1e6, ByteBurst: 1e6}, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { userBudget.Close() })
	addr := startBatchNode(t, db, rs.URL(), Config{
		UserBudget: userBudget.Take, UserBudgetAll: userBudget.TakeAll, UserBudgetReturn: userBudget.Return})
	answers := func(c *rawClient, n int) []string {
		var got []string
		for range n {
			cid, what := answer(c.next())
			got = append(got, cid+" "+what)
		}
		return got
	}
	const notFound = "not_found: no such room"
	alice := dialRaw(t, addr, "alice")
	secret, _ := sendFrames("secret", "s", 4)
	alice.write(secret[0])
	alice.write(secret[1:]...) // a burst: one run, then each again
	if got, want := answers(alice, 4), []string{"s1 " + notFound, "s2 " + notFound, "s3 " + notFound, "s4 " + notFound}; !slices.Equal(got, want) {
		t.Fatalf("sends to a private room: %q, want %q", got, want)
	}
	// The account's 3 are all there: a burst of 3 is stored, a 4th is
	// refused by the budget.
	general, _ := sendFrames("general", "g", 4)
	alice.write(general[:3]...)
	if got, want := answers(alice, 3), []string{"g1 ack@1", "g2 ack@2", "g3 ack@3"}; !slices.Equal(got, want) {
		t.Fatalf("after the refused sends: %q, want %q", got, want)
	}
	// The budget is spent: the private room still answers not_found,
	// the public one rate_limited.
	alice.write(secret[0])
	if got := answers(alice, 1); got[0] != "s1 "+notFound {
		t.Fatalf("with the budget spent, a send to a private room: %q, want %q", got[0], "s1 "+notFound)
	}
	alice.write(general[3])
	if got := answers(alice, 1); got[0] != "g4 rate_limited: your account is sending too fast" {
		t.Fatalf("with the budget spent: %q", got[0])
	}
}
