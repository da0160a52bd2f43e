//go:build !(js && wasm)

package e2e

import "testing"

// goRunWatch wraps the Go class of wasm_exec.js (from before the page's
// scripts): when the program is started it posts a message to itself,
// and notes whether go-app had mounted its page (the prerendered sign-in
// page replaced) by the time the message arrived. Messages are handled in
// the order they were posted, so the note says whether the program gave
// the page's thread back before its first mount.
const goRunWatch = `(() => {
  let Go;
  Object.defineProperty(window, "Go", {
    configurable: true,
    get() { return Go; },
    set(v) {
      const run = v.prototype.run;
      v.prototype.run = function (instance) {
        const ch = new MessageChannel();
        ch.port1.onmessage = () => {
          window.parleyMountedBeforeYield = !document.querySelector("[data-prerender]");
          ch.port1.close();
        };
        ch.port2.postMessage(null);
        return run.call(this, instance);
      };
      Go = v;
    },
  });
})()`

// TestFirstVisitStartsInTasks: on a first visit, signed out, the page
// asks for app.wasm only once the browser has shown its first
// contentful paint (app.wasm's bytes taken in held that frame back), the
// Go program gives the page's thread back before its first mount (its
// first run was one long task), and the visit still downloads app.wasm
// once: the service worker's cache gets the HTTP cache's copy, and the
// app opens from it.
func TestFirstVisitStartsInTasks(t *testing.T) {
	srv := startServer(t)
	b := newBrowser(t, "nell", 1280, 800)
	b.do(recordOnNewDocument(goRunWatch))
	b.open(srv.base + "/")
	b.waitForWithin(appTimeout, "the app's sign-in page", `!document.getElementById("app-wasm-loader") &&
  document.querySelector(".auth-page:not([data-prerender])") && !document.getElementById("auth-username").inert`)
	if mounted := eval[bool](b, `window.parleyMountedBeforeYield`); mounted {
		t.Error("the Go program mounted its first page before it gave the page's thread back")
	}
	order := eval[map[string]float64](b, `({
  paint: performance.getEntriesByName("first-contentful-paint")[0]?.startTime ?? -1,
  wasm: performance.getEntriesByType("resource").find((e) => e.name.endsWith("/web/app.wasm"))?.startTime ?? -1,
})`)
	if order["paint"] < 0 || order["wasm"] < 0 {
		t.Fatalf("no first contentful paint or no app.wasm in the page's timing entries: %v", order)
	}
	if order["wasm"] < order["paint"] {
		t.Errorf("app.wasm was asked for at %.0f ms, before the first contentful paint at %.0f ms", order["wasm"], order["paint"])
	}
	b.waitCached()
	if n := wasmRequests(t, srv); n != 1 {
		t.Errorf("the first visit asked for app.wasm %d times, want once", n)
	}
	srv.stop(t)
	b.open(srv.base + "/")
	b.waitForWithin(appTimeout, "the app's sign-in page from the cache", `!document.getElementById("app-wasm-loader") &&
  document.querySelector(".auth-page:not([data-prerender])")`)
}
