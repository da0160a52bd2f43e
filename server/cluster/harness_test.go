package cluster_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/parleychat/parley/server/auth"
	"github.com/parleychat/parley/server/internal/testenv"
)

// Test timings. The node's own defaults are longer (presence TTL 15s,
// drain delay 1s, drain timeout 15s; see parley serve --help): these keep
// the tests short without changing what they prove. The presence TTL must
// exceed the presence heartbeat (5s, presence.DefaultHeartbeat).
const (
	testPresenceTTL  = 6 * time.Second
	testDrainDelay   = 300 * time.Millisecond
	testDrainTimeout = 10 * time.Second
	readyTimeout     = 60 * time.Second
)

// options shape a test cluster.
type options struct {
	nodes        int
	presenceTTL  time.Duration
	drainDelay   time.Duration
	drainTimeout time.Duration
	logLevel     string
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
	pgURL   string
	keys    string        // the --jwt-keys value every node gets
	keyring *auth.Keyring // the same key, for minting tokens
	nodes   []*node
}

// startCluster starts Redis, a PostgreSQL database and opts.nodes nodes,
// and returns once every node's /readyz answers 200. Everything is torn
// down when t ends; if t failed, each node's log tail is printed.
func startCluster(t testing.TB, opts options) *cluster {
	t.Helper()
	opts = opts.withDefaults()
	bin := parleyBinary(t)
	c := &cluster{t: t, opts: opts}
	c.redis = testenv.StartRedis(t)
	c.pgURL = testenv.Postgres(t)
	key, err := auth.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	c.keys = auth.FormatKey(key)
	if c.keyring, err = auth.NewKeyring(key); err != nil {
		t.Fatal(err)
	}
	logDir := t.TempDir()
	c.nodes = make([]*node, opts.nodes)
	errs := make([]error, opts.nodes)
	var wg sync.WaitGroup
	for i := range c.nodes {
		id := fmt.Sprintf("node%d", i+1)
		c.nodes[i] = &node{t: t, id: id, bin: bin, logPath: filepath.Join(logDir, id+".log"), dataDir: filepath.Join(logDir, id+"-data")}
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = c.nodes[i].start(c.args())
		}()
	}
	wg.Wait()
	t.Cleanup(c.stop)
	if err := errors.Join(errs...); err != nil {
		t.Fatalf("start cluster: %v", err)
	}
	return c
}

// args are the flags every node shares.
func (c *cluster) args() []string {
	o := c.opts
	return []string{
		"serve",
		"--redis", c.redis.URL(),
		"--postgres", c.pgURL,
		"--jwt-keys", c.keys,
		"--presence-ttl", o.presenceTTL.String(),
		"--drain-delay", o.drainDelay.String(),
		"--drain-timeout", o.drainTimeout.String(),
		"--log-level", o.logLevel,
		"--pg-max-conns", "10",
	}
}

// stop kills every node still running and reports what their logs show.
func (c *cluster) stop() {
	for _, n := range c.nodes {
		if n != nil && n.cmd != nil {
			n.kill()
		}
	}
	for _, n := range c.nodes {
		if n != nil && n.cmd != nil {
			n.checkLog()
		}
	}
	if c.t.Failed() {
		for _, n := range c.nodes {
			if n != nil && n.cmd != nil {
				n.dumpLog()
			}
		}
	}
}

// token mints an access token for user with the cluster's key, as the
// API would after a login. Tests that need many users use it because every
// real signup costs an argon2id hash (tens of milliseconds of CPU) by design.
func (c *cluster) token(user string) string {
	c.t.Helper()
	tok, _, err := c.keyring.Sign(user, time.Now(), time.Hour)
	if err != nil {
		c.t.Fatal(err)
	}
	return tok
}

// node is one parley process.
type node struct {
	t       testing.TB
	id      string
	bin     string
	addr    string // 127.0.0.1:port
	url     string // http://addr
	dataDir string
	logPath string

	cmd    *exec.Cmd
	exited chan struct{} // closed when the process has been waited for
}

// start runs the node on a free port and waits until it is ready. If the
// port was taken meanwhile it tries another.
func (n *node) start(shared []string) error {
	var err error
	for range 3 {
		var port int
		if port, err = testenv.FreePort(); err != nil {
			return err
		}
		n.addr = "127.0.0.1:" + strconv.Itoa(port)
		n.url = "http://" + n.addr
		if err = n.spawn(shared); err != nil {
			return err
		}
		if err = n.waitReady(readyTimeout); err == nil {
			return nil
		}
		n.kill()
		if !strings.Contains(n.logTail(20), "address already in use") {
			break
		}
	}
	return fmt.Errorf("%s: %w\n%s", n.id, err, n.logTail(40))
}

func (n *node) spawn(shared []string) error {
	logf, err := os.OpenFile(n.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("open node log: %w", err)
	}
	defer logf.Close()
	args := append(append([]string{}, shared...), "--addr", n.addr, "--data", n.dataDir, "--node-id", n.id)
	cmd := exec.Command(n.bin, args...)
	cmd.Env = nodeEnv()
	cmd.Stdout, cmd.Stderr = logf, logf
	// Should the test process die without cleaning up, the node dies too.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", n.id, err)
	}
	n.cmd = cmd
	n.exited = make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(n.exited)
	}()
	return nil
}

// nodeEnv is the test process's environment without PARLEY_* variables,
// so that only the flags configure a node.
func nodeEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PARLEY_") {
			env = append(env, kv)
		}
	}
	return env
}

// waitReady polls /readyz until it answers 200.
func (n *node) waitReady(timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		code, err := n.readyz()
		if err == nil && code == http.StatusOK {
			return nil
		}
		if n.hasExited() {
			return fmt.Errorf("%s exited before it was ready (%s)", n.id, n.cmd.ProcessState)
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s not ready after %v (last: %d, %v)", n.id, timeout, code, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// readyz returns the status code of GET /readyz.
func (n *node) readyz() (int, error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, n.url+"/readyz", nil)
	if err != nil {
		return 0, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}

func (n *node) hasExited() bool {
	select {
	case <-n.exited:
		return true
	default:
		return false
	}
}

// kill sends SIGKILL, as a crash would, and waits for the process.
func (n *node) kill() {
	if n.hasExited() {
		return
	}
	_ = n.cmd.Process.Signal(syscall.SIGKILL)
	<-n.exited
}

// term sends SIGTERM and waits up to timeout for the node to exit. It
// returns the exit code and how long the exit took.
func (n *node) term(timeout time.Duration) (code int, took time.Duration, err error) {
	start := time.Now()
	if err := n.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		return -1, 0, fmt.Errorf("signal %s: %w", n.id, err)
	}
	select {
	case <-n.exited:
		return n.cmd.ProcessState.ExitCode(), time.Since(start), nil
	case <-time.After(timeout):
		return -1, time.Since(start), fmt.Errorf("%s still running %v after SIGTERM", n.id, timeout)
	}
}

// checkLog fails the test if the node reported a data race or a panic.
func (n *node) checkLog() {
	b, err := os.ReadFile(n.logPath)
	if err != nil {
		n.t.Errorf("%s: read log: %v", n.id, err)
		return
	}
	log := string(b)
	for _, bad := range []string{"WARNING: DATA RACE", "panic: ", "fatal error: "} {
		if i := strings.Index(log, bad); i >= 0 {
			end := min(len(log), i+6000)
			n.t.Errorf("%s logged %q:\n%s", n.id, bad, log[i:end])
		}
	}
}

// logTail returns the last lines of the node's log.
func (n *node) logTail(lines int) string {
	b, err := os.ReadFile(n.logPath)
	if err != nil {
		return "(no log: " + err.Error() + ")"
	}
	all := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(all) > lines {
		all = all[len(all)-lines:]
	}
	return strings.Join(all, "\n")
}

// dumpLog prints the node's log tail and keeps the whole log under
// build/test-artifacts for CI to collect.
func (n *node) dumpLog() {
	n.t.Logf("---- %s log (last 60 lines) ----\n%s", n.id, n.logTail(60))
	root, err := moduleRoot()
	if err != nil {
		return
	}
	dir := filepath.Join(root, "build", "test-artifacts", "cluster", sanitize(n.t.Name()))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return
	}
	if b, err := os.ReadFile(n.logPath); err == nil {
		_ = os.WriteFile(filepath.Join(dir, n.id+".log"), b, 0o644)
		n.t.Logf("full log of %s: %s", n.id, filepath.Join(dir, n.id+".log"))
	}
}

func sanitize(name string) string {
	return strings.Map(func(r rune) rune {
		switch r {
		case '/', ' ', ':', '\\':
			return '_'
		}
		return r
	}, name)
}

// eventually polls check every 20ms until it returns nil, failing the test
// with check's last error when timeout passes.
func eventually(t testing.TB, timeout time.Duration, what string, check func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		err := check()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not true after %v: %v", what, timeout, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
