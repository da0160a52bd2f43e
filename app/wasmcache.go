//go:build !js

package app

// wasmCacheJS is added to app.js after bootJS. On a visit a service worker
// controls, parleyFetchWasm takes app.wasm from this version's cache
// ("app-" and the version, which the worker precached or the first
// visit filled: parleyKeepWasm) with the Cache Storage API, not through
// the worker's fetch handler; a cache without it leaves the fetch as it
// was. Only this version's cache is read, so the page, its scripts and
// app.wasm stay of one version.
//
// What it changes, measured (app/README.md, "Start-up and the page
// script"): given a Response of the page's own, not the worker's, V8
// takes the module the last visit compiled in the same renderer process
// (its in-process module cache) instead of deserializing its code cache.
const wasmCacheJS = `// -----------------------------------------------------------------------------
// Parley: app.wasm from this version's Cache Storage on a repeat visit
// -----------------------------------------------------------------------------
// parleyCachedWasm resolves to this version's cached app.wasm, or null.
async function parleyCachedWasm(url) {
  if (!navigator.serviceWorker || !navigator.serviceWorker.controller || !("caches" in window)) {
    return null;
  }
  try {
    // caches.match with a cacheName, not caches.open: a version whose
    // cache does not exist yet is not created empty here.
    const cached = await caches.match(url, { cacheName: "app-" + goappEnv.GOAPP_VERSION });
    if (cached && cached.ok) {
      performance.mark("parley: app.wasm from Cache Storage");
      return cached;
    }
  } catch (err) {
    console.warn("parley: app.wasm is fetched:", err);
  }
  return null;
}

`
