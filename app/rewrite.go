package app

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"golang.org/x/net/html"
)

// Icons the page and the manifest name besides go-app's defaults.
const (
	// appleTouchIcon is the icon Apple's home screen shows. go-app links the
	// maskable one, whose safe zone leaves a small logo in a wide border.
	appleTouchIcon = "/web/icon-192.png"
	// shareImage is the og:image of every page.
	shareImage = "/web/icon-512.png"
)

// generated holds go-app's generated files that Parley serves changed.
type generated struct {
	appJS    []byte
	manifest []byte
}

// generate asks go-app for app.js and the manifest and fixes them.
func generate(h http.Handler) (generated, error) {
	var g generated
	js, err := record(h, "/app.js")
	if err != nil {
		return g, err
	}
	patched, err := patchAppJS(string(js))
	if err != nil {
		return g, err
	}
	g.appJS = []byte(patched)
	m, err := record(h, "/manifest.webmanifest")
	if err != nil {
		return g, err
	}
	if g.manifest, err = fixManifest(m); err != nil {
		return g, err
	}
	return g, nil
}

func record(h http.Handler, path string) ([]byte, error) {
	req, err := http.NewRequest(http.MethodGet, path, nil)
	if err != nil {
		return nil, fmt.Errorf("generate %s: %w", path, err)
	}
	rec := &pageRecorder{header: make(http.Header)}
	h.ServeHTTP(rec, req)
	if rec.code != http.StatusOK {
		return nil, fmt.Errorf("generate %s: status %d", path, rec.code)
	}
	return rec.body.Bytes(), nil
}

// fixManifest gives every icon a purpose: go-app writes "purpose": "" for
// all but the maskable icon, which the manifest spec does not allow.
func fixManifest(b []byte) ([]byte, error) {
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("read go-app's manifest: %w", err)
	}
	icons, _ := m["icons"].([]any)
	for _, icon := range icons {
		if i, ok := icon.(map[string]any); ok {
			if p, _ := i["purpose"].(string); p == "" {
				i["purpose"] = "any"
			}
		}
	}
	out, err := json.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("write the manifest: %w", err)
	}
	return out, nil
}

// fixPage rewrites the few tags of a go-app page that go-app gets wrong:
// og:url and og:image are "https://" plus an empty domain, the
// apple-touch-icon is the maskable icon, and in the prerendered body a
// boolean attribute set to false is written ="false" (which a browser
// reads as set: an autofocus, a disabled button) and an ARIA state set to
// true is written bare (aria-hidden with no value, which ARIA reads as
// not set) (fixBooleans). origin is the page's scheme and host
// ("https://chat.example"). Everything else is copied byte for byte.
func fixPage(page []byte, origin, path string) []byte {
	var out bytes.Buffer
	out.Grow(len(page) + 128)
	z := html.NewTokenizer(bytes.NewReader(page))
	for {
		tt := z.Next()
		if tt == html.ErrorToken {
			return out.Bytes()
		}
		raw := z.Raw()
		if tt != html.StartTagToken && tt != html.SelfClosingTagToken {
			out.Write(raw)
			continue
		}
		tok := z.Token()
		if !fixTag(&tok, origin, path) && !fixBooleans(&tok) {
			out.Write(raw)
			continue
		}
		out.WriteString(tok.String())
	}
}

// fixTag changes tok when it is one of the tags fixPage fixes.
func fixTag(tok *html.Token, origin, path string) bool {
	attr := func(key string) *html.Attribute {
		for i := range tok.Attr {
			if tok.Attr[i].Key == key {
				return &tok.Attr[i]
			}
		}
		return nil
	}
	switch tok.Data {
	case "meta":
		prop, content := attr("property"), attr("content")
		if prop == nil {
			prop = attr("name")
		}
		if prop == nil || content == nil {
			return false
		}
		switch prop.Val {
		case "og:url":
			content.Val = origin + path
		case "og:image", "twitter:image":
			content.Val = origin + shareImage
		default:
			return false
		}
		return true
	case "link":
		if rel, href := attr("rel"), attr("href"); rel != nil && href != nil && rel.Val == "apple-touch-icon" {
			href.Val = appleTouchIcon
			return true
		}
	}
	return false
}

// booleanAttrs are the HTML boolean attributes go-app sets from a bool
// (its setJSAttribute list): present means true, whatever the value.
var booleanAttrs = map[string]bool{
	"async": true, "autofocus": true, "autoplay": true, "checked": true, "default": true,
	"defer": true, "disabled": true, "hidden": true, "ismap": true, "loop": true,
	"multiple": true, "muted": true, "open": true, "readonly": true, "required": true,
	"reversed": true, "selected": true,
}

// fixBooleans says what go-app's server-side HTML means, as its DOM
// updates in the browser do: a boolean attribute with the value "false"
// is dropped, and an aria-* attribute without a value (go-app writes a
// "true" bare) gets "true". It reports whether it changed tok.
func fixBooleans(tok *html.Token) bool {
	changed := false
	kept := tok.Attr[:0]
	for _, a := range tok.Attr {
		switch {
		case booleanAttrs[a.Key] && a.Val == "false":
			changed = true
			continue
		case strings.HasPrefix(a.Key, "aria-") && a.Val == "":
			a.Val = "true"
			changed = true
		}
		kept = append(kept, a)
	}
	tok.Attr = kept
	return changed
}

// origin returns the scheme and host a browser used to reach r.
func origin(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil || strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https") {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// pageRecorder buffers a page so that fixPage can rewrite it.
type pageRecorder struct {
	header http.Header
	code   int
	body   bytes.Buffer
}

func (p *pageRecorder) Header() http.Header { return p.header }
func (p *pageRecorder) WriteHeader(code int) {
	if p.code == 0 {
		p.code = code
	}
}
func (p *pageRecorder) Write(b []byte) (int, error) {
	if p.code == 0 {
		p.code = http.StatusOK
	}
	return p.body.Write(b)
}
