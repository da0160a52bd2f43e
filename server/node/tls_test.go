package node_test

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/parleychat/parley/internal/testenv"
	"github.com/parleychat/parley/server/broker"
	"github.com/parleychat/parley/server/certs"
	"github.com/parleychat/parley/server/node"
	"github.com/parleychat/parley/shared/client"
	"github.com/parleychat/parley/shared/protocol"
)

// withRedisTLS points a node at srv (a rediss:// URL) trusting ca.
func withRedisTLS(srv *testenv.RedisServer, ca string) func(*node.Config) {
	return func(c *node.Config) {
		c.RedisURL, c.RedisCA = srv.URL(), ca
		c.ClusterKeys = [][]byte{[]byte(strings.Repeat("k", broker.MinClusterKeyBytes))}
	}
}

// TestNodeRedisOverTLS runs a node whose every Redis client (broker,
// presence, send budget) talks to a Redis that only speaks TLS, with a
// private CA: a message goes through, and the presence and login
// backoff keys are in that Redis (the budget would otherwise fall back to
// the node's own state silently).
func TestNodeRedisOverTLS(t *testing.T) {
	t.Parallel()
	files := testenv.NewTLS(t)
	srv := testenv.StartRedisTLS(t, files)
	n := startNode(t, withRedisTLS(srv, files.CA))
	alice, bob := twoInGeneral(t, n)
	if _, err := alice.Send(protocol.DefaultRoom, "over tls"); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, waitTimeout, "bob gets the message", func() error {
		if got := bob.bodies(protocol.DefaultRoom); !slices.Contains(got, "alice: over tls") {
			return fmt.Errorf("bob has %q", got)
		}
		return nil
	})
	// A wrong password is counted in Redis (login backoff, kept for
	// minutes; a send budget's key lives a second or two).
	if _, err := client.NewAPI(n.URL, nil).Login(context.Background(), protocol.Credentials{Username: "alice", Password: "wrong password!"}); err == nil {
		t.Fatal("login with a wrong password succeeded")
	}
	tlsc, err := certs.ClientConfig(files.CA, "", "")
	if err != nil {
		t.Fatal(err)
	}
	opt, err := redis.ParseURL(srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	if opt.TLSConfig, err = certs.ForURL(opt.TLSConfig, tlsc); err != nil {
		t.Fatal(err)
	}
	rc := redis.NewClient(opt)
	defer rc.Close()
	testenv.Eventually(t, waitTimeout, "presence and budget keys in the TLS Redis", func() error {
		keys, err := rc.Keys(context.Background(), "parley:*").Result()
		if err != nil {
			return err
		}
		var presence, budget bool
		for _, k := range keys {
			presence = presence || strings.HasPrefix(k, "parley:presence:")
			budget = budget || strings.HasPrefix(k, "parley:budget:")
		}
		if !presence || !budget {
			return fmt.Errorf("keys %q: want presence and budget ones", keys)
		}
		return nil
	})
}

func TestNodeRedisTLSFlags(t *testing.T) {
	t.Parallel()
	env := func(string) string { return "" }
	base := []string{"--jwt-keys", "k:" + strings.Repeat("A", 44), "--cluster-key", strings.Repeat("A", 44)}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--redis", "redis://127.0.0.1:6379/0", "--redis-ca", "ca.crt"}, "rediss://"},
		{[]string{"--redis-ca", "ca.crt"}, "rediss://"},
		{[]string{"--redis", "rediss://127.0.0.1:6379/0", "--redis-cert", "c.crt"}, "go together"},
	} {
		_, err := node.ParseFlags("test", append(slices.Clone(base), tc.args...), env, new(strings.Builder))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ParseFlags(%q) = %v, want an error with %q", tc.args, err, tc.want)
		}
	}
	_, err := node.ParseFlags("test", append(slices.Clone(base), "--redis", "rediss://127.0.0.1:6379/0", "--redis-ca", "ca.crt"), env, new(strings.Builder))
	if err != nil {
		t.Errorf("rediss:// with --redis-ca: %v", err)
	}
}

// TestNodeRedisTLSMissingCAFile: a CA file that cannot be read stops the
// node at start with an error naming it.
func TestNodeRedisTLSMissingCAFile(t *testing.T) {
	t.Parallel()
	srv := testenv.StartRedisTLS(t, testenv.NewTLS(t))
	missing := t.TempDir() + "/none.crt"
	cfg, err := node.ParseFlags("test", []string{"--data", t.TempDir(), "--jwt-keys", "k:" + strings.Repeat("A", 44)}, func(string) string { return "" }, new(strings.Builder))
	if err != nil {
		t.Fatal(err)
	}
	withRedisTLS(srv, missing)(&cfg)
	n, err := node.New(context.Background(), cfg, slog.New(slog.DiscardHandler))
	if err == nil {
		n.Close()
		t.Fatal("node started with a missing --redis-ca file")
	}
	if !strings.Contains(err.Error(), "none.crt") {
		t.Fatalf("error %q does not name the CA file", err)
	}
}
