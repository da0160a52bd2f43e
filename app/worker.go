//go:build !js

package app

import (
	"fmt"
	"strings"

	goapp "github.com/maxence-charriere/go-app/v10/pkg/app"
)

// stockFetch is the fetch handling of go-app's service worker: answer from
// the precache, else from the network.
const stockFetch = `self.addEventListener("fetch", (event) => {
  event.respondWith(fetchWithCache(event.request));
});

async function fetchWithCache(request) {
  const cachedResponse = await caches.match(request);
  if (cachedResponse) {
    return cachedResponse;
  }
  return await fetch(request);
}`

// parleyFetch replaces it. It leaves API calls and non-GET requests to the
// browser (they are never cached). A page navigation is answered from this
// version's cache when it holds that page (navigate), so a repeat visit
// does not wait for the node; when the network is gone and the cache has
// no copy of the page it answers with the cached app shell ("/"), so a
// deep link such as /room/general opens offline too; the app routes on
// the URL.
const parleyFetch = `self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") {
    return;
  }
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) {
    event.respondWith(fetchWithCache(request));
    return;
  }
  if (url.pathname.startsWith("/api/")) {
    return;
  }
  if (request.mode === "navigate") {
    event.respondWith(navigate(event));
    return;
  }
  event.respondWith(fetchWithCache(request));
});

async function fetchWithCache(request) {
  const cachedResponse = await caches.match(request);
  if (cachedResponse) {
    return cachedResponse;
  }
  return await fetch(request);
}

// navigate answers a page of the app from this version's cache, else
// from the node, keeping the node's answer when it is of this version.
// A page is the same bytes for as long as its version runs (the node's
// answer depends on the version, the origin and the route: the prerender
// is the signed-out page for everyone, the page script decides what
// shows), so a kept page is never asked for again; an update is a new
// worker with a cache of its own.
async function navigate(event) {
  const request = event.request;
  const cache = await caches.open(cacheName);
  const cached = await cache.match(request);
  if (cached) {
    return cached;
  }
  try {
    const response = await fetch(request);
    if (response.ok && ofThisVersion(response)) {
      event.waitUntil(cache.put(request, response.clone()));
    }
    return response;
  } catch (err) {
    const shell = await cache.match("/");
    if (shell) {
      return shell;
    }
    throw err;
  }
}

// ofThisVersion reports whether a page is this worker's version: its ETag
// is the version, with the coding's suffix when compressed (app/compress.go).
function ofThisVersion(response) {
  const etag = (response.headers.get("ETag") || "").replace(/^W\//, "");
  const version = "{{.Version}}";
  return [version, version + "-br", version + "-gzip"].some((v) => etag === '"' + v + '"');
}`

// stockLifecycle is go-app's install and activate handling: async listeners
// that never call waitUntil, so the browser may activate the worker (or stop
// it) before the precache is complete.
const stockLifecycle = `self.addEventListener("install", async (event) => {
  try {
    console.log("installing app worker {{.Version}}");
    await installWorker();
    await self.skipWaiting();
  } catch (error) {
    console.error("error during installation:", error);
  }
});`

// parleyLifecycle makes installation wait for the precache: a worker whose
// precache failed is not installed, and the previous one keeps serving.
const parleyLifecycle = `self.addEventListener("install", (event) => {
  console.log("installing app worker {{.Version}}");
  event.waitUntil(installWorker().then(() => self.skipWaiting()));
});`

// stockInstall is go-app's precache: every resource, from the network.
const stockInstall = `async function installWorker() {
  const cache = await caches.open(cacheName);
  await cache.addAll(resourcesToCache);
}`

// parleyInstall leaves out app.wasm when this version's cache holds it
// already: a first visit's page puts the copy it downloaded there before
// it registers the worker, checked to be of this version (boot.go,
// parleyKeepWasm), so the install does not download it a second time.
// The cache is this version's alone, so nothing of another version is
// ever taken.
var parleyInstall = `async function installWorker() {
  const cache = await caches.open(cacheName);
  const wasm = "/web/` + wasmName + `";
  const have = await cache.match(wasm);
  await cache.addAll(have ? resourcesToCache.filter((r) => r !== wasm) : resourcesToCache);
}`

// workerTemplate returns go-app's service worker with Parley's install,
// precache and fetch handling. (Activation stays as it is: go-app's page script takes a
// worker activated while a controller exists for an update, and awaiting
// clients.claim() there would announce an update on the first visit.) It fails if go-app's template no longer
// contains a part it replaces, so an upgrade cannot silently drop offline
// deep links.
func workerTemplate() (string, error) {
	js := goapp.DefaultAppWorkerJS
	for _, p := range [][2]string{
		{stockLifecycle, parleyLifecycle},
		{stockInstall, parleyInstall},
		{stockFetch, parleyFetch},
	} {
		if strings.Count(js, p[0]) != 1 {
			return "", fmt.Errorf("patch service worker: go-app's template changed near %.40q", p[0])
		}
		js = strings.Replace(js, p[0], p[1], 1)
	}
	return js, nil
}
