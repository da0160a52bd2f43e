//go:build !js

package app

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"github.com/andybalholm/brotli"
)

// minCompressed is the smallest body worth compressing: below it the
// encoding's framing eats the gain.
const minCompressed = 512

// maxCachedEncodings bounds textEncoder.cache. Only fixed paths (app.js,
// the manifest, the worker, wasm_exec.js, the style sheet, icons) are
// cached, far fewer; the bound only guards against a path nobody foresaw.
const maxCachedEncodings = 64

// brotliQuality is the brotli quality of text responses. Quality 11 would
// make parley.css 4,491 bytes instead of 5,037 but takes five times as
// long (170 ms, and seconds in a node built with the race detector, which
// the browser tests run); pages are compressed on every request.
const brotliQuality = 5

// textEncoder compresses the text responses of a handler (pages, scripts,
// the manifest, style sheets, SVG) with brotli or gzip, as the request's
// Accept-Encoding allows. app.wasm is not its business: its compressed
// copies are made at build time (assets).
type textEncoder struct {
	mu    sync.Mutex // guards cache, not the compression filling it
	cache map[string]*encodings
}

// encodings are the compressed copies of one response body.
type encodings struct {
	raw    []byte
	br, gz []byte
}

// serve runs next and sends its response compressed when it is a
// successful text response of at least minCompressed bytes and the client
// accepts brotli or gzip. Such responses vary by Accept-Encoding; a
// compressed one carries its own ETag (the identity ETag with "-br" or
// "-gzip" appended inside the quotes), which If-None-Match is checked
// against. HEAD is answered with the headers GET would have.
func (e *textEncoder) serve(w http.ResponseWriter, r *http.Request, next http.Handler) {
	inner := r
	if r.Method == http.MethodHead {
		inner = r.Clone(r.Context())
		inner.Method = http.MethodGet
	}
	rec := &pageRecorder{header: w.Header()}
	next.ServeHTTP(rec, inner)
	if rec.code == 0 {
		rec.code = http.StatusOK
	}
	body := rec.body.Bytes()
	h := w.Header()
	if rec.code != http.StatusOK || len(body) < minCompressed || h.Get("Content-Encoding") != "" ||
		!compressible(h.Get("Content-Type")) {
		finish(w, r, rec.code, body)
		return
	}
	h.Add("Vary", "Accept-Encoding")
	coding := negotiate(r.Header.Get("Accept-Encoding"))
	if coding == "" {
		finish(w, r, rec.code, body)
		return
	}
	out, err := e.encode(r.URL.Path, h.Get("Content-Type"), coding, body)
	if err != nil {
		// Compressing into memory does not fail; if it did, the
		// identity response is still right.
		finish(w, r, rec.code, body)
		return
	}
	h.Set("Content-Encoding", coding)
	h.Set("Content-Length", strconv.Itoa(len(out)))
	if etag := h.Get("ETag"); strings.HasSuffix(etag, `"`) {
		etag = strings.TrimSuffix(etag, `"`) + "-" + coding + `"`
		h.Set("ETag", etag)
		if etagMatch(r.Header.Get("If-None-Match"), etag) {
			h.Del("Content-Length")
			w.WriteHeader(http.StatusNotModified)
			return
		}
	}
	finish(w, r, rec.code, out)
}

// finish writes the status and, but for HEAD, the body.
func finish(w http.ResponseWriter, r *http.Request, code int, body []byte) {
	if code != http.StatusNotModified && code != http.StatusNoContent {
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	}
	w.WriteHeader(code)
	if r.Method != http.MethodHead {
		_, _ = w.Write(body)
	}
}

// encode returns body, the response of path, in coding ("br" or "gzip").
// Pages are compressed for every request, with pooled writers; other
// responses are fixed for the handler's life and compressed once.
func (e *textEncoder) encode(path, contentType, coding string, body []byte) ([]byte, error) {
	mediaType, _, _ := mime.ParseMediaType(contentType)
	if mediaType == "text/html" {
		return compressPage(body, coding)
	}
	e.mu.Lock()
	enc, ok := e.cache[path]
	e.mu.Unlock()
	if !ok || !bytes.Equal(enc.raw, body) {
		var err error
		if enc, err = compressBoth(body); err != nil {
			return nil, err
		}
		enc.raw = bytes.Clone(body)
		e.mu.Lock()
		if e.cache == nil {
			e.cache = make(map[string]*encodings)
		}
		if _, ok := e.cache[path]; ok || len(e.cache) < maxCachedEncodings {
			e.cache[path] = enc
		}
		e.mu.Unlock()
	}
	if coding == "gzip" {
		return enc.gz, nil
	}
	return enc.br, nil
}

// Writers for pages, reused: a new brotli writer at quality 5 allocates
// about 1 MB and takes milliseconds, a reset one microseconds.
var (
	pageBrotli = sync.Pool{New: func() any { return brotli.NewWriterLevel(nil, brotliQuality) }}
	pageGzip   = sync.Pool{New: func() any {
		w, _ := gzip.NewWriterLevel(nil, gzip.DefaultCompression) // the level is valid
		return w
	}}
)

// compressPage compresses a page in coding.
func compressPage(body []byte, coding string) ([]byte, error) {
	var buf bytes.Buffer
	var w interface {
		io.WriteCloser
		Reset(io.Writer)
	}
	pool := &pageBrotli
	if coding == "gzip" {
		pool = &pageGzip
	}
	switch pw := pool.Get().(type) {
	case *brotli.Writer:
		w = pw
	case *gzip.Writer:
		w = pw
	}
	defer pool.Put(w)
	w.Reset(&buf)
	if _, err := w.Write(body); err != nil {
		return nil, fmt.Errorf("compress page (%s): %w", coding, err)
	}
	if err := w.Close(); err != nil {
		return nil, fmt.Errorf("compress page (%s): %w", coding, err)
	}
	return buf.Bytes(), nil
}

// compressBoth compresses a fixed file in both codings.
func compressBoth(body []byte) (*encodings, error) {
	var br, gz bytes.Buffer
	bw := brotli.NewWriterLevel(&br, brotliQuality)
	if _, err := bw.Write(body); err != nil {
		return nil, fmt.Errorf("brotli: %w", err)
	}
	if err := bw.Close(); err != nil {
		return nil, fmt.Errorf("brotli: %w", err)
	}
	gw, err := gzip.NewWriterLevel(&gz, gzip.BestCompression)
	if err != nil {
		return nil, fmt.Errorf("gzip: %w", err)
	}
	if _, err := gw.Write(body); err != nil {
		return nil, fmt.Errorf("gzip: %w", err)
	}
	if err := gw.Close(); err != nil {
		return nil, fmt.Errorf("gzip: %w", err)
	}
	return &encodings{br: br.Bytes(), gz: gz.Bytes()}, nil
}

// negotiate picks the coding for an Accept-Encoding value: brotli, else
// gzip, else "" (identity).
func negotiate(accept string) string {
	switch {
	case acceptsEncoding(accept, "br"):
		return "br"
	case acceptsEncoding(accept, "gzip"):
		return "gzip"
	}
	return ""
}

// compressible reports whether a Content-Type is text worth compressing.
func compressible(contentType string) bool {
	mediaType, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return false
	}
	switch mediaType {
	case "application/javascript", "text/javascript", "application/json",
		"application/manifest+json", "image/svg+xml":
		return true
	}
	return strings.HasPrefix(mediaType, "text/")
}

// etagMatch reports whether an If-None-Match value names etag (or is *).
func etagMatch(ifNoneMatch, etag string) bool {
	for _, tag := range strings.Split(ifNoneMatch, ",") {
		tag = strings.TrimSpace(tag)
		if tag == "*" || strings.TrimPrefix(tag, "W/") == strings.TrimPrefix(etag, "W/") {
			return true
		}
	}
	return false
}
