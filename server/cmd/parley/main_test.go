package main

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/parleychat/parley/shared/testenv"
)

// TestMain fails the run if the tests leave a goroutine behind.
func TestMain(m *testing.M) { testenv.Main(m) }

func TestCommands(t *testing.T) {
	ok := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.Write([]byte(`{"status":"ready"}`)) }))
	defer ok.Close()
	draining := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, `{"status":"draining"}`, http.StatusServiceUnavailable)
	}))
	defer draining.Close()
	cases := []struct {
		args   []string
		code   int
		output string
	}{
		{[]string{"help"}, 0, "parley chat"},
		{[]string{"--help"}, 0, "--redis"},
		{[]string{"serve", "--help"}, 0, "PARLEY_POSTGRES_URL"},
		{[]string{"launch"}, 2, "unknown command"},
		{[]string{"--no-such-flag"}, 2, "flag provided but not defined"},
		{[]string{"--redis", "redis://x"}, 2, "needs --jwt-keys"},
		{[]string{"--redis", "redis://x", "--jwt-keys", "k1:AAAA"}, 2, "needs --cluster-key"},
		{[]string{"--redis", "redis://x", "--jwt-keys", "k1:AAAA", "--cluster-key", "c2hvcnQ="}, 2, "want at least 32"},
		{[]string{"health", "--url", ok.URL}, 0, "ready"},
		{[]string{"health", "--url", draining.URL}, 1, "503"},
		{[]string{"chat", "--help"}, 0, "--url"},
		{[]string{"bench", "--help"}, 0, "-shape string"},
	}
	for _, c := range cases {
		var out bytes.Buffer
		code := run(c.args, strings.NewReader(""), &out, &out)
		if code != c.code || !strings.Contains(out.String(), c.output) {
			t.Errorf("parley %v: exit %d, output:\n%s\nwant exit %d and %q", c.args, code, out.String(), c.code, c.output)
		}
	}
}
