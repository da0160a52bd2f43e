//go:build !(js && wasm)

package e2e

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/parleychat/parley/shared/protocol"
)

// findSecrets returns where the page's storage holds a JWT (the access
// token's form) or the string secret (the refresh token): localStorage,
// sessionStorage, every IndexedDB database and object store, the cookies
// scripts can read, and the URLs in Cache Storage.
func findSecrets(secret string) string {
	return `(async () => {
  const secret = ` + jsString(secret) + `;
  const jwt = /eyJ[A-Za-z0-9_-]+\.eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+/;
  const found = [];
  const check = (where, text) => {
    if (text && (jwt.test(text) || (secret && text.includes(secret)))) {
      found.push(where);
    }
  };
  for (const [name, store] of [["localStorage", localStorage], ["sessionStorage", sessionStorage]]) {
    for (let i = 0; i < store.length; i++) {
      const k = store.key(i);
      check(name + " " + k, k + " " + store.getItem(k));
    }
  }
  check("document.cookie", document.cookie);
  const req = (r) => new Promise((ok, fail) => { r.onsuccess = () => ok(r.result); r.onerror = () => fail(r.error); });
  for (const info of await indexedDB.databases()) {
    const db = await req(indexedDB.open(info.name));
    for (const name of db.objectStoreNames) {
      const store = db.transaction(name).objectStore(name);
      const keys = await req(store.getAllKeys());
      const values = await req(store.getAll());
      check("indexedDB " + info.name + "/" + name, JSON.stringify(keys) + JSON.stringify(values));
    }
    db.close();
  }
  for (const name of await caches.keys()) {
    for (const r of await (await caches.open(name)).keys()) {
      check("cache " + name, r.url);
    }
  }
  return found;
})()`
}

// TestNoTokenInStorage signs in through the form: the node puts the
// refresh token in an HttpOnly cookie that scripts cannot read, the app
// keeps the access token in memory, and nothing the page can read holds
// either. A reload stays signed in (through the cookie). A token planted
// on purpose at the end proves the scan finds one.
func TestNoTokenInStorage(t *testing.T) {
	srv := startServer(t)
	b := newBrowser(t, "gina", 1280, 800)
	b.open(srv.base + "/room/general")
	b.click("tab-signup")
	b.waitFor("the sign-up form", `document.getElementById("auth-submit").textContent === "Create account"`)
	b.typeInto("auth-username", "gina")
	b.typeInto("auth-password", password)
	b.click("auth-submit")
	b.waitFor("the room", roomReady)
	b.waitCached()
	cookie := b.refreshCookie(srv.base)
	if cookie == "" {
		t.Fatal("no refresh cookie after sign-up")
	}
	if found := awaitEval[[]string](b, findSecrets(cookie)); len(found) != 0 {
		t.Fatalf("tokens readable by scripts after sign-up: %q", found)
	}

	b.open(srv.base + "/room/general")
	b.waitFor("the room after a reload", roomReady+` && document.querySelector(".me-name")?.textContent === "gina"`)
	// What a visit pays for keeping the access token in memory only: one
	// refresh before the first connection (reported, not asserted).
	t.Logf("refresh on a repeat visit: %.1f ms", eval[float64](b, `performance.getEntriesByType("resource").filter((e) => e.name.endsWith("/api/refresh")).reduce((sum, e) => sum + e.duration, 0)`))
	cookie = b.refreshCookie(srv.base)
	if found := awaitEval[[]string](b, findSecrets(cookie)); len(found) != 0 {
		t.Fatalf("tokens readable by scripts after a reload: %q", found)
	}

	access := srv.login(t, "gina").AccessToken
	eval[bool](b, `(localStorage.setItem("planted", `+jsString(access)+`), true)`)
	if found := awaitEval[[]string](b, findSecrets(cookie)); len(found) != 1 || found[0] != "localStorage planted" {
		t.Fatalf("the scan found %q, want the planted token", found)
	}
}

// TestLegacySessionMigrates starts the app where an older version left
// both tokens in localStorage: the app deletes them, hands the refresh
// token to the node, which moves it to the cookie, and stays signed in
// across a reload.
func TestLegacySessionMigrates(t *testing.T) {
	srv := startServer(t)
	old := srv.signup(t, "hank")
	b := newBrowser(t, "hank", 1280, 800)
	b.do(chromedp.Navigate(srv.base + "/manifest.webmanifest"))
	eval[bool](b, `(localStorage.setItem("parley.session", `+jsString(mustJSON(t, old))+`), true)`)
	b.open(srv.base + "/room/general")
	b.waitFor("the room", roomReady)
	if eval[bool](b, `localStorage.getItem("parley.session") !== null`) {
		t.Fatal("the old session is still in localStorage")
	}
	if c := b.refreshCookie(srv.base); c == "" || c == old.RefreshToken {
		t.Fatalf("refresh cookie %q: want the old token's successor", c)
	}
	b.open(srv.base + "/room/general")
	b.waitFor("the room after a reload", roomReady+` && document.querySelector(".me-name")?.textContent === "hank"`)
}

// TestTabsRefreshInTurn: two tabs of one browser share the refresh cookie,
// which rotates. With the grace for a rotated token cut to 1 ms, two
// refreshes presenting the same cookie would end the session. A third tab
// holds the refresh lock while both app tabs reload (a reload forgets the
// access token, so each must refresh): both wait for the lock, and once it
// is released each refreshes in turn and both stay signed in.
func TestTabsRefreshInTurn(t *testing.T) {
	srv := startServer(t, "--refresh-grace", "1ms")
	one := newBrowser(t, "ivy-1", 1280, 800)
	one.seed(srv.base, srv.signup(t, "ivy"))
	room := srv.base + "/room/general"
	one.open(room)
	one.waitFor("the room", roomReady)
	two := one.newTab("ivy-2")
	two.open(room)
	two.waitFor("the room", roomReady)

	holder := one.newTab("holder")
	holder.do(chromedp.Navigate(srv.base + "/manifest.webmanifest"))
	awaitEval[bool](holder, `new Promise((held) => navigator.locks.request("parley.refresh", () => {
  held(true);
  return new Promise((release) => { window.__release = release; });
}))`)
	eval[bool](holder, `(setInterval(async () => {
  window.__waiting = (await navigator.locks.query()).pending.filter((l) => l.name === "parley.refresh").length;
}, 50), true)`)
	for _, b := range []*browser{one, two} {
		b.open(room)
	}
	holder.waitFor("both tabs waiting for the refresh lock", `window.__waiting === 2`)
	for _, b := range []*browser{one, two} {
		if eval[bool](b, roomReady) {
			t.Fatalf("%s is connected without a refresh", b.name)
		}
	}
	eval[bool](holder, `(window.__release(), true)`)
	for _, b := range []*browser{one, two} {
		b.waitFor("the room after refreshing in turn", roomReady)
	}
	// The session is intact: both reload and refresh again.
	for _, b := range []*browser{one, two} {
		b.open(room)
	}
	for _, b := range []*browser{one, two} {
		b.waitFor("the room after another reload", roomReady+` && document.querySelector(".me-name")?.textContent === "ivy"`)
		if strings.Contains(eval[string](b, `document.body.innerText`), "session has ended") {
			t.Fatalf("%s: the session ended", b.name)
		}
	}
}

func mustJSON(t *testing.T, s protocol.Session) string {
	t.Helper()
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestTabsSignOutTogether: signing out in one tab signs out the browser's
// other tab at once (BroadcastChannel: its notice says so, where a tab
// that found out by itself would say the session ended), and signing in
// in one tab signs the other in.
func TestTabsSignOutTogether(t *testing.T) {
	srv := startServer(t)
	one := newBrowser(t, "lee-1", 1280, 800)
	one.seed(srv.base, srv.signup(t, "lee"))
	one.open(srv.base + "/room/general")
	one.waitFor("the room", roomReady)
	two := one.newTab("lee-2")
	two.open(srv.base + "/room/general")
	two.waitFor("the room", roomReady)

	one.click("sign-out")
	one.waitFor("the sign-in form", `document.getElementById("auth-form")`)
	two.signedOut("You signed out in another tab.")

	two.signIn("lee", password)
	two.waitFor("signed in", signedIn("lee"))
	one.waitFor("the other tab signed in too", signedIn("lee")+` && !document.getElementById("conn-status")`)
}
