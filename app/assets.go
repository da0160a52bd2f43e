//go:build !js

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
	body        *blob
	contentType string
	// br and gz are precompressed copies of body, nil when absent.
	br, gz *blob
}

// blob is a file's content, read from its file system for every request
// rather than copied into the heap: the build's file systems are embed.FS,
// whose files are already in the binary's read-only data, and app.wasm
// with its compressed copies is over 10 MB a node would otherwise keep.
type blob struct {
	fsys fs.FS
	name string
	size int
}

// newBlob describes the named file of fsys.
func newBlob(fsys fs.FS, name string) (*blob, error) {
	fi, err := fs.Stat(fsys, name)
	if err != nil {
		return nil, fmt.Errorf("stat %s: %w", name, err)
	}
	return &blob{fsys: fsys, name: name, size: int(fi.Size())}, nil
}

// open opens the content; the caller closes it.
func (b *blob) open() (fs.File, error) {
	f, err := b.fsys.Open(b.name)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", b.name, err)
	}
	return f, nil
}

// writeTo copies the content to w.
func (b *blob) writeTo(w io.Writer) error {
	f, err := b.open()
	if err != nil {
		return err
	}
	defer f.Close()
	if _, err := io.Copy(w, f); err != nil {
		return fmt.Errorf("copy %s: %w", b.name, err)
	}
	return nil
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
		body, err := newBlob(staticFS, name)
		if err != nil {
			return err
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
	if a.version, err = a.hash(); err != nil {
		return nil, err
	}
	return a, nil
}

func (a *assets) loadWasm(buildFS fs.FS) error {
	raw, err := newBlob(buildFS, wasmName)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		return err
	}
	sum, err := raw.sum(nil)
	if err != nil {
		return err
	}
	wasm := &asset{body: raw, contentType: "application/wasm"}
	wasm.br = precompressed(buildFS, wasmName+".br", raw.size, sum, func(r io.Reader) (io.Reader, error) {
		return brotli.NewReader(r), nil
	})
	wasm.gz = precompressed(buildFS, wasmName+".gz", raw.size, sum, func(r io.Reader) (io.Reader, error) {
		return gzip.NewReader(r)
	})
	a.files["/web/"+wasmName] = wasm
	a.wasmSize = raw.size
	return nil
}

// sum returns the SHA-256 of the content, decoded by decode when it is
// not nil, and how many bytes that was.
func (b *blob) sum(decode func(io.Reader) (io.Reader, error)) ([]byte, error) {
	f, err := b.open()
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var r io.Reader = f
	if decode != nil {
		if r, err = decode(f); err != nil {
			return nil, fmt.Errorf("decode %s: %w", b.name, err)
		}
	}
	h := sha256.New()
	if _, err := io.Copy(h, r); err != nil {
		return nil, fmt.Errorf("read %s: %w", b.name, err)
	}
	return h.Sum(nil), nil
}

// precompressed returns the named compressed copy of the raw file (size
// bytes, SHA-256 sum) when it exists and decodes to exactly it; otherwise
// nil. It streams: nothing of either file stays in memory.
func precompressed(fsys fs.FS, name string, size int, sum []byte, newReader func(io.Reader) (io.Reader, error)) *blob {
	enc, err := newBlob(fsys, name)
	if err != nil || enc.size == 0 {
		return nil
	}
	got, err := enc.sum(func(r io.Reader) (io.Reader, error) {
		d, err := newReader(r)
		if err != nil {
			return nil, err
		}
		// One byte past size tells a longer file from an equal one.
		return io.LimitReader(d, int64(size)+1), nil
	})
	if err != nil || !bytes.Equal(got, sum) {
		return nil
	}
	return enc
}

// hash is a content hash over every served file: identical builds give
// identical versions on every node, and any change to the app, its styles
// or its icons gives a new one.
func (a *assets) hash() (string, error) {
	names := make([]string, 0, len(a.files))
	for name := range a.files {
		names = append(names, name)
	}
	sort.Strings(names)
	h := sha256.New()
	for _, name := range names {
		body := a.files[name].body
		fmt.Fprintf(h, "%s\x00%d\x00", name, body.size)
		if err := body.writeTo(h); err != nil {
			return "", fmt.Errorf("hash web assets: %w", err)
		}
	}
	return hex.EncodeToString(h.Sum(nil))[:20], nil
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
	h.Set("Content-Length", strconv.Itoa(body.size))
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodHead {
		return
	}
	body.writeTo(w) //nolint:errcheck // the client went away; nothing to do
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
