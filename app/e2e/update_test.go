//go:build !(js && wasm)

package e2e

import "testing"

// TestUpdateBanner deploys a new version (the node restarts with another
// --app-version): the open tab keeps running the version it loaded and
// offers "Reload to update"; the reload runs the new version only, with
// the old one's cache gone.
func TestUpdateBanner(t *testing.T) {
	srv := startServer(t, "--app-version", "v1")
	alice := newBrowser(t, "alice", 1280, 800)
	alice.seed(srv.base, srv.signup(t, "alice"))
	alice.open(srv.base + "/room/general")
	alice.waitFor("the room", roomReady)
	alice.waitCached()
	if v := eval[string](alice, `goappEnv.GOAPP_VERSION`); v != "v1" {
		t.Fatalf("the page runs version %q, want v1", v)
	}
	alice.typeInto("composer", "from v1")
	alice.do(pressEnter(false))
	alice.waitFor("the message sent", rowOf("from v1")+`?.matches(":not(.pending)")`)
	if eval[bool](alice, `!!document.getElementById("update-banner")`) {
		t.Fatal("the update banner shows before any update")
	}

	srv.stop(t)
	srv.SetArgs("--log-level", "debug", "--app-version", "v2")
	srv.start(t)
	// The reconnect asks the service worker to look for an update.
	alice.waitForWithin(appTimeout, "the update banner", `document.getElementById("update-reload")`)
	alice.screenshot("update-banner")
	if v := eval[string](alice, `goappEnv.GOAPP_VERSION`); v != "v1" {
		t.Fatalf("before the reload the page runs version %q, want v1 still", v)
	}
	// The old version keeps working until the user reloads.
	alice.waitFor("the room live", roomReady)
	alice.typeInto("composer", "still v1")
	alice.do(pressEnter(false))
	alice.waitFor("the message sent", rowOf("still v1")+`?.matches(":not(.pending)")`)

	alice.click("update-reload")
	alice.waitForWithin(appTimeout, "the new version", `typeof goappEnv === "object" && goappEnv.GOAPP_VERSION === "v2"`)
	alice.waitForWithin(appTimeout, "the app to start", `!document.getElementById("app-wasm-loader") && document.querySelector(".layout:not([data-snapshot])")`)
	alice.waitFor("the room", roomReady+" && "+hasBody("from v1")+" && "+hasBody("still v1"))
	if eval[bool](alice, `!!document.getElementById("update-banner")`) {
		t.Error("the new version still offers an update")
	}
	keys := awaitEval[[]string](alice, `caches.keys()`)
	if len(keys) != 1 || keys[0] != "app-v2" {
		t.Errorf("caches after the update: %q, want only app-v2", keys)
	}
	// The new version's cache holds the new version's app.wasm.
	if etag := awaitEval[string](alice, `(async () => (await caches.match("/web/app.wasm")).headers.get("ETag"))()`); etag != `"v2"` {
		t.Errorf("the cached app.wasm after the update has ETag %s, want \"v2\"", etag)
	}
}
