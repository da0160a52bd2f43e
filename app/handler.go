//go:build !js

// Package app is the server side of Parley's browser app: it builds the
// go-app HTTP handler that serves the app shell (prerendered pages, the
// service worker, the manifest) and the web assets embedded in the server
// binary (app.wasm from build/web, precompressed when available; style sheet
// and icons from app/web). Text responses are compressed when the browser
// accepts it (textEncoder).
//
// The browser app itself lives in app/ui (components and routes), app/state
// (the pure state it renders) and app/cmd/wasm (its main). This package is
// never compiled into the WebAssembly binary, and its files say so
// (//go:build !js): it serves go-app's Handler, whose serving methods
// app.wasm's copy of go-app leaves out (build/wasmpatch).
//
// A server calls Routes once before serving, then mounts NewHandler for every
// path its API, WebSocket and health endpoints do not take:
//
//	h, err := app.NewHandler(app.HandlerOptions{})
//	if err != nil { ... }
//	mux.Handle("/", h)
package app

import (
	"fmt"
	"io/fs"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	goapp "github.com/maxence-charriere/go-app/v10/pkg/app"

	"github.com/parleychat/parley/app/ui"
	"github.com/parleychat/parley/build"
)

// Colors shared by the manifest and the page.
const (
	themeColor      = "#4c5fd5"
	backgroundColor = "#f6f7fb"
)

// HandlerOptions configures NewHandler. The zero value is what production
// wants.
type HandlerOptions struct {
	// Version overrides the app version, which defaults to a content hash
	// of the embedded assets (identical on every node running the same
	// build). Browsers treat a new version as an update.
	Version string
}

// BuildInfo describes the web assets a handler serves.
type BuildInfo struct {
	// Version is the app version given to go-app.
	Version string
	// WasmBytes is the raw size of app.wasm; 0 means it was not built and
	// the app cannot start in a browser (run the build first).
	WasmBytes int
	// Encodings lists the precompressed copies of app.wasm being served
	// ("br", "gzip").
	Encodings []string
}

// Handler serves Parley's app shell and web assets.
type Handler struct {
	app  *goapp.Handler
	info BuildInfo
	gen  generated
	etag string
	text textEncoder
	// wasmRequests counts the requests for app.wasm (WasmRequests).
	wasmRequests atomic.Int64
}

var routesOnce sync.Once

// Routes registers every page of the app with go-app. NewHandler calls it;
// it is safe to call more than once.
func Routes() {
	routesOnce.Do(ui.Routes)
}

// NewHandler returns the handler for every path the server does not serve
// itself. It registers the routes (see Routes).
func NewHandler(opts HandlerOptions) (*Handler, error) {
	staticFS, err := fs.Sub(static, "web")
	if err != nil {
		return nil, fmt.Errorf("open static assets: %w", err)
	}
	return newHandler(opts, staticFS, build.Web())
}

func newHandler(opts HandlerOptions, staticFS, buildFS fs.FS) (*Handler, error) {
	Routes()
	res, err := loadAssets(staticFS, buildFS)
	if err != nil {
		return nil, err
	}
	worker, err := workerTemplate()
	if err != nil {
		return nil, err
	}
	version := res.version
	if opts.Version != "" {
		version = opts.Version
	}
	h := &Handler{
		app: &goapp.Handler{
			Name:            "Parley",
			ShortName:       "Parley",
			Title:           "Parley",
			Description:     "Realtime chat rooms.",
			Lang:            "en",
			LoadingLabel:    "Loading Parley… {progress}%",
			Image:           shareImage,
			BackgroundColor: backgroundColor,
			ThemeColor:      themeColor,
			Icon: goapp.Icon{
				Default:  "/web/icon-192.png",
				Large:    "/web/icon-512.png",
				Maskable: "/web/icon-maskable-512.png",
				SVG:      "/web/icon.svg",
			},
			Styles:             []string{"/web/parley.css"},
			CacheableResources: []string{"/web/icon.svg"},
			RawHeaders: []string{
				`<meta name="color-scheme" content="light dark">`,
				// The logo of the sign-in page and the sidebar is a CSS
				// background: fetched with the style sheet, not after it.
				`<link rel="preload" href="/web/icon.svg" as="image" type="image/svg+xml">`,
			},
			Resources:             res,
			Version:               version,
			ServiceWorkerTemplate: worker,
		},
		info: BuildInfo{Version: version, WasmBytes: res.wasmSize},
	}
	if res.wasmSize > 0 {
		h.app.WasmContentLength = strconv.Itoa(res.wasmSize)
		wasm := res.files["/web/"+wasmName]
		if wasm.br != nil {
			h.info.Encodings = append(h.info.Encodings, "br")
		}
		if wasm.gz != nil {
			h.info.Encodings = append(h.info.Encodings, "gzip")
		}
	}
	if h.gen, err = generate(h.app); err != nil {
		return nil, err
	}
	h.etag = `"parley-` + version + `"`
	return h, nil
}

// Info describes the assets h serves; servers log it at start.
func (h *Handler) Info() BuildInfo { return h.info }

// WasmRequests returns how many requests for app.wasm h has answered, of
// any method and outcome (a download, a revalidation, a refusal): a
// browser's first visit should make one.
func (h *Handler) WasmRequests() int64 { return h.wasmRequests.Load() }

// ServeHTTP serves pages, the service worker, the manifest and /web/ assets.
// app.js and the manifest are go-app's, fixed once (generate); pages are
// go-app's, fixed on the way out (fixPage). Text responses go out
// compressed when the browser accepts it (textEncoder); app.wasm has its
// own compressed copies (assets).
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasSuffix(r.URL.Path, "/"+wasmName) || r.URL.Path == "/goapp.wasm" {
		h.wasmRequests.Add(1)
	}
	if (r.Method == http.MethodGet || r.Method == http.MethodHead) && !strings.HasSuffix(r.URL.Path, ".wasm") {
		h.text.serve(w, r, http.HandlerFunc(h.route))
		return
	}
	h.route(w, r)
}

// route sends a request to what serves its path.
func (h *Handler) route(w http.ResponseWriter, r *http.Request) {
	switch path := r.URL.Path; {
	case path == "/app.js" || path == "/goapp.js":
		h.serveGenerated(w, r, h.gen.appJS, "application/javascript")
	case path == "/manifest.webmanifest" || path == "/manifest.json":
		h.serveGenerated(w, r, h.gen.manifest, "application/manifest+json")
	case strings.HasPrefix(path, "/web/") || path == "/app-worker.js" || path == "/wasm_exec.js" ||
		(r.Method != http.MethodGet && r.Method != http.MethodHead):
		h.app.ServeHTTP(w, r)
	default:
		h.servePage(w, r)
	}
}

func (h *Handler) serveGenerated(w http.ResponseWriter, r *http.Request, body []byte, contentType string) {
	w.Header().Set("Cache-Control", "no-cache")
	w.Header().Set("ETag", h.etag)
	if r.Header.Get("If-None-Match") == h.etag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	if r.Method != http.MethodHead {
		_, _ = w.Write(body)
	}
}

// servePage serves what go-app answers, with fixPage applied to pages.
func (h *Handler) servePage(w http.ResponseWriter, r *http.Request) {
	rec := &pageRecorder{header: w.Header()}
	h.app.ServeHTTP(rec, r)
	b := rec.body.Bytes()
	if rec.code == http.StatusOK && strings.HasPrefix(rec.header.Get("Content-Type"), "text/html") {
		b = fixPage(b, origin(r), r.URL.Path)
		rec.header.Set("Content-Length", strconv.Itoa(len(b)))
	}
	if rec.code == 0 {
		rec.code = http.StatusOK
	}
	w.WriteHeader(rec.code)
	_, _ = w.Write(b)
}
