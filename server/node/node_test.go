package node_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/parleychat/parley/server/node"
	"github.com/parleychat/parley/shared/client"
	"github.com/parleychat/parley/shared/protocol"
	"github.com/parleychat/parley/shared/testenv"
)

func TestTwoUsersChatBothWays(t *testing.T) {
	t.Parallel()
	n := startNode(t)
	alice, bob := twoInGeneral(t, n)
	testenv.Eventually(t, waitTimeout, "both see both present", testenv.Cond(func() bool {
		return alice.presence("general") == "alice,bob" && bob.presence("general") == "alice,bob"
	}))
	if _, err := alice.Send("general", "hi bob"); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, waitTimeout, "bob sees 1 messages", testenv.Cond(func() bool { return len(bob.bodies("general")) == 1 }))
	if _, err := bob.Send("general", "hi alice <b>"); err != nil {
		t.Fatal(err)
	}
	want := "[alice: hi bob bob: hi alice <b>]"
	testenv.Eventually(t, waitTimeout, "both see both messages", testenv.Cond(func() bool {
		return fmt.Sprint(alice.bodies("general")) == want && fmt.Sprint(bob.bodies("general")) == want
	}))

	msgs, more, err := bob.History(context.Background(), "general", 0, 50)
	if err != nil {
		t.Fatal(err)
	}
	if more || len(msgs) != 2 || msgs[0].Offset != 1 || msgs[1].Offset != 2 || msgs[0].Author != "alice" || msgs[1].Body != "hi alice <b>" {
		t.Fatalf("history = %+v (more=%v)", msgs, more)
	}
	if alice.Pending() != nil && len(alice.Pending()) != 0 {
		t.Fatalf("alice still has pending messages: %+v", alice.Pending())
	}
}

func TestHistoryPagesBackInOrder(t *testing.T) {
	t.Parallel()
	n := startNode(t, func(c *node.Config) {
		c.SendRate, c.SendBurst = 1000, 200
		c.UserSend.Rate, c.UserSend.Burst = 1000, 200
	})
	s := signup(t, n.URL, "carol")
	c := dialRaw(t, n.URL, n.URL)
	c.auth(s.AccessToken)
	for i := 1; i <= 120; i++ {
		c.send(protocol.Frame{Type: protocol.TypeSend, Room: "general", CID: fmt.Sprint("c", i), Body: fmt.Sprint("message ", i)})
		if f := c.next(); f.Type != protocol.TypeAck || f.Offset != int64(i) {
			t.Fatalf("send %d: got %+v", i, f)
		}
	}
	var got []int64
	before := int64(0)
	for page := 0; ; page++ {
		c.send(protocol.Frame{Type: protocol.TypeHistory, ID: fmt.Sprint("h", page), Room: "general", Before: before, Limit: 50})
		f := c.next()
		if f.Type != protocol.TypeHistory || f.ID != fmt.Sprint("h", page) {
			t.Fatalf("history reply = %+v", f)
		}
		var offs []int64
		for _, m := range f.Messages {
			offs = append(offs, m.Offset)
		}
		got = append(offs, got...)
		if !f.More {
			break
		}
		before = f.Messages[0].Offset
	}
	for i, o := range got {
		if o != int64(i+1) {
			t.Fatalf("paged history offsets = %v", got)
		}
	}
	if len(got) != 120 {
		t.Fatalf("paged history has %d messages, want 120", len(got))
	}
}

func TestSameCIDStoresOneMessage(t *testing.T) {
	t.Parallel()
	n := startNode(t)
	s := signup(t, n.URL, "dave")
	c := dialRaw(t, n.URL, n.URL)
	c.auth(s.AccessToken)
	send := protocol.Frame{Type: protocol.TypeSend, Room: "general", CID: "same-cid", Body: "once"}
	c.send(send)
	first := c.next()
	c.send(send)
	second := c.next()
	if first.Type != protocol.TypeAck || second.Type != protocol.TypeAck || first.Offset != second.Offset {
		t.Fatalf("acks = %+v / %+v, want the same offset twice", first, second)
	}
	c.send(protocol.Frame{Type: protocol.TypeHistory, ID: "h", Room: "general"})
	if h := c.next(); len(h.Messages) != 1 {
		t.Fatalf("history has %d messages, want 1: %+v", len(h.Messages), h.Messages)
	}
}

func TestTokensRefused(t *testing.T) {
	t.Parallel()
	n := startNode(t)
	signup(t, n.URL, "erin")
	expired, _, err := n.Keys.Sign("erin", "minted", time.Now().Add(-time.Hour), time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	good, _, err := n.Keys.Sign("erin", "minted", time.Now(), time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(good, ".")
	cases := map[string]struct {
		token string
		code  protocol.CloseCode
	}{
		"garbage":  {"not-a-jwt", protocol.CloseUnauthorized},
		"forged":   {parts[0] + "." + parts[1] + ".AAAA" + parts[2][4:], protocol.CloseUnauthorized},
		"alg none": {"eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0." + parts[1] + ".", protocol.CloseUnauthorized},
		"expired":  {expired, protocol.CloseTokenExpired},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			c := dialRaw(t, n.URL, n.URL)
			c.send(protocol.Frame{Type: protocol.TypeAuth, Token: tc.token})
			c.expectClose(websocket.StatusCode(tc.code))
		})
	}
	t.Run("frame before auth", func(t *testing.T) {
		c := dialRaw(t, n.URL, n.URL)
		c.send(protocol.Frame{Type: protocol.TypeSubscribe, Room: "general"})
		c.expectClose(websocket.StatusCode(protocol.CloseProtocolError))
	})
}

func TestAuthTimeoutCloses(t *testing.T) {
	t.Parallel()
	n := startNode(t)
	c := dialRaw(t, n.URL, n.URL)
	c.expectClose(websocket.StatusCode(protocol.CloseAuthTimeout))
}

func TestCrossOriginRefused(t *testing.T) {
	t.Parallel()
	n := startNode(t)
	h := http.Header{}
	h.Set("Origin", "http://evil.example")
	_, resp, err := websocket.Dial(context.Background(), strings.Replace(n.URL, "http", "ws", 1)+"/ws", &websocket.DialOptions{HTTPHeader: h})
	if err == nil {
		t.Fatal("cross-origin handshake accepted")
	}
	if resp == nil || resp.StatusCode != http.StatusForbidden {
		t.Fatalf("response = %v, want 403", resp)
	}
}

func TestOversizedFrameClosesOnlyThatConnection(t *testing.T) {
	t.Parallel()
	n := startNode(t)
	alice, bob := twoInGeneral(t, n)
	mallory := dialRaw(t, n.URL, n.URL)
	mallory.auth(signup(t, n.URL, "mallory").AccessToken)
	mallory.sendRaw([]byte(`{"v":1,"type":"send","room":"general","cid":"x","body":"` + strings.Repeat("A", protocol.MaxFrameBytes) + `"}`))
	mallory.expectClose(websocket.StatusMessageTooBig)
	if _, err := alice.Send("general", "still here"); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, waitTimeout, "bob sees alice's message", testenv.Cond(func() bool { return fmt.Sprint(bob.bodies("general")) == "[alice: still here]" }))
}

func TestBadFramesAnsweredConnectionSurvives(t *testing.T) {
	t.Parallel()
	n := startNode(t)
	c := dialRaw(t, n.URL, n.URL)
	c.auth(signup(t, n.URL, "frank").AccessToken)
	cases := []struct {
		raw  string
		code string
	}{
		{`{"v":1,"type":"warp"}`, protocol.ErrUnknownType},
		{`{"v":1,"type":"subscribe","room":"no-such-room"}`, protocol.ErrNotFound},
		{`{"v":1,"type":"send","room":"no-such-room","cid":"c1","body":"x"}`, protocol.ErrNotFound},
		{`{"v":1,"type":"send","room":"general","cid":"c2","body":"` + strings.Repeat("é", protocol.MaxBodyRunes+1) + `"}`, protocol.ErrTooLarge},
		{`{"v":1,"type":"typing","room":"general"}`, protocol.ErrForbidden},
	}
	for _, tc := range cases {
		c.sendRaw([]byte(tc.raw))
		f := c.next()
		if f.Type != protocol.TypeError || f.Code != tc.code {
			t.Errorf("%.60s: got %+v, want error %s", tc.raw, f, tc.code)
		}
	}
	c.send(protocol.Frame{Type: protocol.TypePing, ID: "p1"})
	if f := c.next(); f.Type != protocol.TypePong || f.ID != "p1" {
		t.Fatalf("after bad frames: %+v, want pong", f)
	}
	c.send(protocol.Frame{Type: protocol.TypeHistory, ID: "h", Room: "general"})
	if f := c.next(); len(f.Messages) != 0 {
		t.Fatalf("bad frames stored messages: %+v", f.Messages)
	}
}

// TestNotAParleyFrameCloses: after auth, bytes that are not a frame of
// this protocol version close the connection with 4501 (what codes.go
// promises), and nothing is stored.
func TestNotAParleyFrameCloses(t *testing.T) {
	t.Parallel()
	n := startNode(t)
	token := signup(t, n.URL, "fiona").AccessToken
	for _, raw := range []string{
		`{"v":1,"type":"send",`,
		`{"v":1,"type":"subscribe","room":5}`,
		`{"v":9,"type":"ping"}`,
		`{"v":1}`,
		`[1,2]`,
	} {
		c := dialRaw(t, n.URL, n.URL)
		c.auth(token)
		c.sendRaw([]byte(raw))
		c.expectClose(websocket.StatusCode(protocol.CloseProtocolError))
	}
	c := dialRaw(t, n.URL, n.URL)
	c.auth(token)
	c.send(protocol.Frame{Type: protocol.TypeHistory, ID: "h", Room: "general"})
	if f := c.next(); len(f.Messages) != 0 {
		t.Fatalf("bad frames stored messages: %+v", f.Messages)
	}
}

func TestFloodCloses(t *testing.T) {
	t.Parallel()
	n := startNode(t)
	c := dialRaw(t, n.URL, n.URL)
	c.auth(signup(t, n.URL, "gina").AccessToken)
	go func() {
		ping, _ := protocol.Encode(protocol.Frame{Type: protocol.TypePing})
		for i := 0; i < 1000; i++ {
			if c.Write(context.Background(), websocket.MessageText, ping) != nil {
				return
			}
		}
	}()
	c.expectClose(websocket.StatusCode(protocol.CloseFlood))
}

func TestSendRateLimited(t *testing.T) {
	t.Parallel()
	// A limit no machine is slow enough to refill during the test: ten
	// sends in a burst of five must meet it, however long they take.
	n := startNode(t, func(c *node.Config) { c.SendRate, c.SendBurst = 0.001, 5 })
	c := dialRaw(t, n.URL, n.URL)
	c.auth(signup(t, n.URL, "hank").AccessToken)
	limited := 0
	for i := 0; i < 10; i++ {
		c.send(protocol.Frame{Type: protocol.TypeSend, Room: "general", CID: fmt.Sprint("r", i), Body: "spam"})
		if f := c.next(); f.Type == protocol.TypeError && f.Code == protocol.ErrRateLimited {
			if f.RetryAfter <= 0 || f.Ref != fmt.Sprint("r", i) {
				t.Fatalf("rate_limited error without retry_after/ref: %+v", f)
			}
			limited++
		}
	}
	if limited != 5 {
		t.Fatalf("%d of 10 sends over a burst of 5 were rate limited, want 5", limited)
	}
}

func TestReconnectRecoversMissedMessages(t *testing.T) {
	t.Parallel()
	n := startNode(t)
	bob := newChatter(t, n.URL, signup(t, n.URL, "bob"))
	bob.subscribe(t, "general")
	alice := dialRaw(t, n.URL, n.URL)
	alice.auth(signup(t, n.URL, "alice").AccessToken)
	sendN := func(from, to int) {
		for i := from; i < to; i++ {
			alice.send(protocol.Frame{Type: protocol.TypeSend, Room: "general", CID: fmt.Sprint("a", i), Body: fmt.Sprint(i)})
			if f := alice.next(); f.Type != protocol.TypeAck {
				t.Fatalf("send %d: %+v", i, f)
			}
		}
	}
	sendN(0, 3)
	testenv.Eventually(t, waitTimeout, "bob sees 3 messages", testenv.Cond(func() bool { return len(bob.bodies("general")) == 3 }))

	// Bob drops off; alice keeps talking; bob comes back from offset 3.
	s := signup(t, n.URL, "bob2")
	raw := dialRaw(t, n.URL, n.URL)
	raw.auth(s.AccessToken)
	raw.send(protocol.Frame{Type: protocol.TypeSubscribe, Room: "general", Since: 3})
	if f := raw.next(); f.Type != protocol.TypeSubscribed || f.Head != 3 {
		t.Fatalf("subscribed = %+v", f)
	}
	raw.CloseNow()
	sendN(3, 6)
	again := dialRaw(t, n.URL, n.URL)
	again.auth(s.AccessToken)
	again.send(protocol.Frame{Type: protocol.TypeSubscribe, Room: "general", Since: 3})
	if f := again.next(); f.Type != protocol.TypeSubscribed || f.Head != 6 {
		t.Fatalf("subscribed = %+v", f)
	}
	for want := int64(4); want <= 6; want++ {
		if f := again.next(); f.Type != protocol.TypeMsg || f.Msg.Offset != want {
			t.Fatalf("backlog: got %+v, want offset %d", f, want)
		}
	}
	testenv.Eventually(t, waitTimeout, "bob sees 6 messages", testenv.Cond(func() bool { return len(bob.bodies("general")) == 6 }))
}

func TestTypingReachesOthers(t *testing.T) {
	t.Parallel()
	n := startNode(t)
	alice, bob := twoInGeneral(t, n)
	testenv.Eventually(t, waitTimeout, "bob sees alice and bob present", testenv.Cond(func() bool { return bob.presence("general") == "alice,bob" }))
	alice.Typing("general")
	testenv.Eventually(t, waitTimeout, "bob sees alice typing", testenv.Cond(func() bool {
		bob.mu.Lock()
		defer bob.mu.Unlock()
		return len(bob.typing["general"]) > 0 && bob.typing["general"][0] == "alice"
	}))
}

func TestHealthAndReady(t *testing.T) {
	t.Parallel()
	n := startNode(t)
	for _, path := range []string{"/healthz", "/readyz", "/metrics"} {
		resp, err := http.Get(n.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s = %d", path, resp.StatusCode)
		}
	}
	resp, err := http.Get(n.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	for _, want := range []string{"parley_connections 0", "parley_ready 1", "parley_slow_clients_closed_total 0"} {
		if !strings.Contains(string(body), want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}

// TestDrainClosesWithGoingAway: a draining node closes its clients with
// 4000 and stops; the package's TestMain then finds none of its goroutines
// left.
func TestDrainClosesWithGoingAway(t *testing.T) {
	n := startNode(t)
	c := dialRaw(t, n.URL, n.URL)
	c.auth(signup(t, n.URL, "ivan").AccessToken)
	c.send(protocol.Frame{Type: protocol.TypeSubscribe, Room: "general"})
	c.next()
	go n.stop(t)
	c.expectClose(websocket.StatusCode(protocol.CloseGoingAway))
	n.stop(t)
}

func TestClientStopsOnUnauthorized(t *testing.T) {
	t.Parallel()
	n := startNode(t)
	wsURL, _ := client.WebSocketURL(n.URL)
	c := client.New(client.Config{URL: wsURL, Origin: n.URL, Token: func(context.Context) (string, error) { return "bogus", nil }})
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	if err := c.Run(ctx); err == nil || ctx.Err() != nil {
		t.Fatalf("Run = %v, want an unauthorized error before the timeout", err)
	}
}

func TestExpiringTokenAsksForReauthThenCloses(t *testing.T) {
	t.Parallel()
	n := startNode(t)
	signup(t, n.URL, "judy")
	short, _, err := n.Keys.Sign("judy", "minted", time.Now(), 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	c := dialRaw(t, n.URL, n.URL)
	if f := c.auth(short); f.Type != protocol.TypeWelcome {
		t.Fatalf("welcome = %+v", f)
	}
	if f := c.next(); f.Type != protocol.TypeReauth {
		t.Fatalf("got %+v, want reauth", f)
	}
	c.expectClose(websocket.StatusCode(protocol.CloseTokenExpired))

	// A token frame answering reauth moves the connection's expiry: the
	// node asks again, now for the new token, which also expires within
	// ReauthBefore. That the moved expiry keeps the connection open past
	// the first one is server/ws's TestConnTokenRefreshOutlivesFirstExpiry,
	// on a fake clock.
	c2 := dialRaw(t, n.URL, n.URL)
	short2, _, err := n.Keys.Sign("judy", "minted", time.Now(), 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	c2.auth(short2)
	if f := c2.next(); f.Type != protocol.TypeReauth {
		t.Fatalf("got %+v, want reauth", f)
	}
	fresh, _, err := n.Keys.Sign("judy", "minted", time.Now(), 30*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	c2.send(protocol.Frame{Type: protocol.TypeToken, Token: fresh})
	if f := c2.next(); f.Type != protocol.TypeReauth {
		t.Fatalf("after refresh: %+v, want reauth for the new token", f)
	}
	c2.send(protocol.Frame{Type: protocol.TypePing, ID: "still"})
	if f := c2.next(); f.Type != protocol.TypePong {
		t.Fatalf("after refresh: %+v, want pong", f)
	}
}

// TestBurstOfSendsIsPacedNotDropped: far more sends than the node's rate
// limit allows at once all end up stored, once each (the
// client paces its outbox on rate_limited instead of dropping).
func TestBurstOfSendsIsPacedNotDropped(t *testing.T) {
	t.Parallel()
	n := startNode(t)
	alice := newChatter(t, n.URL, signup(t, n.URL, "alice"))
	alice.subscribe(t, "general")
	const count = 100
	for i := 0; i < count; i++ {
		if _, err := alice.Send("general", fmt.Sprint("burst ", i)); err != nil {
			t.Fatal(err)
		}
	}
	testenv.Eventually(t, waitTimeout, "alice sees every message", testenv.Cond(func() bool { return len(alice.bodies("general")) >= count }))
	// Each message exactly once. Order is kept except, by the client's
	// documented guarantee, around the first refusal on a slow link.
	seen := map[string]int{}
	for _, b := range alice.bodies("general") {
		seen[b]++
	}
	for i := 0; i < count; i++ {
		if b := fmt.Sprint("alice: burst ", i); seen[b] != 1 {
			t.Fatalf("%q stored %d times", b, seen[b])
		}
	}
	alice.mu.Lock()
	defer alice.mu.Unlock()
	for _, ev := range alice.events {
		if ev.Kind == client.EventError {
			t.Fatalf("a send failed: %+v", ev)
		}
	}
}
