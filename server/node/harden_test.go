package node_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/parleychat/parley/server/node"
	"github.com/parleychat/parley/shared/client"
	"github.com/parleychat/parley/shared/protocol"
	"github.com/parleychat/parley/shared/testenv"
)

func TestSecurityHeaders(t *testing.T) {
	t.Parallel()
	n := startNode(t)
	for _, path := range []string{"/", "/room/general", protocol.PathRooms, "/healthz"} {
		resp, err := http.Get(n.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		h := resp.Header
		csp := h.Get("Content-Security-Policy")
		for _, want := range []string{"default-src 'self'", "script-src 'self' 'wasm-unsafe-eval'", "style-src 'self'", "frame-ancestors 'none'", "object-src 'none'"} {
			if !strings.Contains(csp, want) {
				t.Errorf("%s: CSP %q lacks %q", path, csp, want)
			}
		}
		if strings.Contains(csp, "unsafe-inline") {
			t.Errorf("%s: CSP allows inline code: %q", path, csp)
		}
		for k, want := range map[string]string{"X-Frame-Options": "DENY", "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer"} {
			if got := h.Get(k); got != want {
				t.Errorf("%s: %s = %q, want %q", path, k, got, want)
			}
		}
	}
}

// TestSlowBodyCutOffWebSocketSurvives: a client that trickles a request
// body is cut off after --api-read-timeout, while a WebSocket that has
// been open for longer than that keeps working.
func TestSlowBodyCutOffWebSocketSurvives(t *testing.T) {
	t.Parallel()
	n := startNode(t, func(c *node.Config) { c.APIReadTimeout = 300 * time.Millisecond })
	ws := liveSocket(t, n.URL, signup(t, n.URL, "slowpoke"))
	conn, err := net.Dial("tcp", strings.TrimPrefix(n.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	start := time.Now()
	if _, err := io.WriteString(conn, "POST "+protocol.PathLogin+" HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"); err != nil {
		t.Fatal(err)
	}
	// The node answers (or just closes) and hangs up once the deadline
	// passes; the generous read deadline only bounds a failing test.
	if err := conn.SetReadDeadline(time.Now().Add(waitTimeout)); err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadAll(conn); err != nil {
		t.Fatalf("the slow client was not cut off: %v", err)
	}
	if took := time.Since(start); took < 300*time.Millisecond {
		t.Fatalf("cut off after %v, before the 300ms deadline", took)
	}
	ws.send(protocol.Frame{Type: protocol.TypePing, ID: "after"})
	if f := ws.next(); f.Type != protocol.TypePong {
		t.Fatalf("the WebSocket after the API deadline: %+v, want pong", f)
	}
}

func TestHeaderTooLarge(t *testing.T) {
	t.Parallel()
	n := startNode(t, func(c *node.Config) { c.MaxHeaderBytes = 8 << 10 })
	req, err := http.NewRequest("GET", n.URL+"/healthz", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Big", strings.Repeat("a", 64<<10))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
		t.Fatalf("64 KiB header: %d, want 431", resp.StatusCode)
	}
}

// TestDataFilesPrivate: an existing data folder and database readable by
// others are made private when the node starts, WAL files included.
func TestDataFilesPrivate(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "data")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "parley.db"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	n := startNode(t, func(c *node.Config) { c.DataDir = dir })
	signup(t, n.URL, "private") // writes, so the WAL exists
	if fi, err := os.Stat(dir); err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("data dir mode %v, %v; want 0700", fi.Mode().Perm(), err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	seen := 0
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), "parley.db") {
			continue
		}
		seen++
		fi, err := e.Info()
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s has mode %#o, want 0600", e.Name(), fi.Mode().Perm())
		}
	}
	if seen < 2 {
		t.Errorf("only %d database files; want the database and its WAL", seen)
	}
}

// TestStoreTimeoutAnswersUnavailable: a store call stuck behind a lock is
// answered 503 unavailable after --store-timeout, and works once the lock
// goes; /readyz says why without the store's error text.
func TestStoreTimeoutAnswersUnavailable(t *testing.T) {
	t.Parallel()
	pg := testenv.NewPostgres(t)
	url := pg.FreshDatabase(t)
	n := startNode(t, func(c *node.Config) { c.PostgresURL = url; c.StoreTimeout = 500 * time.Millisecond })
	s := signup(t, n.URL, "stuck")
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	tx, err := conn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, `LOCK TABLE rooms IN ACCESS EXCLUSIVE MODE`); err != nil {
		t.Fatal(err)
	}
	api := client.NewAPI(n.URL, nil)
	_, err = api.Rooms(ctx, s.AccessToken)
	var ae *client.APIError
	if !errors.As(err, &ae) || ae.Status != http.StatusServiceUnavailable || ae.Code != protocol.ErrUnavailable {
		t.Fatalf("rooms behind a lock: %v, want 503 unavailable", err)
	}
	if err := tx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := api.Rooms(ctx, s.AccessToken); err != nil {
		t.Fatalf("rooms after the lock: %v", err)
	}

	// A stopped database: /readyz is 503 and says nothing of the error.
	if err := pg.Stop(); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, waitTimeout, "readyz 503", n.status("/readyz", http.StatusServiceUnavailable))
	resp, err := http.Get(n.URL + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]any
	if err := json.NewDecoder(bufio.NewReader(resp.Body)).Decode(&body); err != nil {
		t.Fatal(err)
	}
	if _, ok := body["error"]; ok || body["status"] != "store unreachable" {
		t.Fatalf("readyz body %v: want a generic status and no error text", body)
	}
	// API calls while it is down are "unavailable, retry" (503 with
	// Retry-After), not internal errors: a client keeps its session.
	for name, call := range map[string]func() error{
		"refresh": func() error {
			_, err := api.Refresh(ctx, protocol.RefreshRequest{RefreshToken: s.RefreshToken})
			return err
		},
		"rooms": func() error { _, err := api.Rooms(ctx, s.AccessToken); return err },
	} {
		err := call()
		if !errors.As(err, &ae) || ae.Status != http.StatusServiceUnavailable || ae.Code != protocol.ErrUnavailable {
			t.Fatalf("%s with the database stopped: %v, want 503 unavailable", name, err)
		}
	}
}
