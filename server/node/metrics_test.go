package node_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/parleychat/parley/server/node"
	"github.com/parleychat/parley/shared/testenv"
)

// TestMetricsLoopbackOnly: without --metrics-addr, /metrics answers a
// client on this machine and nobody else: not another address, not a
// request a proxy forwarded from loopback.
func TestMetricsLoopbackOnly(t *testing.T) {
	t.Parallel()
	n := startNode(t)
	scrape := func(remote string, header ...string) (int, string) {
		req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
		req.RemoteAddr = remote
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		rec := httptest.NewRecorder()
		n.Node.Handler().ServeHTTP(rec, req)
		return rec.Code, rec.Body.String()
	}
	for _, remote := range []string{"127.0.0.1:40000", "[::1]:40000"} {
		if code, body := scrape(remote); code != http.StatusOK || !strings.Contains(body, "parley_connections") {
			t.Fatalf("from %s: %d %.100q, want the metrics", remote, code, body)
		}
	}
	for _, c := range []struct {
		remote string
		header []string
	}{
		{remote: "192.0.2.7:40000"},
		{remote: "[2001:db8::7]:40000"},
		{remote: "127.0.0.1:40000", header: []string{"X-Forwarded-For", "192.0.2.7"}},
		{remote: "127.0.0.1:40000", header: []string{"Forwarded", "for=192.0.2.7"}},
		{remote: "127.0.0.1:40000", header: []string{"X-Real-IP", "192.0.2.7"}},
	} {
		if code, body := scrape(c.remote, c.header...); code != http.StatusNotFound || strings.Contains(body, "parley_") {
			t.Errorf("from %s %v: %d %.100q, want 404 without metrics", c.remote, c.header, code, body)
		}
	}
	// Over a real socket too: a forwarded request from loopback.
	req, _ := http.NewRequest(http.MethodGet, n.URL+"/metrics", nil)
	req.Header.Set("X-Forwarded-For", "203.0.113.9")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Fatalf("forwarded scrape over the socket: %d, want 404", resp.StatusCode)
	}
}

// TestMetricsOnItsOwnAddress: with --metrics-addr, /metrics is served
// there and not on the main address, even to loopback.
func TestMetricsOnItsOwnAddress(t *testing.T) {
	t.Parallel()
	port, err := testenv.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	n := startNode(t, func(c *node.Config) { c.MetricsAddr = addr })
	if body, code := get(t, "http://"+addr+"/metrics"); code != http.StatusOK || !strings.Contains(body, "parley_ready 1") {
		t.Fatalf("metrics address: %d %.100q", code, body)
	}
	if body, code := get(t, n.URL+"/metrics"); code != http.StatusNotFound || strings.Contains(body, "parley_") {
		t.Fatalf("main address: %d %.100q, want 404", code, body)
	}
}
