//go:build !(js && wasm)

package e2e

import (
	"context"
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
