//go:build !js

package testenv

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
)

// NodeReadyTimeout bounds how long a node process may take to answer
// /readyz with 200 (a race-enabled binary on a busy machine is slow to
// start, and a node may wait for its database).
const NodeReadyTimeout = 90 * time.Second

// NodeConfig describes one parley node process.
type NodeConfig struct {
	// ID is the node's --node-id and its name in logs (default "node").
	ID string
	// Args are flags for `parley serve` besides --addr, --data and
	// --node-id, which the Node sets.
	Args []string
	// DataDir is --data (default: a fresh temporary directory).
	DataDir string
	// Env is added to the node's environment. PARLEY_* variables of the
	// test process are never passed on, so only Args and Env configure it.
	Env []string
	// NoWait returns from StartNode before the node is ready (for nodes
	// that wait on a database that is down).
	NoWait bool
}

// Node is a running `parley serve` process on a loopback port. Its
// methods may be called from any goroutine except where they say so.
type Node struct {
	t       testing.TB
	cfg     NodeConfig
	bin     string
	logPath string

	ID   string
	Addr string // 127.0.0.1:port; the same across restarts
	URL  string // http://Addr

	mu     sync.Mutex // guards cmd, exited and cfg.Args
	cmd    *exec.Cmd
	exited chan struct{} // closed once the current process has been waited for
}

// StartNode starts a node on a free port and waits until /readyz answers
// 200 (unless cfg.NoWait). When t ends the node is killed, its log is
// checked for data races and panics, and, if t failed, its tail is printed
// and the whole log kept under build/test-artifacts/nodes.
func StartNode(t testing.TB, cfg NodeConfig) *Node {
	t.Helper()
	n := NewNode(t, cfg)
	if err := n.startFresh(); err != nil {
		t.Fatal(err)
	}
	return n
}

// NewNode prepares a node without starting it; StartFresh (from any
// goroutine) starts it. Cleanup is registered with t as for StartNode.
// Call it from the test goroutine.
func NewNode(t testing.TB, cfg NodeConfig) *Node {
	t.Helper()
	if cfg.ID == "" {
		cfg.ID = "node"
	}
	dir := t.TempDir()
	if cfg.DataDir == "" {
		cfg.DataDir = filepath.Join(dir, "data")
	}
	n := &Node{t: t, cfg: cfg, bin: ParleyBinary(t), logPath: filepath.Join(dir, cfg.ID+".log"), ID: cfg.ID}
	t.Cleanup(n.cleanup)
	return n
}

// StartFresh picks a free port, starts the node and waits until it is ready
// (unless cfg.NoWait); if the port was taken meanwhile it tries another. It
// returns an error instead of failing t, so several nodes can start from
// goroutines.
func (n *Node) StartFresh() error { return n.startFresh() }

func (n *Node) startFresh() error {
	var err error
	for range 3 {
		var port int
		if port, err = FreePort(); err != nil {
			return err
		}
		n.Addr = "127.0.0.1:" + strconv.Itoa(port)
		n.URL = "http://" + n.Addr
		if err = n.spawn(); err != nil {
			return err
		}
		if n.cfg.NoWait {
			return nil
		}
		if err = n.WaitReady(NodeReadyTimeout); err == nil {
			return nil
		}
		n.Kill()
		if !strings.Contains(n.LogTail(20), "address already in use") {
			break
		}
	}
	return fmt.Errorf("%s: %w\n%s", n.ID, err, n.LogTail(40))
}

// Start starts the node again after Kill or Term, on the same address and
// data directory, and waits until it is ready (unless cfg.NoWait). Call it
// from the test goroutine.
func (n *Node) Start() {
	n.t.Helper()
	if err := n.Restart(); err != nil {
		n.t.Fatal(err)
	}
}

// Restart is Start that returns its error, for any goroutine.
func (n *Node) Restart() error {
	if !n.Exited() {
		return fmt.Errorf("restart %s: still running", n.ID)
	}
	if err := n.spawn(); err != nil {
		return err
	}
	if n.cfg.NoWait {
		return nil
	}
	if err := n.WaitReady(NodeReadyTimeout); err != nil {
		return fmt.Errorf("restart %s: %w\n%s", n.ID, err, n.LogTail(40))
	}
	return nil
}

// SetArgs replaces the extra flags the next Start or Restart passes (a
// deploy with a new setting, say); the running process keeps its own.
func (n *Node) SetArgs(args ...string) {
	n.mu.Lock()
	n.cfg.Args = append([]string(nil), args...)
	n.mu.Unlock()
}

// WSURL is the node's WebSocket endpoint.
func (n *Node) WSURL() string { return "ws://" + n.Addr + "/ws" }

func (n *Node) spawn() error {
	logf, err := os.OpenFile(n.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("open node log: %w", err)
	}
	defer logf.Close()
	n.mu.Lock()
	args := append([]string{"serve"}, n.cfg.Args...)
	n.mu.Unlock()
	args = append(args, "--addr", n.Addr, "--data", n.cfg.DataDir, "--node-id", n.ID)
	cmd := exec.Command(n.bin, args...)
	cmd.Env = append(nodeEnv(), n.cfg.Env...)
	cmd.Stdout, cmd.Stderr = logf, logf
	// Should the test process die without cleaning up, the node dies too.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", n.ID, err)
	}
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(exited)
	}()
	n.mu.Lock()
	n.cmd, n.exited = cmd, exited
	n.mu.Unlock()
	return nil
}

// nodeEnv is the test process's environment without PARLEY_* variables.
func nodeEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PARLEY_") {
			env = append(env, kv)
		}
	}
	return env
}

func (n *Node) current() (*exec.Cmd, chan struct{}) {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.cmd, n.exited
}

// WaitReady polls /readyz until it answers 200, the process exits or
// timeout passes.
func (n *Node) WaitReady(timeout time.Duration) error {
	cmd, exited := n.current()
	var code int
	err := Poll(context.Background(), timeout, func() error {
		select {
		case <-exited:
			return errExited
		default:
		}
		var err error
		if code, err = n.Readyz(); err != nil {
			return err
		}
		if code != http.StatusOK {
			return fmt.Errorf("/readyz answered %d", code)
		}
		return nil
	})
	if errors.Is(err, errExited) {
		return fmt.Errorf("%s exited before it was ready (%s)", n.ID, cmd.ProcessState)
	}
	if err != nil {
		return fmt.Errorf("%s not ready: %w", n.ID, err)
	}
	return nil
}

var errExited = errors.New("process exited")

// Readyz returns the status code of GET /readyz.
func (n *Node) Readyz() (int, error) {
	return httpStatus(n.URL + "/readyz")
}

func httpStatus(url string) (int, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
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

// Exited reports whether the process has exited (or never started).
func (n *Node) Exited() bool {
	_, exited := n.current()
	if exited == nil {
		return true
	}
	select {
	case <-exited:
		return true
	default:
		return false
	}
}

// Done is closed when the current process has exited.
func (n *Node) Done() <-chan struct{} {
	_, exited := n.current()
	return exited
}

// Kill sends SIGKILL, as a crash would, and waits for the process.
func (n *Node) Kill() {
	cmd, exited := n.current()
	if cmd == nil || n.Exited() {
		return
	}
	_ = cmd.Process.Signal(syscall.SIGKILL)
	<-exited
}

// Signal sends sig to the process (SIGSTOP and SIGCONT freeze and thaw it).
func (n *Node) Signal(sig syscall.Signal) error {
	cmd, _ := n.current()
	if cmd == nil {
		return fmt.Errorf("signal %s: not started", n.ID)
	}
	if err := cmd.Process.Signal(sig); err != nil {
		return fmt.Errorf("signal %s: %w", n.ID, err)
	}
	return nil
}

// Term sends SIGTERM and waits up to timeout for the node to exit. It
// returns the exit code and how long the exit took.
func (n *Node) Term(timeout time.Duration) (code int, took time.Duration, err error) {
	cmd, exited := n.current()
	start := time.Now()
	if err := n.Signal(syscall.SIGTERM); err != nil {
		return -1, 0, err
	}
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case <-exited:
		return cmd.ProcessState.ExitCode(), time.Since(start), nil
	case <-t.C:
		return -1, time.Since(start), fmt.Errorf("%s still running %v after SIGTERM", n.ID, timeout)
	}
}

// Log returns the node's whole log.
func (n *Node) Log() string {
	b, err := os.ReadFile(n.logPath)
	if err != nil {
		return "(no log: " + err.Error() + ")"
	}
	return string(b)
}

// LogTail returns the last lines of the node's log.
func (n *Node) LogTail(lines int) string {
	all := strings.Split(strings.TrimRight(n.Log(), "\n"), "\n")
	if len(all) > lines {
		all = all[len(all)-lines:]
	}
	return strings.Join(all, "\n")
}

func (n *Node) cleanup() {
	n.Kill()
	if _, exited := n.current(); exited == nil {
		return
	}
	log := n.Log()
	for _, bad := range []string{"WARNING: DATA RACE", "panic: ", "fatal error: "} {
		if i := strings.Index(log, bad); i >= 0 {
			n.t.Errorf("%s logged %q:\n%s", n.ID, bad, log[i:min(len(log), i+6000)])
		}
	}
	if !n.t.Failed() {
		return
	}
	n.t.Logf("---- %s log (last 60 lines) ----\n%s", n.ID, n.LogTail(60))
	if dir, err := ArtifactDir(n.t, "nodes"); err == nil {
		file := filepath.Join(dir, n.ID+".log")
		if os.WriteFile(file, []byte(log), 0o644) == nil {
			n.t.Logf("full log of %s: %s", n.ID, file)
		}
	}
}

// PID is the process id of the running node (0 when it is not running).
func (n *Node) PID() int {
	cmd, _ := n.current()
	if cmd == nil || cmd.Process == nil {
		return 0
	}
	return cmd.Process.Pid
}
