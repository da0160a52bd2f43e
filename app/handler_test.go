package app

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/andybalholm/brotli"
	"golang.org/x/net/html"
)

func compress(t *testing.T, raw []byte, w func(io.Writer) io.WriteCloser) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := w(&buf)
	if _, err := zw.Write(raw); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func brotliOf(t *testing.T, raw []byte) []byte {
	return compress(t, raw, func(w io.Writer) io.WriteCloser { return brotli.NewWriter(w) })
}

func gzipOf(t *testing.T, raw []byte) []byte {
	return compress(t, raw, func(w io.Writer) io.WriteCloser { return gzip.NewWriter(w) })
}

func staticFS(t *testing.T) fs.FS {
	t.Helper()
	sub, err := fs.Sub(static, "web")
	if err != nil {
		t.Fatal(err)
	}
	return sub
}

// fakeWasm stands in for a build: the bytes only need to be served intact.
var fakeWasm = bytes.Repeat([]byte("\x00asm fake module "), 4096)

func newTestHandler(t *testing.T, build fstest.MapFS) *Handler {
	t.Helper()
	h, err := newHandler(HandlerOptions{}, staticFS(t), build)
	if err != nil {
		t.Fatalf("newHandler: %v", err)
	}
	return h
}

func get(t *testing.T, h http.Handler, path string, header ...string) *http.Response {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, path, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Result()
}

func body(t *testing.T, resp *http.Response) []byte {
	t.Helper()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestWasmServedPrecompressed(t *testing.T) {
	other := append([]byte("stale "), fakeWasm...)
	h := newTestHandler(t, fstest.MapFS{
		"app.wasm":    {Data: fakeWasm},
		"app.wasm.br": {Data: brotliOf(t, fakeWasm)},
		"app.wasm.gz": {Data: gzipOf(t, other)}, // a stale copy: must never be served
	})
	info := h.Info()
	if info.WasmBytes != len(fakeWasm) || strings.Join(info.Encodings, ",") != "br" {
		t.Fatalf("Info = %+v, want raw size and only br", info)
	}
	cases := []struct {
		accept, encoding string
	}{
		{"gzip, deflate, br, zstd", "br"},
		{"gzip", ""}, // the stale gzip copy was dropped
		{"br;q=0, gzip", ""},
		{"", ""},
	}
	for _, c := range cases {
		resp := get(t, h, "/web/app.wasm", "Accept-Encoding", c.accept)
		b := body(t, resp)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("Accept-Encoding %q: status %d", c.accept, resp.StatusCode)
		}
		if ct := resp.Header.Get("Content-Type"); ct != "application/wasm" {
			t.Errorf("Content-Type = %q", ct)
		}
		if got := resp.Header.Get("Content-Encoding"); got != c.encoding {
			t.Errorf("Accept-Encoding %q: Content-Encoding %q, want %q", c.accept, got, c.encoding)
		}
		if resp.Header.Get("Vary") != "Accept-Encoding" {
			t.Errorf("Vary = %q", resp.Header.Get("Vary"))
		}
		if cl, _ := strconv.Atoi(resp.Header.Get("Content-Length")); cl != len(b) {
			t.Errorf("Content-Length %d for %d bytes", cl, len(b))
		}
		if c.encoding == "br" {
			dec, err := io.ReadAll(brotli.NewReader(bytes.NewReader(b)))
			if err != nil {
				t.Fatal(err)
			}
			b = dec
		}
		if !bytes.Equal(b, fakeWasm) {
			t.Errorf("Accept-Encoding %q: body differs from app.wasm", c.accept)
		}
	}
}

// TestWasmRequestsCounted: every request for app.wasm counts, whatever it
// is answered with, and nothing else does; and app.wasm's ETag is the
// quoted app version, which the page script checks before it keeps a
// first visit's copy for the service worker (boot.go, parleyKeepWasm).
func TestWasmRequestsCounted(t *testing.T) {
	h := newTestHandler(t, fstest.MapFS{"app.wasm": {Data: fakeWasm}})
	resp := get(t, h, "/web/app.wasm")
	body(t, resp)
	etag := resp.Header.Get("ETag")
	if want := `"` + h.Info().Version + `"`; etag != want {
		t.Fatalf("app.wasm ETag %q, want %q", etag, want)
	}
	if resp := get(t, h, "/web/app.wasm", "If-None-Match", etag); resp.StatusCode != http.StatusNotModified {
		t.Fatalf("revalidation: status %d", resp.StatusCode)
	}
	get(t, h, "/app.wasm")
	for _, path := range []string{"/", "/app.js", "/app-worker.js", "/web/parley.css", "/wasm_exec.js"} {
		body(t, get(t, h, path))
	}
	if n := h.WasmRequests(); n != 3 {
		t.Fatalf("WasmRequests() = %d after three requests for app.wasm", n)
	}
}

func TestGzipServedWhenValid(t *testing.T) {
	h := newTestHandler(t, fstest.MapFS{
		"app.wasm":    {Data: fakeWasm},
		"app.wasm.gz": {Data: gzipOf(t, fakeWasm)},
	})
	resp := get(t, h, "/web/app.wasm", "Accept-Encoding", "gzip")
	if resp.Header.Get("Content-Encoding") != "gzip" {
		t.Fatalf("Content-Encoding = %q, want gzip", resp.Header.Get("Content-Encoding"))
	}
}

func TestVersionIsContentHash(t *testing.T) {
	a := newTestHandler(t, fstest.MapFS{"app.wasm": {Data: fakeWasm}}).Info().Version
	b := newTestHandler(t, fstest.MapFS{"app.wasm": {Data: fakeWasm}}).Info().Version
	c := newTestHandler(t, fstest.MapFS{"app.wasm": {Data: append([]byte{1}, fakeWasm...)}}).Info().Version
	if a == "" || a != b {
		t.Fatalf("same build, different versions: %q %q", a, b)
	}
	if a == c {
		t.Fatal("a different build kept the version")
	}
	h, err := newHandler(HandlerOptions{Version: "v-test"}, staticFS(t), fstest.MapFS{})
	if err != nil || h.Info().Version != "v-test" {
		t.Fatalf("Version option ignored: %+v %v", h.Info(), err)
	}
}

func TestMissingWasm(t *testing.T) {
	h := newTestHandler(t, fstest.MapFS{})
	if h.Info().WasmBytes != 0 {
		t.Fatalf("Info = %+v without app.wasm", h.Info())
	}
	if resp := get(t, h, "/web/app.wasm"); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("app.wasm without a build: status %d", resp.StatusCode)
	}
	if resp := get(t, h, "/"); resp.StatusCode != http.StatusOK {
		t.Fatalf("page without a build: status %d", resp.StatusCode)
	}
}

// TestOfflineCacheIsComplete fetches every resource the service worker
// precaches: one failing request fails the whole offline cache.
func TestOfflineCacheIsComplete(t *testing.T) {
	h := newTestHandler(t, fstest.MapFS{"app.wasm": {Data: fakeWasm}})
	worker := string(body(t, get(t, h, "/app-worker.js")))
	m := regexp.MustCompile(`const resourcesToCache = (\[.*?\]);`).FindStringSubmatch(worker)
	if m == nil {
		t.Fatalf("no resource list in the service worker:\n%s", worker)
	}
	var resources []string
	if err := json.Unmarshal([]byte(m[1]), &resources); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"/", "/web/app.wasm", "/web/parley.css", "/web/icon.svg", "/web/icon-192.png", "/web/icon-512.png", "/web/icon-maskable-512.png"} {
		if !contains(resources, want) {
			t.Errorf("service worker does not precache %s: %v", want, resources)
		}
	}
	for _, r := range resources {
		if !strings.HasPrefix(r, "/") || strings.HasPrefix(r, "//") {
			t.Errorf("precached resource %q is not local", r)
			continue
		}
		if resp := get(t, h, r); resp.StatusCode != http.StatusOK {
			t.Errorf("precached %s: status %d", r, resp.StatusCode)
		}
	}
	if !strings.Contains(worker, `request.mode === "navigate"`) || !strings.Contains(worker, `startsWith("/api/")`) ||
		!strings.Contains(worker, "event.waitUntil(installWorker()") {
		t.Error("service worker lacks Parley's fetch handling")
	}
}

func TestManifestIconsAreLocal(t *testing.T) {
	h := newTestHandler(t, fstest.MapFS{"app.wasm": {Data: fakeWasm}})
	var manifest struct {
		Name       string
		ThemeColor string `json:"theme_color"`
		Icons      []struct{ Src, Type string }
	}
	resp := get(t, h, "/manifest.webmanifest")
	if err := json.Unmarshal(body(t, resp), &manifest); err != nil {
		t.Fatal(err)
	}
	if manifest.Name != "Parley" || manifest.ThemeColor != themeColor {
		t.Errorf("manifest name %q theme %q", manifest.Name, manifest.ThemeColor)
	}
	if len(manifest.Icons) < 3 {
		t.Fatalf("manifest icons: %+v", manifest.Icons)
	}
	for _, icon := range manifest.Icons {
		if !strings.HasPrefix(icon.Src, "/web/") {
			t.Errorf("icon %q is not a local /web/ file", icon.Src)
			continue
		}
		resp := get(t, h, icon.Src)
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != icon.Type {
			t.Errorf("icon %s: status %d type %q, manifest says %q", icon.Src, resp.StatusCode, resp.Header.Get("Content-Type"), icon.Type)
		}
	}
}

func TestPages(t *testing.T) {
	h := newTestHandler(t, fstest.MapFS{"app.wasm": {Data: fakeWasm}})
	for path, want := range map[string]int{
		"/":                     http.StatusOK,
		"/room/general":         http.StatusOK,
		"/room/a-b_c9":          http.StatusOK,
		"/room/Bad":             http.StatusNotFound,
		"/room/":                http.StatusNotFound,
		"/nowhere":              http.StatusNotFound,
		"/web/nothing.css":      http.StatusNotFound,
		"/web/.gitkeep":         http.StatusNotFound,
		"/web/icon.svg":         http.StatusOK,
		"/web/../handler.go":    http.StatusNotFound,
		"/manifest.webmanifest": http.StatusOK,
	} {
		resp := get(t, h, path)
		if resp.StatusCode != want {
			t.Errorf("GET %s: status %d, want %d", path, resp.StatusCode, want)
		}
	}
	// go-app writes attributes in map order: parse the page, never
	// compare its markup as a string.
	page := parsePage(t, body(t, get(t, h, "/room/general")))
	if len(page.find("link", "rel", "icon", "href", "/web/icon.svg")) != 1 {
		t.Error("page lacks <link rel=icon href=/web/icon.svg>")
	}
	if len(page.find("link", "rel", "stylesheet", "href", "/web/parley.css")) != 1 {
		t.Error("page lacks the /web/parley.css style sheet")
	}
	if titles := page.find("title"); len(titles) != 1 || titles[0].text() != "#general · Parley" {
		t.Errorf("page title: %d <title> elements, first %q", len(titles), page.text())
	}
	if !strings.Contains(page.text(), "Loading Parley") {
		t.Error("page lacks the loading text")
	}
	for _, n := range page.find("") {
		for _, a := range n.Attr {
			if strings.Contains(a.Val, "githubusercontent") {
				t.Errorf("<%s %s=%q> points at an outside host", n.Data, a.Key, a.Val)
			}
		}
	}
}

// node is a parsed HTML element.
type node struct{ *html.Node }

func parsePage(t *testing.T, b []byte) node {
	t.Helper()
	doc, err := html.Parse(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("parse page: %v", err)
	}
	return node{doc}
}

// find returns the elements below n named tag ("" for any) that carry every
// key, value pair of attrs, whatever the order of their attributes.
func (n node) find(tag string, attrs ...string) []node {
	var out []node
	for d := range n.Descendants() {
		if d.Type != html.ElementNode || (tag != "" && d.Data != tag) {
			continue
		}
		ok := true
		for i := 0; i+1 < len(attrs) && ok; i += 2 {
			ok = slices.ContainsFunc(d.Attr, func(a html.Attribute) bool { return a.Key == attrs[i] && a.Val == attrs[i+1] })
		}
		if ok {
			out = append(out, node{d})
		}
	}
	return out
}

// text is the text content of n.
func (n node) text() string {
	var b strings.Builder
	for d := range n.Descendants() {
		if d.Type == html.TextNode {
			b.WriteString(d.Data)
		}
	}
	return b.String()
}

func TestMethodNotAllowed(t *testing.T) {
	h := newTestHandler(t, fstest.MapFS{"app.wasm": {Data: fakeWasm}})
	req := httptest.NewRequest(http.MethodPost, "/web/app.wasm", nil)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusMethodNotAllowed {
		t.Fatalf("POST /web/app.wasm: %d", rec.Code)
	}
}

func TestAcceptsEncoding(t *testing.T) {
	cases := []struct {
		header, coding string
		want           bool
	}{
		{"gzip, deflate, br", "br", true},
		{"gzip, deflate", "br", false},
		{"BR", "br", true},
		{"br;q=0", "br", false},
		{"br; q=0.5", "br", true},
		{"br;q=0.0, gzip", "gzip", true},
		{"", "gzip", false},
		{"brotli", "br", false},
	}
	for _, c := range cases {
		if got := acceptsEncoding(c.header, c.coding); got != c.want {
			t.Errorf("acceptsEncoding(%q, %q) = %v", c.header, c.coding, got)
		}
	}
}

func TestEmbeddedBuildLoads(t *testing.T) {
	// Whatever build/web holds (a placeholder or a real build) must load.
	h, err := NewHandler(HandlerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if h.Info().Version == "" {
		t.Fatal("no version")
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// BenchmarkNewHandler measures start-up with the embedded build: hashing
// the assets and checking the precompressed copies.
func BenchmarkNewHandler(b *testing.B) {
	for range b.N {
		if _, err := NewHandler(HandlerOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}

// TestAssetsNotCopiedIntoHeap: loading the assets keeps none of app.wasm
// or its compressed copies in the heap (they are served from their file
// system), yet serves them byte for byte.
func TestAssetsNotCopiedIntoHeap(t *testing.T) {
	raw := make([]byte, 2<<20)
	for i := range raw {
		raw[i] = byte(i * 7 % 251)
	}
	build := fstest.MapFS{
		"app.wasm":    {Data: raw},
		"app.wasm.br": {Data: brotliOf(t, raw)},
		"app.wasm.gz": {Data: gzipOf(t, raw)},
	}
	heap := func() uint64 {
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return m.HeapAlloc
	}
	before := heap()
	a, err := loadAssets(fstest.MapFS{"app.css": {Data: []byte("body{}")}}, build)
	if err != nil {
		t.Fatal(err)
	}
	grew := int64(heap()) - int64(before)
	if a.files["/web/app.wasm"].br == nil || a.files["/web/app.wasm"].gz == nil {
		t.Fatal("a precompressed copy was dropped")
	}
	if grew > 512<<10 {
		t.Fatalf("loading the assets kept %d bytes in the heap; want well under app.wasm's %d", grew, len(raw))
	}
	for _, enc := range []string{"", "br", "gzip"} {
		req := httptest.NewRequest(http.MethodGet, "/web/app.wasm", nil)
		req.Header.Set("Accept-Encoding", enc)
		rec := httptest.NewRecorder()
		a.ServeHTTP(rec, req)
		want := map[string][]byte{"": raw, "br": build["app.wasm.br"].Data, "gzip": build["app.wasm.gz"].Data}[enc]
		if !bytes.Equal(rec.Body.Bytes(), want) || rec.Header().Get("Content-Length") != strconv.Itoa(len(want)) {
			t.Fatalf("Accept-Encoding %q: served %d bytes (Content-Length %s), want %d", enc, rec.Body.Len(), rec.Header().Get("Content-Length"), len(want))
		}
	}
	runtime.KeepAlive(a)
}
