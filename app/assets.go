package app

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"sort"
	"strconv"
	"strings"

	"github.com/andybalholm/brotli"
)

// static holds the hand-written web assets (style sheet, icons). They are
// embedded from the source tree; only compiled outputs go through build/web.
//
//go:embed web
var static embed.FS

// wasmName is the browser app inside the build output folder.
const wasmName = "app.wasm"

// asset is one file served under /web/.
type asset struct {
	body        []byte
	contentType string
	// br and gz are precompressed copies of body, nil when absent.
	br, gz []byte
}

// assets serves the files under /web/ from memory. It is the go-app
// Handler's ResourceResolver: Resolve keeps paths as they are, so the app's
// URLs never name a folder of this machine.
type assets struct {
	files   map[string]*asset
	version string
	// wasmSize is the raw size of app.wasm, 0 when it was not built.
	wasmSize int
}

// loadAssets reads the static assets and the build outputs. A missing
// app.wasm is not an error (pages still render; the app cannot start), but a
// precompressed copy that does not decode to the current app.wasm is dropped
// rather than served, so a stale .br never reaches a browser.
func loadAssets(staticFS, buildFS fs.FS) (*assets, error) {
	a := &assets{files: make(map[string]*asset)}
	err := fs.WalkDir(staticFS, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.HasPrefix(d.Name(), ".") {
			return err
		}
		body, err := fs.ReadFile(staticFS, name)
		if err != nil {
			return fmt.Errorf("read %s: %w", name, err)
		}
		a.files["/web/"+name] = &asset{body: body, contentType: contentType(name)}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("load static assets: %w", err)
	}
	if err := a.loadWasm(buildFS); err != nil {
		return nil, err
	}
	a.version = a.hash()
	return a, nil
}

func (a *assets) loadWasm(buildFS fs.FS) error {
	raw, err := fs.ReadFile(buildFS, wasmName)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		return fmt.Errorf("read %s: %w", wasmName, err)
	}
	wasm := &asset{body: raw, contentType: "application/wasm"}
	wasm.br = precompressed(buildFS, wasmName+".br", raw, func(r io.Reader) (io.Reader, error) {
		return brotli.NewReader(r), nil
	})
	wasm.gz = precompressed(buildFS, wasmName+".gz", raw, func(r io.Reader) (io.Reader, error) {
		return gzip.NewReader(r)
	})
	a.files["/web/"+wasmName] = wasm
	a.wasmSize = len(raw)
	return nil
}

// precompressed returns the named compressed copy of raw when it exists and
// decodes to exactly raw; otherwise nil.
func precompressed(fsys fs.FS, name string, raw []byte, newReader func(io.Reader) (io.Reader, error)) []byte {
	enc, err := fs.ReadFile(fsys, name)
	if err != nil || len(enc) == 0 {
		return nil
	}
	r, err := newReader(bytes.NewReader(enc))
	if err != nil {
		return nil
	}
	h := sha256.New()
	n, err := io.Copy(h, r)
	if err != nil || n != int64(len(raw)) {
		return nil
	}
	want := sha256.Sum256(raw)
	if !bytes.Equal(h.Sum(nil), want[:]) {
		return nil
	}
	return enc
}

// hash is a content hash over every served file: identical builds give
// identical versions on every node, and any change to the app, its styles
// or its icons gives a new one.
func (a *assets) hash() string {
	names := make([]string, 0, len(a.files))
	for name := range a.files {
		names = append(names, name)
	}
	sort.Strings(names)
	h := sha256.New()
	for _, name := range names {
		fmt.Fprintf(h, "%s\x00%d\x00", name, len(a.files[name].body))
		h.Write(a.files[name].body)
	}
	return hex.EncodeToString(h.Sum(nil))[:20]
}

// Resolve implements the go-app ResourceResolver: paths stay as they are.
func (a *assets) Resolve(location string) string { return location }

// ServeHTTP serves a file under /web/, precompressed when the browser
// accepts it. go-app has already set Cache-Control and ETag.
func (a *assets) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	f, ok := a.files[r.URL.Path]
	if !ok {
		http.NotFound(w, r)
		return
	}
	h := w.Header()
	h.Set("Content-Type", f.contentType)
	h.Set("X-Content-Type-Options", "nosniff")
	body := f.body
	if f.br != nil || f.gz != nil {
		h.Add("Vary", "Accept-Encoding")
		accept := r.Header.Get("Accept-Encoding")
		switch {
		case f.br != nil && acceptsEncoding(accept, "br"):
			h.Set("Content-Encoding", "br")
			body = f.br
		case f.gz != nil && acceptsEncoding(accept, "gzip"):
			h.Set("Content-Encoding", "gzip")
			body = f.gz
		}
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodHead {
		return
	}
	w.Write(body) //nolint:errcheck // the client went away; nothing to do
}

// acceptsEncoding reports whether an Accept-Encoding header value accepts
// coding with a non-zero quality.
func acceptsEncoding(header, coding string) bool {
	for _, part := range strings.Split(header, ",") {
		name, params, _ := strings.Cut(part, ";")
		if !strings.EqualFold(strings.TrimSpace(name), coding) {
			continue
		}
		q := 1.0
		for _, p := range strings.Split(params, ";") {
			k, v, ok := strings.Cut(strings.TrimSpace(p), "=")
			if ok && strings.EqualFold(k, "q") {
				if f, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err == nil {
					q = f
				}
			}
		}
		return q > 0
	}
	return false
}

func contentType(name string) string {
	switch ext := path.Ext(name); ext {
	case ".wasm":
		return "application/wasm"
	case ".webmanifest":
		return "application/manifest+json"
	case ".svg":
		return "image/svg+xml"
	default:
		if t := mime.TypeByExtension(ext); t != "" {
			return t
		}
		return "application/octet-stream"
	}
}
