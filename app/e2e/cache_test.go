//go:build !(js && wasm)

package e2e

import (
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// idbRecords is a script whose promise resolves to every record of the
// app's IndexedDB cache as "store key value" lines (no database: none).
const idbRecords = `(async () => {
  const req = (r) => new Promise((ok, fail) => { r.onsuccess = () => ok(r.result); r.onerror = () => fail(r.error); });
  if (!(await indexedDB.databases()).some((d) => d.name === "parley")) return [];
  const db = await req(indexedDB.open("parley"));
  const out = [];
  for (const name of db.objectStoreNames) {
    const store = db.transaction(name).objectStore(name);
    const keys = await req(store.getAllKeys());
    const values = await req(store.getAll());
    keys.forEach((k, i) => out.push(name + " " + JSON.stringify(k) + " " + values[i]));
  }
  db.close();
  return out;
})()`

// waitAsync polls an async JavaScript condition (an expression whose
// value is a promise of a boolean) until it holds.
func (b *browser) waitAsync(what, cond string) {
	b.t.Helper()
	for i := 0; !awaitEval[bool](b, cond); i++ {
		if i == 300 {
			b.fail("%s: waiting for %s (%s)", b.name, what, cond)
		}
		awaitEval[bool](b, `new Promise(r => setTimeout(() => r(true), 200))`)
	}
}

// waitCachedRecord waits until the cache's store holds a record with
// every one of parts.
func (b *browser) waitCachedRecord(what, store string, parts ...string) {
	b.t.Helper()
	b.waitAsync(what+" in the cache", cachedCond(store, parts...)+`.then((rs) => rs.length > 0)`)
}

// cachedCond is a promise of the records of store with every one of parts.
func cachedCond(store string, parts ...string) string {
	cond := `(async () => (await ` + idbRecords + `).filter((r) => r.startsWith(` + jsString(store+" ") + `)`
	for _, p := range parts {
		cond += ` && r.includes(` + jsString(p) + `)`
	}
	return cond + `))()`
}

// live is the app's own view (not the snapshot the page painted before
// app.wasm ran).
const live = `!document.querySelector("[data-snapshot]") && `

// legacyKeys lists the localStorage keys an older version kept the room
// list and history under.
const legacyKeys = `Object.keys(localStorage).filter((k) => k === "parley.rooms" || k.startsWith("parley.room."))`

// TestCacheSurvivesReloadOffline: the room list and history live in
// IndexedDB, not localStorage; with the node stopped, a reload shows both
// from there: the room on screen in the app's first view (its window is
// read before the first frame), and another room's history when it is
// opened (read after it).
func TestCacheSurvivesReloadOffline(t *testing.T) {
	srv := startServer(t)
	b := newBrowser(t, "nina", 1280, 800)
	nina := srv.signup(t, "nina")
	seedMessages(t, srv, nina, "side", 3)
	b.seed(srv.base, nina)
	b.open(srv.base + "/room/side")
	b.waitFor("the other room", roomReady+" && "+hasBody("seed 3"))
	b.waitCachedRecord("the other room's messages", "messages", `"nina","side"`, "seed 3")
	b.do(clickSel(`.room-link[data-room="general"]`))
	b.waitFor("the room", `location.pathname === "/room/general" && `+roomReady)
	b.typeInto("composer", "kept in IndexedDB")
	b.do(pressEnter(false))
	b.waitFor("the ack", rowOf("kept in IndexedDB")+`?.matches(":not(.pending)")`)
	b.waitCached()
	b.waitCachedRecord("the message", "messages", `"nina","general"`, "kept in IndexedDB")
	b.waitCachedRecord("the room list", "rooms", `"nina","general"`)
	if keys := eval[[]string](b, legacyKeys); len(keys) != 0 {
		t.Fatalf("localStorage still holds the cache: %q", keys)
	}

	srv.stop(t)
	b.waitFor("the connection banner", `document.getElementById("conn-status")`)
	// Record, from before the page's own scripts, the rows of the app's
	// first view (not the snapshot painted before it).
	b.do(recordOnNewDocument(`(() => {
  window.parleyFirstLive = null;
  new MutationObserver((_, o) => {
    const view = document.querySelector(".layout:not([data-snapshot])");
    if (view) {
      window.parleyFirstLive = Array.from(view.querySelectorAll("#messages .msg .body")).map(e => e.textContent);
      o.disconnect();
    }
  }).observe(document, { subtree: true, childList: true });
})()`))
	b.open(srv.base + "/room/general")
	b.waitFor("history from the cache", live+hasBody("kept in IndexedDB"))
	if first := eval[[]string](b, `window.parleyFirstLive`); !slices.Contains(first, "kept in IndexedDB") {
		t.Errorf("the app's first view showed %q, not the room's cached messages", first)
	}
	b.waitFor("the room list from the cache", live+`document.querySelector('.room-list a[href="/room/general"]')`)
	if keys := eval[[]string](b, legacyKeys); len(keys) != 0 {
		t.Fatalf("localStorage holds the cache after the reload: %q", keys)
	}
	b.screenshot("offline-from-indexeddb")
	b.do(clickSel(`.room-link[data-room="side"]`))
	b.waitFor("the other room's history from the cache", live+`location.pathname === "/room/side" && `+hasBody("seed 3")+` && !(`+hasBody("kept in IndexedDB")+`)`)
}

// frameLog records the WebSocket messages one tab sends.
type frameLog struct {
	mu       sync.Mutex
	payloads []string
}

// recordSent starts recording the WebSocket messages b's tab sends.
func (b *browser) recordSent() *frameLog {
	b.t.Helper()
	l := &frameLog{}
	err := chromedp.Listen(b.ctx, func(ev any) {
		if e, ok := ev.(*network.EventWebSocketFrameSent); ok && e.Response != nil {
			l.mu.Lock()
			l.payloads = append(l.payloads, string(e.Response.PayloadData))
			l.mu.Unlock()
		}
	})
	if err != nil {
		b.t.Fatalf("%s: listen for WebSocket frames: %v", b.name, err)
	}
	return l
}

// sends counts the messages that carry a send of body.
func (l *frameLog) sends(body string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, p := range l.payloads {
		if strings.Contains(p, `"send"`) && strings.Contains(p, jsString(body)) {
			n++
		}
	}
	return n
}

// TestOutboxOneTabSends: two tabs of one browser hold the same outbox
// (the cache); when the node comes back only the tab holding the outbox
// lock sends it, each message once, and both tabs show it delivered.
func TestOutboxOneTabSends(t *testing.T) {
	srv := startServer(t)
	one := newBrowser(t, "omar-1", 1280, 800)
	one.seed(srv.base, srv.signup(t, "omar"))
	room := srv.base + "/room/general"
	one.open(room)
	one.waitFor("the room", roomReady)
	one.waitCached()

	srv.stop(t)
	one.waitFor("the connection banner", `document.getElementById("conn-status")`)
	bodies := []string{"queued first", "queued second"}
	for _, body := range bodies {
		one.typeInto("composer", body)
		one.do(pressEnter(false))
		one.waitFor("the pending message", rowOf(body)+`?.matches(".pending")`)
		one.waitCachedRecord("the outbox entry", "outbox", `"omar"`, body)
	}
	two := one.newTab("omar-2")
	two.open(room)
	for _, body := range bodies {
		two.waitFor("the outbox shown pending in the second tab", live+rowOf(body)+`?.matches(".pending")`)
	}
	logs := []*frameLog{one.recordSent(), two.recordSent()}

	srv.start(t)
	for _, b := range []*browser{one, two} {
		for _, body := range bodies {
			b.waitForWithin(appTimeout, "the message delivered", `!document.getElementById("conn-status") && `+rowOf(body)+`?.matches(":not(.pending)")`)
		}
	}
	for _, body := range bodies {
		if n1, n2 := logs[0].sends(body), logs[1].sends(body); n1 == 0 || n2 != 0 {
			t.Errorf("%q sent %d times by the lock holder and %d times by the other tab", body, n1, n2)
		}
		for _, b := range []*browser{one, two} {
			if n := count(b, body); n != 1 {
				t.Errorf("%s shows %q %d times", b.name, body, n)
			}
		}
	}
	one.waitAsync("an empty outbox", cachedCond("outbox")+`.then((rs) => rs.length === 0)`)
}

// TestLegacyCacheMoves starts the app where the version before the
// IndexedDB cache left its room list, history and outbox (localStorage):
// with the node stopped the app shows that history and the unsent message
// from the cache it moved them to, deletes the old keys, and once the node
// is back sends the message exactly once.
func TestLegacyCacheMoves(t *testing.T) {
	srv := startServer(t)
	b := newBrowser(t, "pia", 1280, 800)
	b.seed(srv.base, srv.signup(t, "pia"))
	room := srv.base + "/room/general"
	b.open(room)
	b.waitFor("the room", roomReady)
	b.typeInto("composer", "old history")
	b.do(pressEnter(false))
	b.waitCachedRecord("the message", "messages", "old history")
	b.waitCachedRecord("the window", "timelines", `"general"`)
	b.waitCached()

	// What the older version kept, made from what this one cached; then
	// the cache and the snapshot go, as if this version never ran.
	b.do(chromedp.Navigate(srv.base + "/manifest.webmanifest"))
	awaitEval[bool](b, `(async () => {
  const records = await `+idbRecords+`;
  const value = (store) => JSON.parse(records.find((r) => r.startsWith(store + " ")).split(" ").slice(2).join(" "));
  const tl = value("timelines");
  localStorage.setItem("parley.rooms", JSON.stringify([value("rooms")]));
  localStorage.setItem("parley.room.general", JSON.stringify({
    epoch: tl.epoch, messages: [value("messages")],
    pending: [{cid: "legacy-outbox-entry-0001", body: "queued by the old version", ts: Date.now()}],
  }));
  localStorage.removeItem("parley.snapshot");
  // The app's page may still hold its connection while it goes away:
  // the deletion waits for it (blocked), then succeeds.
  await new Promise((ok, fail) => { const r = indexedDB.deleteDatabase("parley"); r.onsuccess = ok; r.onerror = fail; });
  return true;
})()`)

	srv.stop(t)
	frames := b.recordSent()
	b.open(room)
	b.waitFor("the old history offline", live+hasBody("old history"))
	b.waitFor("the old outbox offline", live+rowOf("queued by the old version")+`?.matches(".pending")`)
	b.waitCachedRecord("the moved outbox entry", "outbox", "legacy-outbox-entry-0001")
	b.waitFor("the old keys deleted", legacyKeys+`.length === 0`)
	b.screenshot("migrated-offline")

	srv.start(t)
	b.waitForWithin(appTimeout, "the old outbox delivered", `!document.getElementById("conn-status") && `+rowOf("queued by the old version")+`?.matches(":not(.pending)")`)
	b.waitAsync("an empty outbox", cachedCond("outbox")+`.then((rs) => rs.length === 0)`)
	if n := frames.sends("queued by the old version"); n != 1 {
		t.Errorf("the old outbox entry was sent %d times", n)
	}
	// Once connected the room view may reload its newest page, so the
	// history can be missing for a moment: wait for each body to show
	// exactly once (a duplicate never settles to one).
	for _, body := range []string{"old history", "queued by the old version"} {
		b.waitFor(body+" shown once", `Array.from(document.querySelectorAll("#messages .msg .body")).filter(e => e.textContent === `+jsString(body)+`).length === 1`)
	}
}

// TestSignOutClearsCache: signing out deletes the user's cache, and the
// next user of the browser caches only their own.
func TestSignOutClearsCache(t *testing.T) {
	srv := startServer(t)
	b := newBrowser(t, "quinn", 1280, 800)
	b.seed(srv.base, srv.signup(t, "quinn"))
	b.open(srv.base + "/room/general")
	b.waitFor("the room", roomReady)
	b.typeInto("composer", "quinn was here")
	b.do(pressEnter(false))
	b.waitCachedRecord("the message", "messages", `"quinn"`, "quinn was here")

	b.click("sign-out")
	b.waitFor("the sign-in form", `document.getElementById("auth-form")`)
	b.waitAsync("quinn's cache deleted", `(async () => (await `+idbRecords+`).length === 0)()`)

	srv.signup(t, "rita")
	b.signIn("rita", password)
	b.waitFor("rita signed in", signedIn("rita"))
	b.open(srv.base + "/room/general")
	b.waitFor("rita's room", roomReady)
	b.waitCachedRecord("rita's room list", "rooms", `"rita","general"`)
	for _, r := range awaitEval[[]string](b, idbRecords) {
		if !strings.Contains(r, ` ["rita",`) {
			t.Errorf("rita's browser caches %s", r)
		}
	}
}
