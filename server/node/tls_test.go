package node_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/redis/go-redis/v9"

	"github.com/parleychat/parley/server/broker"
	"github.com/parleychat/parley/server/certs"
	"github.com/parleychat/parley/server/node"
	"github.com/parleychat/parley/server/store"
	"github.com/parleychat/parley/shared/client"
	"github.com/parleychat/parley/shared/protocol"
	"github.com/parleychat/parley/shared/testenv"
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
	// minutes; a send budget's key lives a second or two). A node whose
	// Redis round trip outlives its bound (a starved machine's first TLS
	// dial) counts on its own for a second, by design: the check below
	// tries another wrong password until one is counted in Redis.
	wrongLogin := func() error {
		if _, err := client.NewAPI(n.URL, nil).Login(context.Background(), protocol.Credentials{Username: "alice", Password: "wrong password!"}); err == nil {
			return errors.New("login with a wrong password succeeded")
		}
		return nil
	}
	if err := wrongLogin(); err != nil {
		t.Fatal(err)
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
		if !budget {
			if err := wrongLogin(); err != nil {
				t.Fatal(err) // the check runs on the test goroutine
			}
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

// TestNodePostgresVerifyFull runs a node on a PostgreSQL with ssl = on,
// reached with sslmode=verify-full and sslrootcert naming a private CA:
// the node starts, serves, and every connection it holds is encrypted.
func TestNodePostgresVerifyFull(t *testing.T) {
	t.Parallel()
	files := testenv.NewTLS(t)
	pg := testenv.NewPostgresTLS(t, files)
	ctx := context.Background()
	name, _, err := pg.CreateDatabase(ctx)
	if err != nil {
		t.Fatal(err)
	}
	n := startNode(t, func(c *node.Config) { c.PostgresURL = pg.TLSURL(name, files.CA) })
	signup(t, n.URL, "alice")
	admin, err := pgx.Connect(ctx, pg.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(ctx)
	var plain, encrypted int
	err = admin.QueryRow(ctx, `SELECT count(*) FILTER (WHERE NOT s.ssl), count(*) FILTER (WHERE s.ssl)
		FROM pg_stat_activity a JOIN pg_stat_ssl s USING (pid) WHERE a.datname = $1`, name).Scan(&plain, &encrypted)
	if err != nil {
		t.Fatal(err)
	}
	if plain != 0 || encrypted == 0 {
		t.Fatalf("node's connections to %s: %d plaintext, %d TLS; want only TLS", name, plain, encrypted)
	}
}

// TestPostgresVerifyFullRefusesWrongCA: the store the node opens refuses
// a server whose certificate another CA signed, and one whose
// certificate names another host.
func TestPostgresVerifyFullRefusesWrongCA(t *testing.T) {
	t.Parallel()
	files, err := certs.Generate(t.TempDir(), []string{"db.internal", "127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	pg := testenv.NewPostgresTLS(t, files)
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	name, _, err := pg.CreateDatabase(ctx)
	if err != nil {
		t.Fatal(err)
	}
	_, err = store.OpenPostgres(ctx, pg.TLSURL(name, testenv.NewTLS(t).CA), 2)
	if err == nil || !strings.Contains(err.Error(), "certificate signed by unknown authority") {
		t.Fatalf("open with the wrong CA: %v, want certificate signed by unknown authority", err)
	}
	url := strings.Replace(pg.TLSURL(name, files.CA), "127.0.0.1", "localhost", 1)
	_, err = store.OpenPostgres(ctx, url, 2)
	if err == nil || !strings.Contains(err.Error(), "not localhost") {
		t.Fatalf("open localhost with a certificate for db.internal and 127.0.0.1: %v, want a name mismatch", err)
	}
}
