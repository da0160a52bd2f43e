package cluster_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/parleychat/parley/shared/client"
	"github.com/parleychat/parley/shared/protocol"
)

// budgetArgs give every user of the cluster a budget of 10 messages and
// 40000 body bytes that barely refills while a test runs (one message per
// 1000 s, one byte a second), and lift the per-socket limit out of the
// way: what is counted is the per-user budget alone.
var budgetArgs = []string{
	"--send-rate", "1000", "--send-burst", "1000",
	"--user-send-rate", "0.001", "--user-send-burst", "10",
	"--user-send-bytes", "1", "--user-send-bytes-burst", "40000",
}

// TestSendBudgetSharedAcrossNodes: one user on three sockets over two
// nodes gets one budget in all (10 messages, then rate_limited with a
// retry_after), while another user sending at the same time gets its own
// whole budget; a user sending large bodies is held to the byte budget
// across both nodes.
func TestSendBudgetSharedAcrossNodes(t *testing.T) {
	c := startCluster(t, options{nodes: 2, logLevel: "info", args: budgetArgs})
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	dial := func(n int, user string) *rawClient {
		rc, err := dialRaw(ctx, c.nodes[n].WSURL(), c.token(user), nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(rc.close)
		return rc
	}
	spammer := []*rawClient{dial(0, "spammer"), dial(0, "spammer"), dial(1, "spammer")}
	bystander := dial(1, "bystander")
	bulk := []*rawClient{dial(0, "bulk"), dial(1, "bulk")}

	// The bystander sends its ten while the spammer sends eighteen.
	bystanderDone := make(chan error, 1)
	go func() {
		acked, limited, err := sendEach(ctx, []*rawClient{bystander}, 10, "b", "hello")
		if err == nil && (acked != 10 || limited != 0) {
			err = fmt.Errorf("bystander: %d of 10 acknowledged, %d rate limited; want all 10", acked, limited)
		}
		bystanderDone <- err
	}()
	acked, limited, err := sendEach(ctx, spammer, 18, "s", "spam")
	if err != nil {
		t.Fatal(err)
	}
	if acked != 10 || limited != 8 {
		t.Fatalf("spammer over 3 sockets on 2 nodes: %d acknowledged, %d rate limited; want 10 and 8 (one budget)", acked, limited)
	}
	if err := <-bystanderDone; err != nil {
		t.Fatal(err)
	}

	// 10000-byte bodies (3334 characters), alternating nodes: four fit
	// 40000 bytes.
	acked, limited, err = sendEach(ctx, bulk, 6, "k", strings.Repeat("€", 3333)+"x")
	if err != nil {
		t.Fatal(err)
	}
	if acked != 4 || limited != 2 {
		t.Fatalf("bulk 10000-byte bodies on 2 nodes: %d acknowledged, %d rate limited; want 4 and 2 (40000 bytes)", acked, limited)
	}
}

// sendEach sends n messages round robin over conns, one at a time, and
// counts the acks and the rate_limited refusals (each must carry its cid
// and a retry_after); any other answer is an error.
func sendEach(ctx context.Context, conns []*rawClient, n int, prefix, body string) (acked, limited int, err error) {
	for i := range n {
		rc, cid := conns[i%len(conns)], fmt.Sprintf("%s%d", prefix, i)
		if err := rc.write(ctx, protocol.Frame{Type: protocol.TypeSend, Room: protocol.DefaultRoom, CID: cid, Body: body}); err != nil {
			return acked, limited, err
		}
		f, err := answerTo(ctx, rc, cid)
		if err != nil {
			return acked, limited, err
		}
		switch {
		case f.Type == protocol.TypeAck:
			acked++
		case f.Code == protocol.ErrRateLimited && f.RetryAfter > 0:
			limited++
		default:
			return acked, limited, fmt.Errorf("send %s on %s: unexpected answer %+v", cid, rc.node, f)
		}
	}
	return acked, limited, nil
}

// answerTo reads until the ack or error frame about cid.
func answerTo(ctx context.Context, rc *rawClient, cid string) (protocol.Frame, error) {
	for {
		f, err := rc.read(ctx)
		if err != nil {
			return f, err
		}
		if (f.Type == protocol.TypeAck && f.CID == cid) || (f.Type == protocol.TypeError && f.Ref == cid) {
			return f, nil
		}
	}
}

// TestLoginBackoffSharedThenRedisDown: wrong passwords for one account
// count on every node (a guess on node 2 waits for failures on node 1),
// another account is unaffected; when Redis goes away, logins and sends
// keep working (each node limits on its own) and each node logs the
// outage of its send budget once, not once per send.
func TestLoginBackoffSharedThenRedisDown(t *testing.T) {
	c := startCluster(t, options{nodes: 2, logLevel: "info", args: []string{
		"--login-free-failures", "2", "--login-backoff", "1m", "--auth-rate", "1000", "--auth-burst", "1000",
	}})
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	signupAll(t, []string{c.nodes[0].URL}, []string{"target", "bystander"})
	login := func(n int, user, password string) error {
		_, err := client.NewAPI(c.nodes[n].URL, loopbackClient()).Login(ctx, protocol.Credentials{Username: user, Password: password})
		return err
	}
	for i, n := range []int{0, 1, 0} {
		var ae *client.APIError
		if err := login(n, "target", "wrong-guess"); !errors.As(err, &ae) || ae.Status != http.StatusUnauthorized {
			t.Fatalf("wrong password %d on node%d: %v, want 401", i+1, n+1, err)
		}
	}
	// The third failure (on node 1) makes the account wait, on node 2 too,
	// even with the right password.
	var ae *client.APIError
	if err := login(1, "target", "secret-target"); !errors.As(err, &ae) || ae.Status != http.StatusTooManyRequests || ae.RetryAfter < 50*time.Second {
		t.Fatalf("right password on node2 during the wait: %v, want 429 with Retry-After about 60s", err)
	}
	if err := login(1, "bystander", "secret-bystander"); err != nil {
		t.Fatalf("another account: %v", err)
	}

	c.redis.Stop()
	if err := login(0, "bystander", "secret-bystander"); err != nil {
		t.Fatalf("login with Redis down: %v", err)
	}
	rc, err := dialRaw(ctx, c.nodes[0].WSURL(), c.token("sender"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.close()
	acked, limited, err := sendEach(ctx, []*rawClient{rc}, 5, "d", "while redis is down")
	if err != nil || acked != 5 || limited != 0 {
		t.Fatalf("sends with Redis down: %d acknowledged, %d limited, %v; want all 5", acked, limited, err)
	}
	if n := strings.Count(c.nodes[0].Log(), "redis send budget (each node on its own meanwhile) failing"); n != 1 {
		t.Fatalf("node1 logged the send budget's outage %d times, want once", n)
	}
}
