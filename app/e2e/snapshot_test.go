//go:build !(js && wasm)

package e2e

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/fetch"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/parleychat/parley/shared/protocol"
	"github.com/parleychat/parley/shared/testenv"
)

// wasmGate holds every request for app.wasm of one tab until the test
// lets it go, through the DevTools protocol's Fetch domain. The service
// worker is bypassed, so app.wasm comes from the network, where the gate
// is.
type wasmGate struct {
	b      *browser
	paused chan fetch.RequestID
}

// holdWasm starts holding b's requests for app.wasm.
func (b *browser) holdWasm() *wasmGate {
	b.t.Helper()
	g := &wasmGate{b: b, paused: make(chan fetch.RequestID, 16)}
	err := chromedp.Listen(b.ctx, func(ev any) {
		if e, ok := ev.(*fetch.EventRequestPaused); ok {
			g.paused <- e.RequestID
		}
	})
	if err != nil {
		b.t.Fatalf("%s: listen for paused requests: %v", b.name, err)
	}
	b.do(chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		if _, err := cdp.Call(ctx, t, network.SetBypassServiceWorker, network.SetBypassServiceWorkerParams{Bypass: true}); err != nil {
			return err
		}
		_, err := cdp.Call(ctx, t, fetch.Enable, fetch.EnableParams{Patterns: []*fetch.RequestPattern{{URLPattern: "*/web/app.wasm*"}}})
		return err
	}))
	return g
}

// held waits until the page asked for app.wasm and returns the request,
// still held.
func (g *wasmGate) held() fetch.RequestID {
	g.b.t.Helper()
	select {
	case id := <-g.paused:
		return id
	case <-time.After(pollTimeout):
		g.b.fail("%s: the page never asked for app.wasm", g.b.name)
		return ""
	}
}

// release lets a held request for app.wasm go on.
func (g *wasmGate) release(id fetch.RequestID) {
	g.b.t.Helper()
	g.b.do(chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, fetch.ContinueRequest, fetch.ContinueRequestParams{RequestID: id})
		return err
	}))
}

// snapshotShows is true while the page shows the snapshot (busy, its
// controls inert) with a visible message whose body is body.
func snapshotShows(body string) string {
	return `(() => {
  const snap = document.querySelector("[data-snapshot]");
  if (!snap || snap.getAttribute("aria-busy") !== "true") return false;
  if (Array.from(snap.querySelectorAll("a, button, input, select, textarea")).some(e => !e.inert)) return false;
  return Array.from(snap.querySelectorAll("#messages .msg .body")).some(e => e.textContent === ` + jsString(body) + ` && e.checkVisibility());
})()`
}

// shownOnce is true when the app's own view shows body exactly once.
func shownOnce(body string) string {
	return live + `document.getElementById("composer") && Array.from(document.querySelectorAll("#messages .msg .body")).filter(e => e.textContent === ` + jsString(body) + `).length === 1`
}

// TestSnapshotPaintsBeforeWasm: a repeat visit paints the last room with
// its newest messages from the snapshot while app.wasm has not even
// arrived (it is held), scrolled to the newest; markup in a message is shown as text there too;
// the app then replaces the snapshot with its own view, every message
// once. Signing out deletes the snapshot, and a snapshot of one user is
// never painted for another.
func TestSnapshotPaintsBeforeWasm(t *testing.T) {
	srv := startServer(t)
	// More rows than the list shows: the snapshot must open at the end.
	seeds := make([]string, 30)
	for i := range seeds {
		seeds[i] = fmt.Sprintf("seed %d", i+1)
	}
	postMessages(t, srv, srv.signup(t, "dave"), protocol.DefaultRoom, seeds...)
	b := newBrowser(t, "sara", 1280, 800)
	b.seed(srv.base, srv.signup(t, "sara"))
	room := srv.base + "/room/general"
	b.open(room)
	b.waitFor("the room", roomReady)
	markup := `<img src="x" onerror="window.parleyPwned=1"><script>window.parleyPwned=2</script><b>bold</b>`
	for _, body := range []string{"first light", markup} {
		b.typeInto("composer", body)
		b.do(pressEnter(false))
		b.waitFor("the ack", rowOf(body)+`?.matches(":not(.pending)")`)
	}
	b.waitFor("the snapshot saved", `(localStorage.getItem("parley.snapshot") || "").includes("first light")`)

	gate := b.holdWasm()
	b.do(chromedp.Navigate(room))
	wasm := gate.held()
	b.waitFor("the snapshot painted before app.wasm arrived", snapshotShows("first light"))
	b.waitFor("markup shown as text in the snapshot", snapshotShows(markup))
	b.waitFor("the snapshot scrolled to its newest row", `(m => m.scrollHeight > m.clientHeight + 200 &&
  m.scrollHeight - m.scrollTop - m.clientHeight < 2)(document.querySelector("[data-snapshot] #messages"))`)
	if n := eval[int](b, `document.querySelectorAll("#messages img, #messages script, #messages b").length`); n != 0 {
		t.Errorf("the snapshot made %d elements from a message's markup", n)
	}
	if eval[bool](b, `"parleyPwned" in window`) {
		t.Error("a message's markup ran in the snapshot")
	}
	b.screenshot("snapshot-before-wasm")
	b.audit("the snapshot")
	gate.release(wasm)
	for _, body := range []string{"first light", markup} {
		b.waitForWithin(appTimeout, "the app's own view", shownOnce(body))
	}
	if eval[bool](b, `"parleyPwned" in window`) {
		t.Error("a message's markup ran in the app")
	}

	saved := eval[string](b, `localStorage.getItem("parley.snapshot") || ""`)
	b.click("sign-out")
	b.waitFor("the sign-in form", `document.getElementById("auth-form")`)
	b.waitFor("the snapshot deleted", `localStorage.getItem("parley.snapshot") === null`)

	// Another user signs in on this browser, and sara's snapshot is put
	// back as if it had stayed (on a page without the app, which would
	// save its own when it goes): it is not painted for them.
	srv.signup(t, "tess")
	b.signIn("tess", password)
	b.waitFor("tess signed in", signedIn("tess"))
	b.do(chromedp.Navigate(srv.base + "/manifest.webmanifest"))
	eval[chromedp.Void](b, `localStorage.setItem("parley.snapshot", `+jsString(saved)+`)`)
	b.do(chromedp.Navigate(room))
	wasm = gate.held()
	// The page script ran (it asks for app.wasm after it would have
	// painted the snapshot): nothing of sara's view is on the page.
	if eval[bool](b, `!!document.querySelector("[data-snapshot]") || document.body.textContent.includes("first light")`) {
		t.Error("sara's snapshot was painted for tess")
	}
	gate.release(wasm)
	b.waitForWithin(appTimeout, "tess's room", roomReady)
}

// TestNewEpochKeepsRowsShown: when the node reports another epoch for the
// room the cache holds (its history was reset or restored), the room
// keeps its cached rows on screen until the new epoch's newest page
// replaces them: the list is never empty in between.
func TestNewEpochKeepsRowsShown(t *testing.T) {
	srv := startServer(t)
	b := newBrowser(t, "uma", 1280, 800)
	b.seed(srv.base, srv.signup(t, "uma"))
	room := srv.base + "/room/general"
	b.open(room)
	b.waitFor("the room", roomReady)
	for _, body := range []string{"before the reset", "still before"} {
		b.typeInto("composer", body)
		b.do(pressEnter(false))
		b.waitFor("the ack", rowOf(body)+`?.matches(":not(.pending)")`)
	}
	b.waitCachedRecord("the window with its epoch", "timelines", `"general"`, `"epoch":`)
	b.waitCachedRecord("the message", "messages", "still before")

	// The cache now holds the room under an epoch the node never had.
	b.do(chromedp.Navigate(srv.base + "/manifest.webmanifest"))
	awaitEval[bool](b, `(async () => {
  const req = (r) => new Promise((ok, fail) => { r.onsuccess = () => ok(r.result); r.onerror = () => fail(r.error); });
  const db = await req(indexedDB.open("parley"));
  const store = db.transaction("timelines", "readwrite").objectStore("timelines");
  const keys = await req(store.getAllKeys());
  const values = await req(store.getAll());
  for (let i = 0; i < keys.length; i++) {
    await req(store.put(values[i].replace(/"epoch":\d+/, '"epoch":7'), keys[i]));
  }
  db.close();
  return true;
})()`)
	// Record, from before the page's own scripts, whether the list ever
	// went empty after it first showed a message.
	b.do(recordOnNewDocument(`(() => {
  window.parleyRowsSeen = false;
  window.parleyRowsVanished = false;
  new MutationObserver(() => {
    const n = document.querySelectorAll("#messages .msg").length;
    if (n > 0) window.parleyRowsSeen = true;
    else if (window.parleyRowsSeen) window.parleyRowsVanished = true;
  }).observe(document, { subtree: true, childList: true });
})()`))
	b.do(chromedp.Navigate(room))
	b.waitForWithin(appTimeout, "the cached rows", live+hasBody("still before"))
	// The node's epoch differs from the cached one: the room reloads its
	// newest page, which carries both messages again under the new epoch.
	// (A random epoch may well start with the digit 7: only 7 itself is
	// the one the test wrote.)
	b.waitCachedRecord("the node's epoch in the cache", "timelines", `"general"`)
	b.waitAsync("the new epoch cached", cachedCond("timelines", `"general"`)+`.then((rs) => rs.length === 1 && !/"epoch":7[,}]/.test(rs[0]))`)
	for _, body := range []string{"before the reset", "still before"} {
		b.waitFor(body+" shown once", shownOnce(body))
	}
	b.waitFor("the room ready", roomReady)
	if eval[bool](b, `window.parleyRowsVanished`) {
		t.Error("the room's rows disappeared while its newest page was reloaded")
	}
}

// signInShownEarly is true while the page shows the server's sign-in page
// (data-prerender) instead of go-app's loader: visible, busy, its
// controls inert.
const signInShownEarly = `(() => {
  const page = document.querySelector(".auth-page[data-prerender]");
  const loader = document.getElementById("app-wasm-loader");
  if (!page || !loader || loader.checkVisibility() || page.getAttribute("aria-busy") !== "true") return false;
  const controls = Array.from(page.querySelectorAll("a, button, input, select, textarea"));
  return controls.length > 0 && controls.every(e => e.inert) && document.getElementById("auth-form").checkVisibility();
})()`

// TestSignInPaintsBeforeWasm: signed out, the page shows the prerendered
// sign-in page while app.wasm has not arrived (it is held), not go-app's
// loader, and its controls do nothing yet; the app then replaces it with
// its own, which signs in. Signed in without a
// snapshot, the loader stays up: the sign-in page is never shown to
// someone signed in.
func TestSignInPaintsBeforeWasm(t *testing.T) {
	srv := startServer(t)
	b := newBrowser(t, "wren", 1280, 800)
	gate := b.holdWasm()
	b.do(chromedp.Navigate(srv.base + "/room/general"))
	wasm := gate.held()
	b.waitFor("the sign-in page before app.wasm arrived", signInShownEarly)
	b.screenshot("sign-in-before-wasm")
	b.audit("the prerendered sign-in page")
	// go-app writes a false boolean attribute as ="false", which HTML
	// reads as true: the prerender would autofocus its (inert) field,
	// using up the document's one autofocus, and show its button
	// disabled.
	if got := eval[string](b, `Array.from(document.querySelectorAll("[data-prerender] [autofocus], [data-prerender] [disabled]")).map(e => e.id).join(" ")`); got != "" {
		t.Errorf("the prerendered sign-in page has autofocus or disabled controls: %s", got)
	}
	gate.release(wasm)
	b.waitForWithin(appTimeout, "the app's sign-in page", `!document.getElementById("app-wasm-loader") &&
  document.querySelector(".auth-page:not([data-prerender])") && !document.querySelector("[data-prerender]") &&
  !document.getElementById("auth-username").inert`)
	b.waitFor("the app's username field focused", `document.activeElement?.id === "auth-username"`)
	srv.signup(t, "wren")
	b.signIn("wren", password)
	b.waitFor("wren signed in", `document.querySelector(".me-name")?.textContent === "wren"`)

	b.do(chromedp.Navigate(srv.base + "/manifest.webmanifest"))
	eval[chromedp.Void](b, `localStorage.removeItem("parley.snapshot")`)
	b.do(chromedp.Navigate(srv.base + "/room/general"))
	wasm = gate.held()
	// The page script ran (it asks for app.wasm after it would have
	// shown the sign-in page): the loader still covers the page.
	if eval[bool](b, `!document.getElementById("app-wasm-loader")?.checkVisibility() || !!document.querySelector("[data-prerender][aria-busy]")`) {
		t.Error("the sign-in page was shown to a signed-in user")
	}
	gate.release(wasm)
	b.waitForWithin(appTimeout, "wren's room", roomReady)
}

// snapshotSettled is true when the page has no snapshot save pending
// (boot.go's timer is not set): the last change of the view is saved.
const snapshotSettled = `parleySnapshotTimer === 0`

// TestSnapshotSavedOnlyWhenChanged: the page saves the snapshot after the
// view changed, not after every render: bob's typing, which the snapshot
// leaves out, comes and goes (6 s, past the second a save waits) without
// a write; his message is saved. Writes are counted by wrapping
// localStorage.setItem from before the page's scripts.
func TestSnapshotSavedOnlyWhenChanged(t *testing.T) {
	srv := startServer(t)
	b := newBrowser(t, "vera", 1280, 800)
	b.seed(srv.base, srv.signup(t, "vera"))
	bob, stop := runClient(t, srv, srv.signup(t, "bob"))
	defer stop()
	b.do(recordOnNewDocument(`(() => {
  window.parleySnapshotWrites = 0;
  const set = Storage.prototype.setItem;
  Storage.prototype.setItem = function (key, value) {
    if (key === "parley.snapshot") window.parleySnapshotWrites++;
    return set.call(this, key, value);
  };
})()`))
	b.open(srv.base + "/room/general")
	b.waitFor("the room", roomReady)
	if err := bob.Subscribe(protocol.DefaultRoom, 0); err != nil {
		t.Fatal(err)
	}
	b.waitFor("bob present", present("bob"))
	b.waitFor("bob's presence saved", `(localStorage.getItem("parley.snapshot") || "").includes('"data-user":"bob"') && `+snapshotSettled)
	writes := eval[int](b, `window.parleySnapshotWrites`)

	testenv.Eventually(t, time.Minute, "bob's typing shown", func() error {
		bob.Typing(protocol.DefaultRoom) // dropped until bob's connection is up
		if !eval[bool](b, `document.getElementById("typing").textContent.includes("bob is typing")`) {
			return errors.New("not shown")
		}
		return nil
	})
	b.waitFor("bob's typing gone", `document.getElementById("typing").textContent === ""`)
	if n := eval[int](b, `window.parleySnapshotWrites`) - writes; n != 0 {
		t.Errorf("the snapshot was saved %d times while only the typing indicator changed", n)
	}
	if eval[bool](b, `(localStorage.getItem("parley.snapshot") || "").includes("is typing")`) {
		t.Error("the snapshot holds the typing indicator")
	}

	if _, err := bob.Send(protocol.DefaultRoom, "a real change"); err != nil {
		t.Fatal(err)
	}
	b.waitFor("bob's message saved", `(localStorage.getItem("parley.snapshot") || "").includes("a real change")`)
}

// TestSnapshotSavedWithoutIdleCallback: in a browser without
// requestIdleCallback (Safari) the view is still saved after it changed,
// not only when the page is hidden.
func TestSnapshotSavedWithoutIdleCallback(t *testing.T) {
	srv := startServer(t)
	vera := srv.signup(t, "vera")
	postMessages(t, srv, vera, "general", "saved without idle callbacks")
	b := newBrowser(t, "vera", 1280, 800)
	b.seed(srv.base, vera)
	b.do(recordOnNewDocument(`window.requestIdleCallback = undefined`))
	b.open(srv.base + "/room/general")
	b.waitFor("the room", roomReady+" && "+hasBody("saved without idle callbacks"))
	b.waitFor("the view saved", `(localStorage.getItem("parley.snapshot") || "").includes("saved without idle callbacks")`)
}
