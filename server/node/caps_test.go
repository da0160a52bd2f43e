package node_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/coder/websocket"

	"github.com/parleychat/parley/server/node"
	"github.com/parleychat/parley/shared/protocol"
	"github.com/parleychat/parley/shared/testenv"
)

// tryDial opens a WebSocket to the node and returns the handshake's HTTP
// status when it is refused.
func tryDial(t *testing.T, base string) (*rawConn, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	h := http.Header{}
	h.Set("Origin", base)
	c, resp, err := websocket.Dial(ctx, strings.Replace(base, "http", "ws", 1)+protocol.PathWS, &websocket.DialOptions{HTTPHeader: h})
	if err != nil {
		if resp == nil {
			t.Fatalf("dial: %v", err)
		}
		if resp.Header.Get("Retry-After") == "" {
			t.Errorf("refused handshake (%d) without Retry-After", resp.StatusCode)
		}
		return nil, resp.StatusCode
	}
	t.Cleanup(func() { c.CloseNow() })
	return &rawConn{Conn: c, t: t}, http.StatusSwitchingProtocols
}

// TestConnectionCaps: one address may hold only so many unauthenticated
// and so many open sockets (HTTP 429 beyond), one account only so many
// (close 4006 after auth); a slot frees when a socket authenticates or
// closes.
func TestConnectionCaps(t *testing.T) {
	t.Parallel()
	n := startNode(t, func(c *node.Config) { c.MaxUnauthPerAddr, c.MaxConnsPerAddr, c.MaxConnsPerUser = 2, 5, 3 })
	token := signup(t, n.URL, "capper").AccessToken

	// Two sockets that never authenticate fill the unauthenticated cap.
	u1, _ := tryDial(t, n.URL)
	tryDial(t, n.URL)
	if _, status := tryDial(t, n.URL); status != http.StatusTooManyRequests {
		t.Fatalf("third unauthenticated socket: status %d, want 429", status)
	}
	// Authenticating one frees its unauthenticated slot.
	u1.auth(token)
	u3, status := tryDial(t, n.URL)
	if status != http.StatusSwitchingProtocols {
		t.Fatalf("after one authenticated: status %d, want an upgrade", status)
	}
	u3.auth(token)
	// capper has 2 sockets; the third is fine, the fourth is closed 4006.
	u4, _ := tryDial(t, n.URL)
	u4.auth(token)
	u5, _ := tryDial(t, n.URL)
	u5.send(protocol.Frame{Type: protocol.TypeAuth, Token: token})
	u5.expectClose(websocket.StatusCode(protocol.CloseTooManyConnections))
	testenv.Eventually(t, waitTimeout, "the refused socket is gone", func() error { return openSockets(n.URL, 4) })
	// 5 sockets from this address at most: 3 authed + 1 unauthenticated
	// is 4; one more fits, the next does not.
	tryDial(t, n.URL)
	if _, status := tryDial(t, n.URL); status != http.StatusTooManyRequests {
		t.Fatalf("sixth socket from one address: status %d, want 429", status)
	}
	// Closing one of capper's sockets frees its slots.
	u4.Close(websocket.StatusNormalClosure, "")
	testenv.Eventually(t, waitTimeout, "a closed socket frees its slots", func() error {
		c, status := tryDial(t, n.URL)
		if status != http.StatusSwitchingProtocols {
			return errors.New("still refused")
		}
		if f := c.auth(token); f.Type != protocol.TypeWelcome {
			c.CloseNow()
			return errors.New("auth refused")
		}
		return nil
	})
}

// openSockets reports an error unless the node's /metrics counts want
// open WebSockets.
func openSockets(base string, want int) error {
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	line := fmt.Sprintf("\nparley_connections %d\n", want)
	if !strings.Contains(string(body), line) {
		return fmt.Errorf("metrics do not say %q", strings.TrimSpace(line))
	}
	return nil
}

// TestUserSendBudget: without Redis, one account's sockets on a node share
// one send budget (rate_limited with retry_after beyond it), and another
// account has its own.
func TestUserSendBudget(t *testing.T) {
	t.Parallel()
	n := startNode(t, func(c *node.Config) {
		c.SendRate, c.SendBurst = 1000, 1000
		c.UserSend.Rate, c.UserSend.Burst = 0.001, 5
	})
	token := signup(t, n.URL, "budgeted").AccessToken
	conns := make([]*rawConn, 3)
	for i := range conns {
		conns[i] = dialRaw(t, n.URL, n.URL)
		conns[i].auth(token)
	}
	other := dialRaw(t, n.URL, n.URL)
	other.auth(signup(t, n.URL, "unbothered").AccessToken)
	count := func(cs []*rawConn, sends int, prefix string) (acked, limited int) {
		for i := range sends {
			c, cid := cs[i%len(cs)], fmt.Sprint(prefix, i)
			c.send(protocol.Frame{Type: protocol.TypeSend, Room: "general", CID: cid, Body: "hi"})
			switch f := c.next(); {
			case f.Type == protocol.TypeAck && f.CID == cid:
				acked++
			case f.Type == protocol.TypeError && f.Code == protocol.ErrRateLimited && f.Ref == cid && f.RetryAfter > 0:
				limited++
			default:
				t.Fatalf("send %s: %+v", cid, f)
			}
		}
		return acked, limited
	}
	if acked, limited := count(conns, 9, "a"); acked != 5 || limited != 4 {
		t.Fatalf("9 sends over 3 sockets with a budget of 5: %d acknowledged, %d rate limited", acked, limited)
	}
	if acked, _ := count([]*rawConn{other}, 5, "b"); acked != 5 {
		t.Fatalf("another account: %d of 5 acknowledged", acked)
	}
}
