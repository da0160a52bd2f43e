package app

import (
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"io/fs"
	"net/http"
	"strings"
)

// styleSheet is Parley's style sheet, in app/web. It is not linked from
// the page: its text is inline (pageStyle).
const styleSheet = "/web/parley.css"

// goappStyleSheet is the style sheet go-app links from every page (its
// loader's rules).
const goappStyleSheet = "/app.css"

// pageStyle is every page's one style element: go-app's /app.css and
// Parley's style sheet, in that order (the order go-app linked them).
// A linked sheet holds the page's first paint until it is fetched (from
// the service worker on a repeat visit: 70-100 ms after the navigation
// started, "Start-up and the page script" in app/README.md); inline, the
// page paints from its own bytes. The CSP allows it by its hash
// (withStyleSource).
type pageStyle struct {
	// elem replaces go-app's <link> to /app.css.
	elem []byte
	// source is the CSP source that allows elem: 'sha256-…'.
	source string
}

// newPageStyle reads go-app's sheet from goapp and Parley's from static.
func newPageStyle(goapp http.Handler, static fs.FS) (pageStyle, error) {
	app, err := record(goapp, goappStyleSheet)
	if err != nil {
		return pageStyle{}, err
	}
	own, err := fs.ReadFile(static, strings.TrimPrefix(styleSheet, "/web/"))
	if err != nil {
		return pageStyle{}, fmt.Errorf("read the style sheet: %w", err)
	}
	text := string(app) + "\n" + string(own)
	if strings.Contains(strings.ToLower(text), "</style") {
		return pageStyle{}, fmt.Errorf("inline the style sheets: they contain </style")
	}
	sum := sha256.Sum256([]byte(text))
	return pageStyle{
		elem:   []byte("<style>" + text + "</style>"),
		source: "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'",
	}, nil
}

// withStyleSource adds s's hash to the style-src of csp, the policy the
// node sets on every answer (server/node): the page's inline style is
// allowed, nothing else inline is. A policy without style-src 'self' is
// returned as it is.
func (s pageStyle) withStyleSource(csp string) string {
	const src = "style-src 'self'"
	i := strings.Index(csp, src)
	if i < 0 || s.source == "" {
		return csp
	}
	i += len(src)
	return csp[:i] + " " + s.source + csp[i:]
}

// isGoappSheet reports whether a <link> with these rel and href is
// go-app's style sheet link, which the page's style element replaces.
func isGoappSheet(rel, href string) bool {
	return rel == "stylesheet" && href == goappStyleSheet
}
