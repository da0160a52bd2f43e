//go:build !(js && wasm)

package e2e

import (
	"context"
	"io"
	"net/http"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/chromedp/chromedp"
)

// count is how many rows show body.
func count(b *browser, body string) int {
	b.t.Helper()
	return eval[int](b, `Array.from(document.querySelectorAll("#messages .msg .body")).filter(e => e.textContent === `+jsString(body)+`).length`)
}

// waitCached waits until the service worker controls the page and holds the
// app shell and app.wasm.
func (b *browser) waitCached() {
	b.t.Helper()
	b.waitForWithin(appTimeout, "the service worker", `navigator.serviceWorker && navigator.serviceWorker.controller`)
	for i := 0; ; i++ {
		ctx, cancel := context.WithTimeout(b.ctx, pollTimeout)
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](
			`(async () => !!(await caches.match("/web/app.wasm")) && !!(await caches.match("/")))()`,
			chromedp.EvalAwaitPromise))
		cancel()
		if err == nil && ok {
			return
		}
		if i == 100 {
			b.fail("%s: the offline cache never filled (last error %v)", b.name, err)
		}
		eval[bool](b, `new Promise(r => setTimeout(() => r(true), 200))`)
	}
}

// TestOfflineAndRecovery kills the node: the app says so, keeps accepting
// messages as pending, reopens from the service worker's cache with its
// history and outbox, and delivers the outbox once the node is back.
func TestOfflineAndRecovery(t *testing.T) {
	srv := startServer(t)
	alice, bob := newBrowser(t, "alice", 1280, 800), newBrowser(t, "bob", 1280, 800)
	alice.seed(srv.base, srv.signup(t, "alice"))
	bob.seed(srv.base, srv.signup(t, "bob"))
	for _, b := range []*browser{alice, bob} {
		b.open(srv.base + "/room/general")
		b.waitFor("the room", roomReady)
	}
	alice.typeInto("composer", "before outage")
	alice.do(pressEnter(false))
	bob.waitFor("the first message", hasBody("before outage"))
	alice.waitCached()
	if eval[bool](alice, `!!document.querySelector(".banner.info")`) {
		t.Error("the first visit announces a new version")
	}

	srv.stop(t)
	for _, b := range []*browser{alice, bob} {
		b.waitFor("the connection banner", `document.getElementById("conn-status")?.textContent.includes("Reconnecting")`)
	}
	alice.typeInto("composer", "sent while offline")
	alice.do(pressEnter(false))
	alice.waitFor("the pending message", rowOf("sent while offline")+`?.matches(".pending")`)
	alice.screenshot("offline")

	// A reload with the node down: the service worker serves the app, the
	// app shows its cached history and the unsent message.
	alice.open(srv.base + "/room/general")
	alice.waitFor("cached history", hasBody("before outage"))
	alice.waitFor("the outbox after the reload", rowOf("sent while offline")+`?.matches(".pending")`)
	alice.screenshot("offline-reload")

	srv.start(t)
	alice.waitForWithin(appTimeout, "the outbox delivered", `!document.getElementById("conn-status") && `+rowOf("sent while offline")+`?.matches(":not(.pending)")`)
	bob.waitForWithin(appTimeout, "the offline message at bob", hasBody("sent while offline"))
	bob.waitFor("bob reconnected", `!document.getElementById("conn-status")`)
	for _, b := range []*browser{alice, bob} {
		b.waitFor("both present again", present("alice")+" && "+present("bob"))
	}
	for _, b := range []*browser{alice, bob} {
		for _, body := range []string{"before outage", "sent while offline"} {
			if n := count(b, body); n != 1 {
				t.Errorf("%s shows %q %d times", b.name, body, n)
			}
		}
	}
	alice.screenshot("recovered")
}

// wasmRequests reads how many requests for app.wasm the node answered,
// from its /metrics (which it answers to a client on its own machine).
func wasmRequests(t *testing.T, srv *server) int {
	t.Helper()
	resp, err := http.Get(srv.base + "/metrics")
	if err != nil {
		t.Fatalf("read the metrics: %v", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("read the metrics: status %d, %v", resp.StatusCode, err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "parley_app_wasm_requests_total "); ok {
			n, err := strconv.Atoi(strings.TrimSpace(v))
			if err != nil {
				t.Fatalf("metric line %q: %v", line, err)
			}
			return n
		}
	}
	t.Fatalf("no parley_app_wasm_requests_total in the metrics:\n%s", b)
	return 0
}

// TestFirstVisitFetchesWasmOnce: a first visit asks the node for app.wasm
// once, not once for the page and once for the service worker's install
// (the page keeps its copy for the worker, which it registers after);
// the worker's cache holds this version's app.wasm, and a reload with
// the node gone opens the app from it.
func TestFirstVisitFetchesWasmOnce(t *testing.T) {
	srv := startServer(t)
	alice := newBrowser(t, "alice", 1280, 800)
	alice.seed(srv.base, srv.signup(t, "alice"))
	if n := wasmRequests(t, srv); n != 0 {
		t.Fatalf("%d requests for app.wasm before the visit", n)
	}
	alice.open(srv.base + "/room/general")
	alice.waitFor("the room", roomReady)
	alice.waitCached()
	if n := wasmRequests(t, srv); n != 1 {
		t.Errorf("the first visit asked for app.wasm %d times, want once", n)
	}
	version := eval[string](alice, `goappEnv.GOAPP_VERSION`)
	etag := awaitEval[string](alice, `(async () => (await (await caches.open("app-" + goappEnv.GOAPP_VERSION)).match("/web/app.wasm")).headers.get("ETag"))()`)
	if etag != `"`+version+`"` {
		t.Errorf("the cached app.wasm has ETag %s, want this version's %q", etag, version)
	}

	srv.stop(t)
	alice.open(srv.base + "/room/general")
	alice.waitFor("the room from the cache", `document.querySelector(".layout:not([data-snapshot]) #composer")`)
}

// TestPageFromWorkerCache: once the service worker has a page of its
// version, a visit is answered from its cache without waiting for the
// node. The node is frozen (SIGSTOP: connections are accepted and never
// answered, as on a stalled network, not refused as when it is gone):
// the room's page, its own (its title, not the app shell's), still
// paints the last view; the app connects once the node runs again.
func TestPageFromWorkerCache(t *testing.T) {
	srv := startServer(t)
	alice := newBrowser(t, "alice", 1280, 800)
	alice.seed(srv.base, srv.signup(t, "alice"))
	room := srv.base + "/room/general"
	alice.open(room)
	alice.waitFor("the room", roomReady)
	alice.typeInto("composer", "kept page")
	alice.do(pressEnter(false))
	alice.waitFor("the ack", rowOf("kept page")+`?.matches(":not(.pending)")`)
	alice.waitCached()
	// The first visit's page came before the worker: this one goes
	// through it, which keeps the page.
	alice.open(room)
	alice.waitFor("the room", roomReady)
	alice.waitAsync("the page kept", `caches.open("app-" + goappEnv.GOAPP_VERSION).then((c) => c.match(location.href)).then((r) => !!r)`)

	if err := srv.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	thawed := false
	thaw := func() {
		if !thawed {
			thawed = true
			if err := srv.Signal(syscall.SIGCONT); err != nil {
				t.Error(err)
			}
		}
	}
	t.Cleanup(thaw)
	alice.do(chromedp.Navigate(room))
	alice.waitFor("the room painted from the worker's cache", `document.title === "#general · Parley" && `+hasBody("kept page"))
	thaw()
	alice.waitForWithin(appTimeout, "the app live", roomReady+" && "+hasBody("kept page"))
}
