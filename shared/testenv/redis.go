//go:build !js

package testenv

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"fmt"
	"net"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// redisStartTimeout bounds how long a redis-server may take to answer PING.
const redisStartTimeout = 10 * time.Second

// RedisServer is a throwaway redis-server process. Its methods must be
// called from the test goroutine (they call t.Fatal).
type RedisServer struct {
	t    testing.TB
	bin  string
	dir  string
	port int
	tls  *TLSFiles // non-nil: TLS only (StartRedisTLS)

	mu   sync.Mutex
	proc *redisProc // nil while stopped
}

// redisProc is one run of the server process.
type redisProc struct {
	cmd    *exec.Cmd
	exited chan struct{} // closed when the process has been waited for
	out    *lockedBuffer
}

// StartRedis starts redis-server on a free port of 127.0.0.1 without
// persistence, waits until it answers PING and registers its shutdown
// with t.Cleanup.
func StartRedis(t testing.TB) *RedisServer {
	t.Helper()
	return startRedis(t, nil)
}

// StartRedisTLS is StartRedis with TLS only (no plaintext port), serving
// the server certificate of files; clients need not present one. URL is
// then a rediss:// URL.
func StartRedisTLS(t testing.TB, files TLSFiles) *RedisServer {
	t.Helper()
	return startRedis(t, &files)
}

func startRedis(t testing.TB, files *TLSFiles) *RedisServer {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		t.Fatal("redis-server not found: install package redis-server (make test does)")
	}
	s := &RedisServer{t: t, bin: bin, dir: t.TempDir(), tls: files}
	t.Cleanup(s.Stop)
	// Another process may take the free port before redis binds it: retry
	// on a fresh port a few times.
	var lastErr error
	for range 5 {
		s.port, err = FreePort()
		if err != nil {
			t.Fatal(err)
		}
		if lastErr = s.start(); lastErr == nil {
			return s
		}
	}
	t.Fatalf("start redis-server: %v", lastErr)
	return nil
}

// URL returns the redis:// (with TLS: rediss://) URL of database 0.
func (s *RedisServer) URL() string {
	if s.tls != nil {
		return "rediss://" + s.Addr() + "/0"
	}
	return "redis://" + s.Addr() + "/0"
}

// Addr returns host:port.
func (s *RedisServer) Addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.port)) }

// Stop kills the server (SIGKILL, like a crash) and waits for it to exit.
// Stopping a stopped server does nothing. Data does not survive a Stop.
func (s *RedisServer) Stop() {
	s.mu.Lock()
	p := s.proc
	s.proc = nil
	s.mu.Unlock()
	if p == nil {
		return
	}
	_ = p.cmd.Process.Kill()
	<-p.exited
}

// Start restarts a stopped server on the same port and waits until it
// answers PING. Starting a running server does nothing.
func (s *RedisServer) Start() {
	s.t.Helper()
	if err := s.start(); err != nil {
		s.t.Fatalf("restart redis-server: %v", err)
	}
}

func (s *RedisServer) start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.proc != nil {
		return nil
	}
	p, err := s.spawn()
	if err != nil {
		return err
	}
	if err := waitRedis(s.Addr(), s.tls, p.exited); err != nil {
		_ = p.cmd.Process.Kill()
		<-p.exited
		return fmt.Errorf("wait for redis on %s: %w; output:\n%s", s.Addr(), err, p.out.String())
	}
	s.proc = p
	return nil
}

func (s *RedisServer) spawn() (*redisProc, error) {
	args := []string{
		"--port", strconv.Itoa(s.port),
		"--bind", "127.0.0.1",
		"--save", "",
		"--appendonly", "no",
		"--dir", s.dir,
	}
	if s.tls != nil {
		args = append(args, "--port", "0", "--tls-port", strconv.Itoa(s.port),
			"--tls-cert-file", s.tls.ServerCert, "--tls-key-file", s.tls.ServerKey,
			"--tls-ca-cert-file", s.tls.CA, "--tls-auth-clients", "no")
	}
	cmd := exec.Command(s.bin, args...)
	out := &lockedBuffer{}
	cmd.Stdout = out
	cmd.Stderr = out
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("run %s: %w", s.bin, err)
	}
	p := &redisProc{cmd: cmd, exited: make(chan struct{}), out: out}
	go func() {
		_ = cmd.Wait()
		close(p.exited)
	}()
	return p, nil
}

// waitRedis polls addr with PING until it answers PONG, the process exits
// or redisStartTimeout passes.
func waitRedis(addr string, files *TLSFiles, exited <-chan struct{}) error {
	deadline := time.Now().Add(redisStartTimeout)
	for {
		err := pingRedis(addr, files)
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return err
		}
		select {
		case <-exited:
			return fmt.Errorf("redis-server exited: %w", err)
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// pingRedis sends one inline PING and expects +PONG.
func pingRedis(addr string, files *TLSFiles) error {
	var conn net.Conn
	var err error
	if files != nil {
		// A readiness probe only: the certificate may name any host
		// (tests of name verification), so it is not checked here.
		c := &tls.Config{InsecureSkipVerify: true} //nolint:gosec // probe
		conn, err = tls.DialWithDialer(&net.Dialer{Timeout: time.Second}, "tcp", addr, c)
	} else {
		conn, err = net.DialTimeout("tcp", addr, time.Second)
	}
	if err != nil {
		return fmt.Errorf("dial: %w", err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(time.Second))
	if _, err := conn.Write([]byte("PING\r\n")); err != nil {
		return fmt.Errorf("send ping: %w", err)
	}
	line, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil {
		return fmt.Errorf("read pong: %w", err)
	}
	if strings.TrimSpace(line) != "+PONG" {
		return fmt.Errorf("unexpected ping reply %q", line)
	}
	return nil
}

// lockedBuffer collects process output written from exec's copying
// goroutines.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
