//go:build !(js && wasm)

package e2e

import (
	"context"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// networkOffline makes the browser's network go away (navigator.onLine
// false, the offline event) or come back.
func networkOffline(off bool) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		if _, err := cdp.Call(ctx, t, network.Enable, network.EnableParams{}); err != nil {
			return err
		}
		_, err := cdp.Call(ctx, t, network.OverrideNetworkState, network.OverrideNetworkStateParams{
			Offline: off, Latency: 0, DownloadThroughput: -1, UploadThroughput: -1,
		})
		return err
	})
}

const banner = `document.getElementById("conn-status")`

// TestConnectionBanner: with the server down the banner says the server
// cannot be reached and counts down to the next attempt; with the device
// offline it says that instead; "Retry now" connects before the countdown
// ends.
func TestConnectionBanner(t *testing.T) {
	srv := startServer(t)
	alice := newBrowser(t, "alice", 1280, 800)
	alice.seed(srv.base, srv.signup(t, "alice"))
	alice.open(srv.base + "/room/general")
	alice.waitFor("the room", roomReady)

	srv.stop(t)
	alice.waitFor("the server unreachable", banner+`?.dataset.state === "unreachable" && `+banner+`.textContent.includes("reach the server")`)
	alice.do(networkOffline(true))
	alice.waitFor("the offline banner", banner+`?.dataset.state === "offline" && `+banner+`.textContent.includes("You are offline") && !document.getElementById("retry-now")`)
	alice.waitFor("the phone header offline", `document.getElementById("people-count").textContent === "–"`)
	alice.screenshot("offline")
	alice.do(networkOffline(false))
	alice.waitFor("the server unreachable again", banner+`?.dataset.state === "unreachable"`)

	// Wait for a countdown long enough that Retry now, not the timer,
	// is what reconnects; the backoff grows towards 30 s with jitter.
	for try := 1; ; try++ {
		alice.waitFor("a countdown of more than 5 s", `document.getElementById("retry-now") && +`+banner+`.dataset.retryAt - Date.now() > 5000 && /Reconnecting in \d+ s\./.test(`+banner+`.textContent)`)
		alice.screenshot("countdown")
		srv.start(t)
		retryAt := eval[float64](alice, `+(`+banner+`?.dataset.retryAt ?? 0)`)
		if eval[float64](alice, `Date.now()`) > retryAt-2000 {
			// The server took too long to start: the timer may win.
			if try == 5 {
				t.Fatal("never had a countdown left to cut short")
			}
			alice.waitFor("reconnected", `!`+banner)
			srv.stop(t)
			alice.waitFor("the server unreachable", banner+`?.dataset.state === "unreachable"`)
			continue
		}
		eval[bool](alice, `(() => { const at = `+banner+`.dataset.retryAt; new MutationObserver((_, o) => { if (!document.getElementById("conn-status")) { window.__reconnected = Date.now(); window.__retryAt = +at; o.disconnect(); } }).observe(document.body, { subtree: true, childList: true }); return true; })()`)
		alice.click("retry-now")
		alice.waitFor("reconnected", `window.__reconnected`)
		if eval[bool](alice, `window.__reconnected >= window.__retryAt`) {
			t.Fatal("the connection came back only when the countdown ended, not on Retry now")
		}
		break
	}
	alice.waitFor("the room live again", roomReady)
}
