package node_test

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/parleychat/parley/server/node"
	"github.com/parleychat/parley/shared/testenv"
)

// TestPprofOnlyOnItsOwnAddress: --pprof-addr serves profiles on its own
// listener; the public address never does.
func TestPprofOnlyOnItsOwnAddress(t *testing.T) {
	t.Parallel()
	port, err := testenv.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	n := startNode(t, func(c *node.Config) { c.PprofAddr = addr })
	body, code := get(t, "http://"+addr+"/debug/pprof/cmdline")
	if code != http.StatusOK || body == "" {
		t.Fatalf("pprof cmdline: %d %q", code, body)
	}
	if body, _ := get(t, "http://"+addr+"/debug/pprof/"); !strings.Contains(body, "goroutine") {
		t.Fatalf("pprof index does not list profiles: %.200q", body)
	}
	if body, _ := get(t, n.URL+"/debug/pprof/"); strings.Contains(body, "goroutine?debug=1") {
		t.Fatalf("the public address serves pprof")
	}
}

func TestPprofOffByDefault(t *testing.T) {
	t.Parallel()
	cfg, err := node.ParseFlags("test", nil, func(string) string { return "" }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.PprofAddr != "" {
		t.Fatalf("pprof on by default at %q", cfg.PprofAddr)
	}
}

func get(t *testing.T, url string) (string, int) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read %s: %v", url, err)
	}
	return string(b), resp.StatusCode
}
