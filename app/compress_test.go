//go:build !js

package app

import (
	"bytes"
	"compress/gzip"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/andybalholm/brotli"
	"golang.org/x/net/html"
)

// textPaths are the text responses a first visit loads besides app.wasm.
var textPaths = []string{"/", "/app.js", "/wasm_exec.js", "/app-worker.js", "/manifest.webmanifest", "/web/parley.css"}

func decode(t *testing.T, coding string, b []byte) []byte {
	t.Helper()
	var r io.Reader
	switch coding {
	case "":
		return b
	case "br":
		r = brotli.NewReader(bytes.NewReader(b))
	case "gzip":
		zr, err := gzip.NewReader(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		r = zr
	default:
		t.Fatalf("unknown coding %q", coding)
	}
	dec, err := io.ReadAll(r)
	if err != nil {
		t.Fatalf("decode %s: %v", coding, err)
	}
	return dec
}

// TestTextCompressed requests every text asset with and without
// Accept-Encoding: the decoded body is the same, the coding is the one
// preferred, the response varies by Accept-Encoding and each coding has its
// own ETag, which a conditional request answers with 304.
func TestTextCompressed(t *testing.T) {
	h := newTestHandler(t, fstest.MapFS{"app.wasm": {Data: fakeWasm}})
	cases := []struct{ accept, coding string }{
		{"gzip, deflate, br, zstd", "br"},
		{"gzip", "gzip"},
		{"br;q=0, gzip;q=0.5", "gzip"},
		{"", ""},
		{"identity", ""},
	}
	for _, path := range textPaths {
		plain := get(t, h, path)
		want := body(t, plain)
		if plain.StatusCode != http.StatusOK || len(want) < minCompressed {
			t.Fatalf("%s: status %d, %d bytes", path, plain.StatusCode, len(want))
		}
		etags := map[string]string{}
		for _, c := range cases {
			resp := get(t, h, path, "Accept-Encoding", c.accept)
			b := body(t, resp)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("%s, Accept-Encoding %q: status %d", path, c.accept, resp.StatusCode)
			}
			if got := resp.Header.Get("Content-Encoding"); got != c.coding {
				t.Errorf("%s, Accept-Encoding %q: Content-Encoding %q, want %q", path, c.accept, got, c.coding)
			}
			if !strings.Contains(resp.Header.Get("Vary"), "Accept-Encoding") {
				t.Errorf("%s: Vary = %q", path, resp.Header.Get("Vary"))
			}
			if ct := resp.Header.Get("Content-Type"); ct != plain.Header.Get("Content-Type") {
				t.Errorf("%s: Content-Type %q, identity %q", path, ct, plain.Header.Get("Content-Type"))
			}
			if cl, _ := strconv.Atoi(resp.Header.Get("Content-Length")); cl != len(b) {
				t.Errorf("%s: Content-Length %d for %d bytes", path, cl, len(b))
			}
			if c.coding != "" && len(b) >= len(want) {
				t.Errorf("%s: %s body %d bytes, identity %d", path, c.coding, len(b), len(want))
			}
			if dec := decode(t, c.coding, b); !sameBody(t, plain.Header.Get("Content-Type"), dec, want) {
				t.Errorf("%s, Accept-Encoding %q: decoded body differs from identity", path, c.accept)
			}
			etag := resp.Header.Get("ETag")
			if prev, ok := etags[c.coding]; ok && prev != etag {
				t.Errorf("%s: %q has ETags %s and %s", path, c.coding, prev, etag)
			}
			etags[c.coding] = etag
		}
		if etags["br"] == etags[""] || etags["gzip"] == etags[""] || etags["br"] == etags["gzip"] || etags[""] == "" {
			t.Errorf("%s: ETags by coding %v, want three different ones", path, etags)
		}
		for coding, etag := range etags {
			accept := coding
			if accept == "" {
				accept = "identity"
			}
			resp := get(t, h, path, "Accept-Encoding", accept, "If-None-Match", etag)
			if b := body(t, resp); resp.StatusCode != http.StatusNotModified || len(b) != 0 {
				t.Errorf("%s, %s, If-None-Match %s: status %d with %d bytes, want 304", path, accept, etag, resp.StatusCode, len(b))
			}
		}
	}
}

// TestTextCompressedHead answers HEAD with GET's headers and no body.
func TestTextCompressedHead(t *testing.T) {
	h := newTestHandler(t, fstest.MapFS{"app.wasm": {Data: fakeWasm}})
	for _, path := range textPaths {
		full := get(t, h, path, "Accept-Encoding", "br")
		b := body(t, full)
		req := httptest.NewRequest(http.MethodHead, path, nil)
		req.Header.Set("Accept-Encoding", "br")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		resp := rec.Result()
		if resp.StatusCode != http.StatusOK || rec.Body.Len() != 0 {
			t.Errorf("HEAD %s: status %d, %d body bytes", path, resp.StatusCode, rec.Body.Len())
		}
		for _, k := range []string{"Content-Encoding", "Content-Type", "ETag"} {
			if resp.Header.Get(k) != full.Header.Get(k) {
				t.Errorf("HEAD %s: %s %q, GET %q", path, k, resp.Header.Get(k), full.Header.Get(k))
			}
		}
		// go-app writes a page's attributes in map order, so only
		// fixed files have one length.
		if cl, _ := strconv.Atoi(resp.Header.Get("Content-Length")); cl != len(b) && path != "/" || cl == 0 {
			t.Errorf("HEAD %s: Content-Length %d, GET body %d", path, cl, len(b))
		}
	}
}

// TestSmallAndBinaryNotCompressed leaves short bodies and images as they
// are.
func TestSmallAndBinaryNotCompressed(t *testing.T) {
	h := newTestHandler(t, fstest.MapFS{"app.wasm": {Data: fakeWasm}})
	for _, path := range []string{"/web/icon-192.png", "/web/icon.svg"} {
		resp := get(t, h, path, "Accept-Encoding", "br, gzip")
		b := body(t, resp)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: status %d", path, resp.StatusCode)
		}
		if ce := resp.Header.Get("Content-Encoding"); ce != "" {
			t.Errorf("%s (%d bytes, %s): Content-Encoding %q", path, len(b), resp.Header.Get("Content-Type"), ce)
		}
	}
}

// sameBody compares two bodies of a content type: pages as their parsed
// documents with each element's attributes sorted (go-app writes them in
// map order), anything else byte for byte.
func sameBody(t *testing.T, contentType string, a, b []byte) bool {
	t.Helper()
	if !strings.HasPrefix(contentType, "text/html") {
		return bytes.Equal(a, b)
	}
	return canonicalHTML(t, a) == canonicalHTML(t, b)
}

func canonicalHTML(t *testing.T, b []byte) string {
	t.Helper()
	doc, err := html.Parse(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	var sortAttrs func(n *html.Node)
	sortAttrs = func(n *html.Node) {
		slices.SortFunc(n.Attr, func(x, y html.Attribute) int { return strings.Compare(x.Key, y.Key) })
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			sortAttrs(c)
		}
	}
	sortAttrs(doc)
	var out strings.Builder
	if err := html.Render(&out, doc); err != nil {
		t.Fatal(err)
	}
	return out.String()
}

// BenchmarkPageCompressed serves the room list page to a browser that
// accepts brotli: the cost compression adds to every page.
func BenchmarkPageCompressed(b *testing.B) {
	sub, err := fs.Sub(static, "web")
	if err != nil {
		b.Fatal(err)
	}
	h, err := newHandler(HandlerOptions{}, sub, fstest.MapFS{"app.wasm": {Data: fakeWasm}})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		req.Header.Set("Accept-Encoding", "gzip, deflate, br, zstd")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK || rec.Header().Get("Content-Encoding") != "br" {
			b.Fatalf("status %d, Content-Encoding %q", rec.Code, rec.Header().Get("Content-Encoding"))
		}
	}
}
