package app

import (
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"os"
	"strings"
	"testing"
	"testing/fstest"
)

// TestPageStyleInline: the page links no style sheet (each held its first
// paint until fetched) but holds both, go-app's first, in one style
// element, and its CSP allows that element by its hash and nothing else
// inline, on a 304 too (a browser's cache takes a 304's headers).
func TestPageStyleInline(t *testing.T) {
	h := newTestHandler(t, fstest.MapFS{"app.wasm": {Data: fakeWasm}})
	const policy = "default-src 'self'; style-src 'self'; img-src 'self'"
	node := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", policy)
		h.ServeHTTP(w, r)
	})
	resp := get(t, node, "/room/general")
	page := parsePage(t, body(t, resp))
	if links := page.find("link", "rel", "stylesheet"); len(links) != 0 {
		t.Errorf("page links %d style sheets, want none", len(links))
	}
	styles := page.find("style")
	if len(styles) != 1 {
		t.Fatalf("page has %d <style> elements, want 1", len(styles))
	}
	text := styles[0].text()
	own, err := os.ReadFile("web/parley.css")
	if err != nil {
		t.Fatal(err)
	}
	goapp := string(body(t, get(t, h, "/app.css")))
	if !strings.HasPrefix(text, goapp) || !strings.HasSuffix(text, string(own)) {
		t.Error("the page's style is not go-app's sheet then parley.css")
	}
	sum := sha256.Sum256([]byte(text))
	want := "style-src 'self' 'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'; "
	if got := resp.Header.Get("Content-Security-Policy"); !strings.Contains(got, want) || strings.Contains(got, "unsafe-inline") {
		t.Errorf("page CSP %q, want it to contain %q", got, want)
	}
	again := get(t, node, "/room/general", "If-None-Match", resp.Header.Get("ETag"))
	if again.StatusCode != http.StatusNotModified {
		t.Fatalf("revalidation: status %d", again.StatusCode)
	}
	if got := again.Header.Get("Content-Security-Policy"); !strings.Contains(got, want) {
		t.Errorf("304 CSP %q, want it to contain %q", got, want)
	}
	if got := get(t, node, "/web/icon.svg").Header.Get("Content-Security-Policy"); got != policy {
		t.Errorf("icon CSP %q, want the node's %q", got, policy)
	}
}

func TestWithStyleSource(t *testing.T) {
	s := pageStyle{source: "'sha256-x'"}
	for in, want := range map[string]string{
		"default-src 'self'; style-src 'self'; img-src 'self'": "default-src 'self'; style-src 'self' 'sha256-x'; img-src 'self'",
		"default-src 'none'": "default-src 'none'",
	} {
		if got := s.withStyleSource(in); got != want {
			t.Errorf("withStyleSource(%q) = %q, want %q", in, got, want)
		}
	}
}
