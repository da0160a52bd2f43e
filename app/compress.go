package app

import (
	"bytes"
	"compress/gzip"
	"fmt"
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

// Brotli qualities: fixed files are compressed once, at the best quality;
// pages (different for every room and origin) on every request, quickly.
const (
	brotliFixed = brotli.BestCompression
	brotliPage  = 5
)

// textEncoder compresses the text responses of a handler (pages, scripts,
// the manifest, style sheets, SVG) with brotli or gzip, as the request's
// Accept-Encoding allows. app.wasm is not its business: its compressed
// copies are made at build time (assets).
type textEncoder struct {
	mu    sync.Mutex // guards cache
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
	enc, err := e.encode(r.URL.Path, h.Get("Content-Type"), body)
	if err != nil {
		// Compressing into memory does not fail; if it did, the
		// identity response is still right.
		finish(w, r, rec.code, body)
		return
	}
	out := enc.br
	if coding == "gzip" {
		out = enc.gz
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

// encode returns the compressed copies of body, the response of path.
// Pages are compressed for every request; other responses are fixed for
// the handler's life and compressed once.
func (e *textEncoder) encode(path, contentType string, body []byte) (*encodings, error) {
	mediaType, _, _ := mime.ParseMediaType(contentType)
	if mediaType == "text/html" {
		return compressBoth(body, brotliPage, gzip.DefaultCompression)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if enc, ok := e.cache[path]; ok && bytes.Equal(enc.raw, body) {
		return enc, nil
	}
	enc, err := compressBoth(body, brotliFixed, gzip.BestCompression)
	if err != nil {
		return nil, err
	}
	if e.cache == nil {
		e.cache = make(map[string]*encodings)
	}
	if _, ok := e.cache[path]; ok || len(e.cache) < maxCachedEncodings {
		enc.raw = bytes.Clone(body)
		e.cache[path] = enc
	}
	return enc, nil
}

func compressBoth(body []byte, brQuality, gzLevel int) (*encodings, error) {
	var br, gz bytes.Buffer
	bw := brotli.NewWriterLevel(&br, brQuality)
	if _, err := bw.Write(body); err != nil {
		return nil, fmt.Errorf("brotli: %w", err)
	}
	if err := bw.Close(); err != nil {
		return nil, fmt.Errorf("brotli: %w", err)
	}
	gw, err := gzip.NewWriterLevel(&gz, gzLevel)
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
