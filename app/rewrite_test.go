//go:build !js

package app

import (
	"encoding/json"
	"maps"
	"net/http"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"golang.org/x/net/html"
)

// TestPageTags: the share tags name the page's own absolute URL and a local
// image, and Apple's home screen gets the plain icon, not the maskable one.
func TestPageTags(t *testing.T) {
	h := newTestHandler(t, fstest.MapFS{"app.wasm": {Data: fakeWasm}})
	for _, tc := range []struct{ header, origin string }{
		{"", "http://example.com"},
		{"https", "https://example.com"},
	} {
		page := parsePage(t, body(t, get(t, h, "/room/general", "X-Forwarded-Proto", tc.header)))
		for prop, want := range map[string]string{
			"og:url":   tc.origin + "/room/general",
			"og:image": tc.origin + shareImage,
		} {
			metas := page.find("meta", "property", prop)
			if len(metas) != 1 {
				t.Fatalf("%d <meta property=%s>", len(metas), prop)
			}
			if got := attrOf(metas[0], "content"); got != want {
				t.Errorf("%s = %q, want %q", prop, got, want)
			}
		}
		if len(page.find("link", "rel", "apple-touch-icon", "href", appleTouchIcon)) != 1 {
			t.Errorf("no <link rel=apple-touch-icon href=%s>", appleTouchIcon)
		}
	}
	if !strings.Contains(parsePage(t, body(t, get(t, h, "/"))).text(), "Loading Parley") {
		t.Error("the rewritten page lost its body")
	}
}

// TestPrerenderBooleans: the prerendered sign-in page means what the
// app's own copy does. go-app writes autofocus(false) as autofocus="false"
// and disabled(false) as disabled="false", which a browser reads as set
// (the prerender's inert field took the document's one autofocus, and
// its button showed disabled), and an ARIA state set to true bare, which
// ARIA reads as not set.
func TestPrerenderBooleans(t *testing.T) {
	h := newTestHandler(t, fstest.MapFS{"app.wasm": {Data: fakeWasm}})
	page := parsePage(t, body(t, get(t, h, "/")))
	pre := page.find("main", "data-prerender", "")
	if len(pre) != 1 {
		t.Fatalf("%d prerendered <main data-prerender>", len(pre))
	}
	for _, key := range []string{"autofocus", "disabled"} {
		if n := pre[0].find("", key, "false"); len(n) > 0 {
			t.Errorf("%d prerendered elements with %s=\"false\"", len(n), key)
		}
	}
	if n := pre[0].find("input", "id", "auth-username"); len(n) != 1 || slices.ContainsFunc(n[0].Attr, func(a html.Attribute) bool { return a.Key == "autofocus" }) {
		t.Error("the prerendered username field autofocuses, or is missing")
	}
	if n := pre[0].find("span", "aria-hidden", "true"); len(n) != 1 {
		t.Errorf("%d prerendered logos with aria-hidden=\"true\", want 1", len(n))
	}
	if n := pre[0].find("button", "id", "tab-signin", "aria-selected", "true"); len(n) != 1 {
		t.Error("the prerendered sign-in tab is not aria-selected=\"true\"")
	}
	if n := pre[0].find("button", "id", "tab-signup", "aria-selected", "false"); len(n) != 1 {
		t.Error("the prerendered sign-up tab is not aria-selected=\"false\"")
	}
}

// TestFixBooleans: only false booleans and bare ARIA states change; other
// attributes (a bare boolean, an enumerated "false", values) stay.
func TestFixBooleans(t *testing.T) {
	in := `<input id="a" autofocus="false" required spellcheck="false" disabled="false"><span aria-hidden class="x"></span><button aria-pressed="false" hidden>b</button><script defer src="/s.js"></script>`
	page := parsePage(t, fixPage([]byte(in), "http://example.com", "/"))
	input := page.find("input", "id", "a")
	if len(input) != 1 {
		t.Fatal("the input is gone")
	}
	got := map[string]string{}
	for _, a := range input[0].Attr {
		got[a.Key] = a.Val
	}
	if want := map[string]string{"id": "a", "required": "", "spellcheck": "false"}; !maps.Equal(got, want) {
		t.Errorf("input attributes = %v, want %v", got, want)
	}
	if len(page.find("span", "aria-hidden", "true", "class", "x")) != 1 {
		t.Error(`the bare aria-hidden did not become "true"`)
	}
	if len(page.find("button", "aria-pressed", "false", "hidden", "")) != 1 {
		t.Error("the button's attributes changed")
	}
	if len(page.find("script", "defer", "", "src", "/s.js")) != 1 {
		t.Error("the script's attributes changed")
	}
}

func attrOf(n node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

// TestManifestIconPurposes: every icon says what it is for; only one is
// maskable.
func TestManifestIconPurposes(t *testing.T) {
	h := newTestHandler(t, fstest.MapFS{"app.wasm": {Data: fakeWasm}})
	var manifest struct {
		Icons []struct{ Src, Purpose string }
	}
	if err := json.Unmarshal(body(t, get(t, h, "/manifest.webmanifest")), &manifest); err != nil {
		t.Fatal(err)
	}
	maskable := 0
	for _, icon := range manifest.Icons {
		switch icon.Purpose {
		case "any":
		case "maskable":
			maskable++
		default:
			t.Errorf("icon %s has purpose %q", icon.Src, icon.Purpose)
		}
	}
	if maskable != 1 {
		t.Errorf("%d maskable icons", maskable)
	}
}

// TestAppJS: the page script streams app.wasm from its own Response (so V8
// can cache the compiled code), paints the saved view first, registers
// the service worker only once the app started (not at once), and is
// revalidated like go-app's files.
func TestAppJS(t *testing.T) {
	h := newTestHandler(t, fstest.MapFS{"app.wasm": {Data: fakeWasm}})
	resp := get(t, h, "/app.js")
	js := string(body(t, resp))
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/javascript" {
		t.Fatalf("app.js: %d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	for _, want := range []string{"instantiateStreaming(\n      parleyFetchWasm(", "parleyPaintSnapshot();\ngoappWatchForUpdate();", "go.run(wasm.instance);\n    parleyAppStarted();", "const parleySnapshotWatch = new MutationObserver("} {
		if !strings.Contains(js, want) {
			t.Errorf("app.js lacks %q", want)
		}
	}
	if strings.Contains(js, "goappInitServiceWorker();\ngoappWatchForUpdate();") {
		t.Error("app.js registers the service worker before app.wasm is fetched")
	}
	if strings.Contains(js, "fetchWithProgress(\"") {
		t.Error("app.js still loads app.wasm through go-app's re-wrapped stream")
	}
	if etag := resp.Header.Get("ETag"); etag == "" || get(t, h, "/app.js", "If-None-Match", etag).StatusCode != http.StatusNotModified {
		t.Errorf("app.js is not revalidated by its ETag %q", etag)
	}
	if _, err := patchAppJS("nothing to patch"); err == nil {
		t.Error("patchAppJS accepts a script without the parts it replaces")
	}
}
