package api

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/time/rate"

	"github.com/parleychat/parley/server/auth"
	"github.com/parleychat/parley/server/store"
	"github.com/parleychat/parley/shared/protocol"
	"github.com/parleychat/parley/shared/testenv"
)

// testParams are cheap argon2id costs for tests.
var testParams = auth.Params{Memory: 1 << 10, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

// clock is a settable time source shared by the auth service and the
// rate limiter.
type clock = testenv.Clock

// syncBuffer collects log output from handler goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

type env struct {
	t     testing.TB
	url   string
	store *store.SQLite
	auth  *auth.Service
	clock *clock
	log   *syncBuffer
}

// newEnv starts the API on a real socket over a real SQLite store. edit
// may change the config before the handler is built.
func newEnv(t testing.TB, edit func(*Config)) *env {
	t.Helper()
	return newAuthEnv(t, nil, edit)
}

// newAuthEnv is newEnv whose editAuth may change the auth service's
// config too; the clock is e.clock.
func newAuthEnv(t testing.TB, editAuth func(*auth.Config, *clock), edit func(*Config)) *env {
	t.Helper()
	st, err := store.OpenSQLite(context.Background(), filepath.Join(t.TempDir(), "parley.db"))
	if err != nil {
		t.Fatalf("open sqlite store: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	key, err := auth.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	keys, err := auth.NewKeyring(key)
	if err != nil {
		t.Fatal(err)
	}
	clk := testenv.NewClock(time.Now())
	acfg := auth.Config{Store: st, Keys: keys, Params: testParams, Now: clk.Now}
	if editAuth != nil {
		editAuth(&acfg, clk)
	}
	svc, err := auth.New(acfg)
	if err != nil {
		t.Fatal(err)
	}
	logs := &syncBuffer{}
	cfg := Config{
		Auth: svc, Store: st, Now: clk.Now,
		Logger:    slog.New(slog.NewTextHandler(logs, nil)),
		RateLimit: rate.Inf,
	}
	if edit != nil {
		edit(&cfg)
	}
	h, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return &env{t: t, url: srv.URL, store: st, auth: svc, clock: clk, log: logs}
}

type response struct {
	status int
	header http.Header
	body   []byte
}

// apiError decodes an APIError body, failing the test if it is not one.
func (r response) apiError(t *testing.T) protocol.APIErrorBody {
	t.Helper()
	var e protocol.APIError
	if err := json.Unmarshal(r.body, &e); err != nil || e.Error.Code == "" {
		t.Fatalf("body %q is not an APIError: %v", r.body, err)
	}
	return e.Error
}

// do sends a request. A body is sent as application/json unless
// headers set another Content-Type ("" to send none).
func (e *env) do(method, path, body string, headers ...string) response {
	e.t.Helper()
	req, err := http.NewRequest(method, e.url+path, strings.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		if headers[i+1] == "" {
			req.Header.Del(headers[i])
		} else {
			req.Header.Set(headers[i], headers[i+1])
		}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	if got := resp.Header.Get("Cache-Control"); got != "no-store" {
		e.t.Errorf("%s %s: Cache-Control = %q", method, path, got)
	}
	if resp.StatusCode != http.StatusNoContent && resp.Header.Get("Content-Type") != "application/json" {
		e.t.Errorf("%s %s: Content-Type = %q", method, path, resp.Header.Get("Content-Type"))
	}
	return response{resp.StatusCode, resp.Header, data}
}

func (e *env) signup(user, pw string) protocol.Session {
	e.t.Helper()
	r := e.do("POST", protocol.PathSignup, creds(user, pw))
	if r.status != http.StatusCreated {
		e.t.Fatalf("signup %s: %d %s", user, r.status, r.body)
	}
	var s protocol.Session
	if err := json.Unmarshal(r.body, &s); err != nil {
		e.t.Fatal(err)
	}
	return s
}

func creds(user, pw string) string {
	b, _ := json.Marshal(protocol.Credentials{Username: user, Password: pw})
	return string(b)
}

func refreshBody(token string) string {
	b, _ := json.Marshal(protocol.RefreshRequest{RefreshToken: token})
	return string(b)
}

func bearer(s protocol.Session) []string {
	return []string{"Authorization", "Bearer " + s.AccessToken}
}

func (e *env) userExists(name string) bool {
	e.t.Helper()
	_, err := e.store.UserByName(context.Background(), name)
	return err == nil
}
