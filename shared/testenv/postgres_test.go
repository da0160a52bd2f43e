//go:build !js

package testenv

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

func connect(t *testing.T, url string) *pgx.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatalf("connect %s: %v", url, err)
	}
	t.Cleanup(func() { _ = conn.Close(context.Background()) })
	return conn
}

func TestPostgresFreshDatabases(t *testing.T) {
	ctx := context.Background()
	a, b := Postgres(t), Postgres(t)
	if a == b {
		t.Fatalf("two calls returned the same database %s", a)
	}
	ca, cb := connect(t, a), connect(t, b)
	if _, err := ca.Exec(ctx, `CREATE TABLE t (x int)`); err != nil {
		t.Fatalf("create table: %v", err)
	}
	var n int
	if err := cb.QueryRow(ctx, `SELECT count(*) FROM pg_tables WHERE tablename = 't'`).Scan(&n); err != nil {
		t.Fatalf("query: %v", err)
	}
	if n != 0 {
		t.Fatalf("second database sees the first one's table")
	}
	var settings struct{ fsync, maxConns string }
	if err := ca.QueryRow(ctx, `SELECT current_setting('fsync'), current_setting('max_connections')`).
		Scan(&settings.fsync, &settings.maxConns); err != nil {
		t.Fatalf("query settings: %v", err)
	}
	if settings.fsync != "off" || settings.maxConns != "200" {
		t.Fatalf("settings = %+v, want fsync off and 200 connections", settings)
	}
}

func TestPGServerStopStart(t *testing.T) {
	ctx := context.Background()
	srv := NewPostgres(t)
	url := srv.FreshDatabase(t)
	conn := connect(t, url)
	if _, err := conn.Exec(ctx, `CREATE TABLE t (x int); INSERT INTO t VALUES (42)`); err != nil {
		t.Fatalf("write: %v", err)
	}
	if err := srv.Stop(); err != nil {
		t.Fatal(err)
	}
	if _, err := pgx.Connect(ctx, url); err == nil {
		t.Fatal("connected to a stopped server")
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	var x int
	if err := connect(t, url).QueryRow(ctx, `SELECT x FROM t`).Scan(&x); err != nil || x != 42 {
		t.Fatalf("after restart: x = %d, %v; want 42 (committed data survives Stop)", x, err)
	}
}

func TestPGServerCloseRemovesEverything(t *testing.T) {
	srv, err := StartPostgres()
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	checkGone(t, srv.dir, srv.Port())
	if err := srv.Start(); err == nil {
		t.Fatal("Start after Close succeeded")
	}
}

// TestPGServerRemovedWhenProcessExits starts a server in a child process
// that exits without closing it: the watchdog must remove it.
func TestPGServerRemovedWhenProcessExits(t *testing.T) {
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperStartAndExit$")
	cmd.Env = append(os.Environ(), "TESTENV_HELPER=1")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("helper: %v\n%s", err, out)
	}
	var dir string
	var port int
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		if n, _ := fmt.Sscanf(sc.Text(), "SERVER %s %d", &dir, &port); n == 2 {
			break
		}
	}
	if dir == "" {
		t.Fatalf("helper printed no server:\n%s", out)
	}
	checkGone(t, dir, port)
}

func TestHelperStartAndExit(t *testing.T) {
	if os.Getenv("TESTENV_HELPER") != "1" {
		return
	}
	srv, err := StartPostgres()
	if err != nil {
		fmt.Println("ERROR", err)
		os.Exit(1)
	}
	fmt.Println("SERVER", srv.dir, srv.Port())
	os.Exit(0)
}

// checkGone waits until dir no longer exists and nothing listens on port.
func checkGone(t *testing.T, dir string, port int) {
	t.Helper()
	Eventually(t, 60*time.Second, "the server gone", func() error {
		_, statErr := os.Stat(dir)
		c, dialErr := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(port), time.Second)
		if dialErr == nil {
			_ = c.Close()
		}
		if errors.Is(statErr, os.ErrNotExist) && dialErr != nil {
			return nil
		}
		return fmt.Errorf("stat %s: %v; dial port %d: %v", dir, statErr, port, dialErr)
	})
}

func TestFreePort(t *testing.T) {
	port, err := FreePort()
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port))
	if err != nil {
		t.Fatalf("listen on free port %d: %v", port, err)
	}
	_ = l.Close()
}
