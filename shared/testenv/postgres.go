//go:build !js

package testenv

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// errNoPostgres is reported when no PostgreSQL server binaries are found.
var errNoPostgres = errors.New("PostgreSQL server binaries not found: install package postgresql (make test does)")

// pgSettings tune a throwaway server for speed. Durability across an OS
// crash is given up (fsync=off), but a committed transaction survives the
// server being killed, which is what Stop simulates.
const pgSettings = `
# Settings of a throwaway test server.
listen_addresses = '127.0.0.1'
unix_socket_directories = '%s'
max_connections = 200
shared_buffers = '32MB'
fsync = off
full_page_writes = off
wal_level = minimal
max_wal_senders = 0
logging_collector = off
`

// pgWatchdog runs beside every server and outlives the test process: its
// standard input is a pipe whose only writer is that process, so when the
// process exits, however it exits, or Close closes the pipe, the script
// stops the server and deletes its directory. Arguments: data directory,
// root directory.
const pgWatchdog = `
cat >/dev/null
if [ -f "$1/postmaster.pid" ]; then
	pid=$(head -n 1 "$1/postmaster.pid")
	kill -QUIT "$pid" 2>/dev/null
	i=0
	while kill -0 "$pid" 2>/dev/null && [ "$i" -lt 100 ]; do sleep 0.1; i=$((i+1)); done
	kill -KILL "$pid" 2>/dev/null
fi
rm -rf "$2"
`

// PGServer is a throwaway PostgreSQL server listening on 127.0.0.1. It
// trusts every local connection as the superuser "postgres". It is stopped
// and its files deleted by Close, or when the test process exits.
type PGServer struct {
	bin  pgBinaries
	cred *syscall.Credential // whom to run the server as; nil: as ourselves
	dir  string              // root: data directory, socket, log
	port int
	tls  *TLSFiles // non-nil: ssl = on with its server certificate

	watchdog *exec.Cmd
	watchW   *os.File // the watchdog's standard input

	mu     sync.Mutex // serialises Start, Stop and Close
	closed bool
}

// shared is the test process's own server behind Postgres.
var shared struct {
	once sync.Once
	srv  *PGServer
	err  error
}

// Postgres returns the URL of a fresh, empty database on a PostgreSQL
// server shared by the whole test process (started on first use, removed
// when the process exits). The database is dropped when t ends.
func Postgres(t testing.TB) string {
	t.Helper()
	shared.once.Do(func() { shared.srv, shared.err = StartPostgres() })
	if shared.err != nil {
		t.Fatalf("start postgres: %v", shared.err)
	}
	return shared.srv.FreshDatabase(t)
}

// NewPostgres starts a server of t's own, which t may stop and start again;
// it is removed when t ends.
func NewPostgres(t testing.TB) *PGServer {
	t.Helper()
	return newPostgres(t, nil)
}

// NewPostgresTLS is NewPostgres with ssl = on, serving the server
// certificate of files; TLSURL names a database with sslmode=verify-full.
func NewPostgresTLS(t testing.TB, files TLSFiles) *PGServer {
	t.Helper()
	return newPostgres(t, &files)
}

func newPostgres(t testing.TB, files *TLSFiles) *PGServer {
	t.Helper()
	s, err := startPostgres(files)
	if err != nil {
		t.Fatalf("start postgres: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("close postgres: %v", err)
		}
	})
	return s
}

// StartPostgres initialises and starts a new server on a free port. The
// caller should Close it; if it does not, the server goes away when the
// test process exits.
func StartPostgres() (*PGServer, error) { return startPostgres(nil) }

func startPostgres(files *TLSFiles) (*PGServer, error) {
	bin, err := findPostgres()
	if err != nil {
		return nil, err
	}
	cred, err := serverCredential()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "parley-pg-")
	if err != nil {
		return nil, fmt.Errorf("start postgres: %w", err)
	}
	s := &PGServer{bin: bin, cred: cred, dir: dir, tls: files}
	if err := s.startWatchdog(); err != nil {
		_ = os.RemoveAll(dir)
		return nil, fmt.Errorf("start postgres: %w", err)
	}
	if err := s.init(); err != nil {
		_ = s.Close()
		return nil, fmt.Errorf("start postgres: %w", err)
	}
	if err := s.firstStart(); err != nil {
		_ = s.Close()
		return nil, fmt.Errorf("start postgres: %w", err)
	}
	return s, nil
}

// Port is the server's TCP port; it stays the same across Stop and Start.
func (s *PGServer) Port() int { return s.port }

// URL is the address of the server's maintenance database "postgres".
func (s *PGServer) URL() string { return s.DatabaseURL("postgres") }

// DatabaseURL is the address of database name on the server.
func (s *PGServer) DatabaseURL(name string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", s.port, name)
}

// TLSURL is the address of database name with sslmode=verify-full,
// trusting only the CA in caFile (of a server from NewPostgresTLS).
func (s *PGServer) TLSURL(name, caFile string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=verify-full&sslrootcert=%s", s.port, name, url.QueryEscape(caFile))
}

// CreateDatabase creates an empty database with a random name and returns
// its name and URL.
func (s *PGServer) CreateDatabase(ctx context.Context) (name, url string, err error) {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	name = "test_" + hex.EncodeToString(b)
	if err := s.admin(ctx, "CREATE DATABASE "+name); err != nil {
		return "", "", fmt.Errorf("create database: %w", err)
	}
	return name, s.DatabaseURL(name), nil
}

// DropDatabase drops database name, closing any connection to it.
func (s *PGServer) DropDatabase(ctx context.Context, name string) error {
	if err := s.admin(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)"); err != nil {
		return fmt.Errorf("drop database: %w", err)
	}
	return nil
}

// FreshDatabase creates an empty database, dropped when t ends, and
// returns its URL.
func (s *PGServer) FreshDatabase(t testing.TB) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	name, url, err := s.CreateDatabase(ctx)
	if err != nil {
		t.Fatalf("postgres: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := s.DropDatabase(ctx, name); err != nil {
			t.Logf("postgres: %v", err) // the test may have left the server stopped
		}
	})
	return url
}

// admin runs one statement in the maintenance database.
func (s *PGServer) admin(ctx context.Context, sql string) error {
	conn, err := pgx.Connect(ctx, s.URL())
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	_, err = conn.Exec(ctx, sql)
	return err
}

// Start starts the stopped server again on the same port and waits until
// it accepts connections.
func (s *PGServer) Start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return errors.New("start postgres: server closed")
	}
	return s.start()
}

func (s *PGServer) start() error {
	_, err := s.run(s.bin.pgCtl, "start", "-D", s.dataDir(), "-l", s.logFile(),
		"-w", "-t", "60", "-s", "-o", "-p "+strconv.Itoa(s.port))
	if err != nil {
		return fmt.Errorf("start postgres: %w\nserver log:\n%s", err, s.logTail())
	}
	return nil
}

// Stop kills the server at once, as a crash would (committed data
// survives, and the next Start runs crash recovery); Start brings it back.
func (s *PGServer) Stop() error { return s.stop("immediate") }

// StopFast shuts the server down as an operator would (pg_ctl stop -m
// fast): open sessions are terminated (SQLSTATE 57P01), then it exits.
func (s *PGServer) StopFast() error { return s.stop("fast") }

func (s *PGServer) stop(mode string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return errors.New("stop postgres: server closed")
	}
	if _, err := s.run(s.bin.pgCtl, "stop", "-D", s.dataDir(), "-m", mode, "-w", "-s"); err != nil {
		return fmt.Errorf("stop postgres (%s): %w", mode, err)
	}
	return nil
}

// Close stops the server and deletes its files.
func (s *PGServer) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	// The watchdog stops a running server and deletes the directory once
	// its input closes.
	errClose := s.watchW.Close()
	errWait := s.watchdog.Wait()
	errRemove := os.RemoveAll(s.dir)
	if err := errors.Join(errClose, errWait, errRemove); err != nil {
		return fmt.Errorf("close postgres: %w", err)
	}
	return nil
}

func (s *PGServer) dataDir() string { return filepath.Join(s.dir, "data") }
func (s *PGServer) logFile() string { return filepath.Join(s.dir, "server.log") }

// logTail returns the end of the server log, for error messages.
func (s *PGServer) logTail() string {
	b, err := os.ReadFile(s.logFile())
	if err != nil {
		return "(no log: " + err.Error() + ")"
	}
	const keep = 4 << 10
	if len(b) > keep {
		b = b[len(b)-keep:]
	}
	return string(b)
}

// startWatchdog starts the process that removes the server when the test
// process ends.
func (s *PGServer) startWatchdog() error {
	r, w, err := os.Pipe()
	if err != nil {
		return fmt.Errorf("start watchdog: %w", err)
	}
	cmd := exec.Command("/bin/sh", "-c", pgWatchdog, "pg-watchdog", s.dataDir(), s.dir)
	cmd.Stdin = r
	// Its own process group: an interrupt at the terminal must not kill it
	// before the test process, whose exit it waits for.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	err = cmd.Start()
	_ = r.Close()
	if err != nil {
		_ = w.Close()
		return fmt.Errorf("start watchdog: %w", err)
	}
	s.watchdog, s.watchW = cmd, w
	return nil
}

// init creates the cluster and writes its settings.
func (s *PGServer) init() error {
	if s.cred != nil {
		if err := os.Chown(s.dir, int(s.cred.Uid), int(s.cred.Gid)); err != nil {
			return fmt.Errorf("initdb: %w", err)
		}
	}
	if _, err := s.run(s.bin.initdb, "-D", s.dataDir(), "-A", "trust", "-U", "postgres",
		"-E", "UTF8", "--locale=C", "--no-sync"); err != nil {
		return fmt.Errorf("initdb: %w", err)
	}
	conf, err := os.OpenFile(filepath.Join(s.dataDir(), "postgresql.conf"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		return fmt.Errorf("configure postgres: %w", err)
	}
	_, err = fmt.Fprintf(conf, pgSettings, s.dir)
	if err := errors.Join(err, conf.Close()); err != nil {
		return fmt.Errorf("configure postgres: %w", err)
	}
	if s.tls != nil {
		return s.initTLS()
	}
	return nil
}

// initTLS copies the server certificate and key into the data directory
// (PostgreSQL wants the key owned by its user and private) and turns ssl
// on. Plaintext connections stay allowed: the tests' admin connection
// uses one.
func (s *PGServer) initTLS() error {
	for _, f := range []struct{ from, to string }{
		{s.tls.ServerCert, "server.crt"},
		{s.tls.ServerKey, "server.key"},
	} {
		b, err := os.ReadFile(f.from)
		if err != nil {
			return fmt.Errorf("configure postgres TLS: %w", err)
		}
		to := filepath.Join(s.dataDir(), f.to)
		if err := os.WriteFile(to, b, 0o600); err != nil {
			return fmt.Errorf("configure postgres TLS: %w", err)
		}
		if s.cred != nil {
			if err := os.Chown(to, int(s.cred.Uid), int(s.cred.Gid)); err != nil {
				return fmt.Errorf("configure postgres TLS: %w", err)
			}
		}
	}
	conf, err := os.OpenFile(filepath.Join(s.dataDir(), "postgresql.conf"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		return fmt.Errorf("configure postgres TLS: %w", err)
	}
	_, err = conf.WriteString("ssl = on\nssl_cert_file = 'server.crt'\nssl_key_file = 'server.key'\n")
	if err := errors.Join(err, conf.Close()); err != nil {
		return fmt.Errorf("configure postgres TLS: %w", err)
	}
	return nil
}

// firstStart starts the server on a free port, trying another port if
// someone took the chosen one meanwhile.
func (s *PGServer) firstStart() error {
	var err error
	for range 5 {
		if s.port, err = FreePort(); err != nil {
			return err
		}
		err = s.start()
		if err == nil || !strings.Contains(err.Error(), "already in use") {
			return err
		}
	}
	return err
}

// run runs a PostgreSQL program as the server's user and returns its
// output.
func (s *PGServer) run(path string, args ...string) ([]byte, error) {
	cmd := exec.Command(path, args...)
	cmd.Dir = s.dir
	cmd.Env = append(os.Environ(), "LC_ALL=C", "PGTZ=UTC")
	if s.cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: s.cred}
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		return out, fmt.Errorf("%s %s: %w: %s", filepath.Base(path), args[0], err, strings.TrimSpace(string(out)))
	}
	return out, nil
}

// pgBinaries are the server programs used.
type pgBinaries struct {
	initdb, pgCtl string
}

// findPostgres looks for initdb and pg_ctl side by side: on PATH first,
// then in the newest Debian-style versioned directory.
func findPostgres() (pgBinaries, error) {
	var dirs []string
	if p, err := exec.LookPath("initdb"); err == nil {
		dirs = append(dirs, filepath.Dir(p))
	}
	versioned, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	slices.SortFunc(versioned, func(a, b string) int { return pgVersion(b) - pgVersion(a) })
	dirs = append(dirs, versioned...)
	for _, d := range dirs {
		b := pgBinaries{initdb: filepath.Join(d, "initdb"), pgCtl: filepath.Join(d, "pg_ctl")}
		if isExecutable(b.initdb) && isExecutable(b.pgCtl) {
			return b, nil
		}
	}
	return pgBinaries{}, errNoPostgres
}

// pgVersion is the major version in a path like …/postgresql/16/bin.
func pgVersion(binDir string) int {
	v, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return v
}

func isExecutable(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0
}

// serverCredential returns the account to run the server as: nil for the
// current one, or the "postgres" system account when running as root,
// which PostgreSQL refuses.
func serverCredential() (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, fmt.Errorf("running as root, which PostgreSQL refuses, and no %q system user to run it as: %w", "postgres", err)
	}
	uid, errU := strconv.ParseUint(u.Uid, 10, 32)
	gid, errG := strconv.ParseUint(u.Gid, 10, 32)
	if err := errors.Join(errU, errG); err != nil {
		return nil, fmt.Errorf("postgres system user: %w", err)
	}
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
}
