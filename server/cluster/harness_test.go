package cluster_test

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/parleychat/parley/server/auth"
	"github.com/parleychat/parley/shared/testenv"
)

// Test timings. The node's own defaults are longer (presence TTL 15s,
// drain delay 1s, drain timeout 15s; see parley serve --help): these keep
// the tests short without changing what they prove. The presence TTL must
// exceed the presence heartbeat (5s, presence.DefaultHeartbeat).
const (
	testPresenceTTL  = 6 * time.Second
	testDrainDelay   = 300 * time.Millisecond
	testDrainTimeout = 10 * time.Second
)

// options shape a test cluster.
type options struct {
	nodes        int
	presenceTTL  time.Duration
	drainDelay   time.Duration
	drainTimeout time.Duration
	logLevel     string
	// ownPostgres: the cluster gets a PostgreSQL server of its own, which
	// the test may stop and start (cluster.pg); else a fresh database on
	// the test process's shared server.
	ownPostgres bool
	// args are extra flags for every node.
	args []string
}

func (o options) withDefaults() options {
	if o.nodes == 0 {
		o.nodes = 3
	}
	if o.presenceTTL == 0 {
		o.presenceTTL = testPresenceTTL
	}
	if o.drainDelay == 0 {
		o.drainDelay = testDrainDelay
	}
	if o.drainTimeout == 0 {
		o.drainTimeout = testDrainTimeout
	}
	if o.logLevel == "" {
		o.logLevel = "debug"
	}
	return o
}

// cluster is a set of parley node processes sharing one throwaway Redis,
// one fresh PostgreSQL database and one JWT key.
type cluster struct {
	t       testing.TB
	opts    options
	redis   *testenv.RedisServer
	pg      *testenv.PGServer // set with options.ownPostgres
	pgURL   string
	keys    string        // the --jwt-keys value every node gets
	keyring *auth.Keyring // the same key, for minting tokens
	nodes   []*node
}

// node is one parley process of the cluster.
type node = testenv.Node

// startCluster starts Redis, a PostgreSQL database and opts.nodes nodes,
// and returns once every node's /readyz answers 200. Everything is torn
// down when t ends; if t failed, each node's log tail is printed.
func startCluster(t testing.TB, opts options) *cluster {
	t.Helper()
	opts = opts.withDefaults()
	c := &cluster{t: t, opts: opts}
	c.redis = testenv.StartRedis(t)
	if opts.ownPostgres {
		c.pg = testenv.NewPostgres(t)
		c.pgURL = c.pg.FreshDatabase(t)
	} else {
		c.pgURL = testenv.Postgres(t)
	}
	key, err := auth.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	c.keys = auth.FormatKey(key)
	if c.keyring, err = auth.NewKeyring(key); err != nil {
		t.Fatal(err)
	}
	c.nodes = make([]*node, opts.nodes)
	errs := make([]error, opts.nodes)
	var wg sync.WaitGroup
	for i := range c.nodes {
		c.nodes[i] = testenv.NewNode(t, testenv.NodeConfig{ID: fmt.Sprintf("node%d", i+1), Args: c.args()})
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = c.nodes[i].StartFresh()
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatalf("start cluster: %v", err)
	}
	return c
}

// testClusterKey is the --cluster-key every node of a test cluster gets
// (32 bytes, base64).
const testClusterKey = "dGVzdC1jbHVzdGVyLWtleS10ZXN0LWNsdXN0ZXIta2V5"

// args are the flags every node shares.
func (c *cluster) args() []string {
	o := c.opts
	return append([]string{
		"--redis", c.redis.URL(),
		"--postgres", c.pgURL,
		"--jwt-keys", c.keys,
		"--cluster-key", testClusterKey,
		"--presence-ttl", o.presenceTTL.String(),
		"--drain-delay", o.drainDelay.String(),
		"--drain-timeout", o.drainTimeout.String(),
		"--log-level", o.logLevel,
		"--pg-max-conns", "10",
		// Every test client connects from loopback: the per-address
		// caps would count them all as one client.
		"--max-conns-per-addr", "1000000",
		"--max-unauth-per-addr", "1000000",
	}, o.args...)
}

// token mints an access token for user with the cluster's key, as the
// API would after a login. Tests that need many users use it because every
// real signup costs an argon2id hash (tens of milliseconds of CPU) by design.
func (c *cluster) token(user string) string {
	c.t.Helper()
	tok, _, err := c.keyring.Sign(user, "minted-"+user, time.Now(), time.Hour)
	if err != nil {
		c.t.Fatal(err)
	}
	return tok
}
