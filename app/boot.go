//go:build !js

package app

import (
	"fmt"
	"strings"
)

// bootJS is added to go-app's app.js (the page script that registers the
// service worker and starts app.wasm). It does what go-app does not:
//
//   - It paints the last view the app saved (parley.snapshot in
//     localStorage) while app.wasm loads, so a repeat visit shows the room
//     with its newest messages at once. The snapshot is data, not markup:
//     a tree of elements from an allowlist of tags and attributes, with
//     text as text, built again with createElement and textContent (never
//     innerHTML), so a message with markup or a stored string someone
//     tampered with cannot run. It is marked data-snapshot and aria-busy,
//     its controls inert (the rest stays readable); go-app replaces it
//     with the live view when the app mounts, since it takes the body's
//     first element for its root. A
//     snapshot of another version, another page or another user (the one
//     parley.profile names) is never shown; sign-out deletes it with every
//     other parley.* key (app/ui/persist.go).
//   - When nobody is signed in, it shows the page's prerendered sign-in
//     page (data-prerender, what the app will draw) instead of go-app's
//     loader, which covered it until app.wasm ran: the first paint is the
//     page itself, not a loader swapped for it seconds later. Its
//     controls are inert until the app replaces it.
//   - It saves the snapshot a second after the view changed (a
//     MutationObserver notes the change; the save waits for an idle
//     moment) and when the page is hidden; a view that did not change
//     since the last save is not saved again.
//   - It defines parleyNotify, which shows a system notification for a
//     mention (app/ui/notify.go).
//   - It hands app.wasm's Response to instantiateStreaming as it is
//     (parleyFetchWasm).
//   - It registers the service worker only once the app has started, and
//     on a first visit puts its copy of app.wasm into the worker's cache
//     first (parleyKeepWasm), so app.wasm is downloaded once, not by the
//     page and the worker's install at the same time. (A page that loads no
//     app.wasm, go-app's ?wasm=false or a crawler, registers none.)
const bootJS = `// -----------------------------------------------------------------------------
// Parley: snapshot of the last view, painted before app.wasm runs
// -----------------------------------------------------------------------------
const parleySnapshotKey = "parley.snapshot";
// parleySnapshotRows bounds the messages kept in a snapshot: a screenful
// and more, not the history.
const parleySnapshotRows = 40;
// parleySnapshotTags and parleySnapshotAttrs are all a snapshot may hold;
// anything else (with what is inside it) is left out when it is saved and
// when it is painted. Attributes starting with aria- and data- are kept too.
const parleySnapshotTags = new Set(["a", "aside", "bdi", "button", "div", "footer", "form", "h1", "h2", "h3",
  "header", "input", "label", "li", "main", "nav", "option", "p", "section", "select", "span", "textarea", "time", "ul"]);
const parleySnapshotAttrs = new Set(["class", "datetime", "dir", "for", "hidden", "href", "id", "lang", "name",
  "placeholder", "role", "rows", "title", "type"]);
// parleySnapshotSkip matches what a snapshot leaves out, with what is
// inside it: what may have changed by the next visit (and #typing's
// contents).
const parleySnapshotSkip = ".banner, .room-error, .room-retrying, #jump-newest, #unread-divider";
let parleySnapshotTimer = 0;
// parleySnapshotDirty: the view changed since the last save.
let parleySnapshotDirty = false;

function parleySnapshotAttr(name, value) {
  if (name === "href") {
    // Links of the app only: "/room/x", never "//host" or "javascript:".
    return /^\/(?![\/\\])/.test(value);
  }
  return parleySnapshotAttrs.has(name) || ((name.startsWith("aria-") || name.startsWith("data-")) && name !== "data-snapshot");
}

// parleySnapshotTree turns an element into [tag, {attr: value}, children],
// children being trees or strings (text), leaving out the nodes in skip.
function parleySnapshotTree(el, skip) {
  const attrs = {};
  for (const a of el.attributes) {
    if (parleySnapshotAttr(a.name, a.value)) {
      attrs[a.name] = a.value;
    }
  }
  const children = [];
  for (const c of el.childNodes) {
    if (skip.has(c)) {
      continue;
    }
    if (c.nodeType === Node.TEXT_NODE) {
      children.push(c.data);
    } else if (c.nodeType === Node.ELEMENT_NODE && parleySnapshotTags.has(c.localName)) {
      children.push(parleySnapshotTree(c, skip));
    }
  }
  return [el.localName, attrs, children];
}

// parleySnapshotBuild builds the element a tree describes, checking it
// against the allowlists again: the stored string is not trusted.
function parleySnapshotBuild(tree) {
  const [tag, attrs, children] = tree;
  if (!parleySnapshotTags.has(tag)) {
    return null;
  }
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (typeof value === "string" && parleySnapshotAttr(name, value)) {
      el.setAttribute(name, value);
    }
  }
  for (const c of children || []) {
    if (typeof c === "string") {
      el.append(document.createTextNode(c));
    } else if (Array.isArray(c)) {
      const child = parleySnapshotBuild(c);
      if (child) {
        el.append(child);
      }
    }
  }
  return el;
}

// parleySignedIn is the user parley.profile names, "" for none.
function parleySignedIn() {
  try {
    return JSON.parse(localStorage.getItem("parley.profile") || "{}").user || "";
  } catch (err) {
    return "";
  }
}

// parleyHideLoader hides go-app's loader, which covers the page until
// app.wasm runs; app.js still removes it then.
function parleyHideLoader() {
  const loader = document.getElementById("app-wasm-loader");
  if (loader) {
    loader.style.display = "none";
  }
}

// parleyInert makes the controls of a view painted before app.wasm runs
// do nothing yet: they take no focus and no clicks (a sign-in form
// submitted before the app runs would put the password in the URL). The
// rest stays readable.
function parleyInert(view) {
  view.setAttribute("aria-busy", "true");
  view.querySelectorAll("a, button, input, select, textarea").forEach((e) => { e.inert = true; });
}

function parleyPaintSnapshot() {
  try {
    const raw = localStorage.getItem(parleySnapshotKey);
    const user = parleySignedIn();
    if (!user) {
      // The prerendered sign-in page is the app's first view.
      const first = document.body.firstElementChild;
      if (first && first.hasAttribute("data-prerender")) {
        parleyInert(first);
        parleyHideLoader();
        parleyEarlyPaint = true;
      }
      return;
    }
    if (!raw) {
      return;
    }
    const snap = JSON.parse(raw);
    if (snap.version !== goappEnv.GOAPP_VERSION || snap.path !== location.pathname ||
        snap.user !== user || !Array.isArray(snap.tree)) {
      return;
    }
    const view = parleySnapshotBuild(snap.tree);
    const first = document.body.firstElementChild;
    if (!view || !first || first.id === "app-wasm-loader") {
      return;
    }
    view.setAttribute("data-snapshot", "");
    parleyInert(view);
    const list = view.querySelector("#messages");
    if (list) {
      // Its rows' controls are inert: the list itself takes the focus,
      // so a keyboard can scroll it.
      list.tabIndex = 0;
    }
    // The list opens scrolled to its newest row by CSS (parley.css: while
    // data-opening is set, the end is its only snap position) and is free
    // to scroll after the first frame. Setting scrollTop here made the
    // browser lay the page out in this task, before app.wasm was even
    // asked for.
    view.setAttribute("data-opening", "");
    first.replaceWith(view);
    parleyHideLoader();
    parleyEarlyPaint = true;
    requestAnimationFrame(() => setTimeout(() => view.removeAttribute("data-opening"), 0));
  } catch (err) {
    console.warn("parley: the saved view was not shown:", err);
  }
}

// parleySaveSnapshot saves the view as a snapshot if it changed since the
// last save (parleySnapshotDirty), and watches for the next change.
function parleySaveSnapshot() {
  clearTimeout(parleySnapshotTimer);
  parleySnapshotTimer = 0;
  if (!parleySnapshotDirty) {
    return;
  }
  parleySnapshotDirty = false;
  parleySnapshotWatch.observe(document.body, { subtree: true, childList: true, characterData: true, attributes: true });
  const root = document.body.firstElementChild;
  const user = parleySignedIn();
  // The view must be the signed-in user's: another tab may have signed
  // in as someone else.
  if (!root || root.hasAttribute("data-snapshot") || !root.matches(".layout") || !user ||
      root.querySelector(".me-name")?.textContent !== user) {
    return;
  }
  // The tree is read from the live view, leaving out what may have
  // changed by the next visit and all but the newest rows: copying the
  // whole view first cost more than reading it.
  const skip = new Set(root.querySelectorAll(parleySnapshotSkip));
  root.querySelector("#typing")?.childNodes.forEach((n) => skip.add(n));
  const rows = root.querySelectorAll("#messages > .msg, #messages > .day");
  for (let i = 0; i < rows.length - parleySnapshotRows; i++) {
    skip.add(rows[i]);
  }
  try {
    localStorage.setItem(parleySnapshotKey, JSON.stringify({
      version: goappEnv.GOAPP_VERSION,
      path: location.pathname,
      user: user,
      tree: parleySnapshotTree(root, skip),
    }));
  } catch (err) {
    // A full storage only costs the next visit its early paint.
  }
}

// parleySnapshotChanged is whether a mutation changed what a snapshot
// holds: not the parts it leaves out, not an attribute it does not keep
// (the style the app sets through the CSSOM).
function parleySnapshotChanged(rec) {
  const el = rec.target.nodeType === Node.ELEMENT_NODE ? rec.target : rec.target.parentElement;
  if (!el || el.closest(parleySnapshotSkip + ", #typing")) {
    return false;
  }
  switch (rec.type) {
  case "attributes":
    return parleySnapshotAttr(rec.attributeName, "/");
  case "childList":
    return [...rec.addedNodes, ...rec.removedNodes].some((n) => n.nodeType !== Node.ELEMENT_NODE || !n.matches(parleySnapshotSkip));
  default:
    return true;
  }
}

// parleyWhenIdle runs f when the page's thread is idle (within 5 s), or
// in the next task where the browser has no requestIdleCallback (Safari).
function parleyWhenIdle(f) {
  if (window.requestIdleCallback) {
    requestIdleCallback(f, { timeout: 5000 });
  } else {
    setTimeout(f, 0);
  }
}

// parleySnapshotWatch notes the first change of the view after a save and
// schedules the next save a second later, when the page's thread is idle:
// a view that does not change is not saved again, and a burst of changes
// is saved once. It stops watching until that save.
const parleySnapshotWatch = new MutationObserver((records) => {
  if (records.some(parleySnapshotChanged)) {
    parleySnapshotWatch.disconnect();
    parleySnapshotDirty = true;
    parleySnapshotTimer = setTimeout(() => parleyWhenIdle(parleySaveSnapshot), 1000);
  }
});
parleySnapshotWatch.observe(document.body, { subtree: true, childList: true, characterData: true, attributes: true });

document.addEventListener("visibilitychange", () => {
  if (document.visibilityState === "hidden") {
    parleySaveSnapshot();
  }
});
window.addEventListener("pagehide", parleySaveSnapshot);

// parleyNotify shows a system notification; a click on it brings this tab
// forward on path. Where the Notification constructor throws (Chrome on
// Android), the service worker shows it, and go-app's worker routes the
// click to path.
function parleyNotify(title, body, tag, path) {
  const options = { body: body, tag: tag, icon: "/web/icon-192.png" };
  try {
    const n = new Notification(title, options);
    n.onclick = () => {
      window.focus();
      goappNav(path);
      n.close();
    };
  } catch (err) {
    if (goappServiceWorkerRegistration) {
      options.data = { goapp: { path: path, actions: [] } };
      goappServiceWorkerRegistration.showNotification(title, options).catch((e) => console.warn("parley: notification:", e));
    }
  }
}

// parleyFetchWasm hands the browser the Response of app.wasm itself, so V8
// compiles it while it streams in and keeps the compiled code for the next
// visit. go-app's fetchWithProgress re-wraps the body in a new Response for
// its progress bar, and a Response built from a stream has no URL to cache
// the code under: every visit compiled the module again. On a first visit
// (no service worker yet) a clone of the body drives the progress label and
// another goes into the service worker's cache (parleyKeepWasm). The
// service worker is registered only once that is done and the app has
// started (parleyAppStarted), or app.wasm could not be fetched: its
// install precaches the app, and registered with the page it downloaded
// app.wasm a second time while the page did, and ran beside the app's
// start.
let parleyWasmKept = Promise.resolve();

// parleyEarlyPaint: the page shows the snapshot or the prerendered
// sign-in page. app.wasm is then asked for only once the browser painted
// it: its bytes arrive in large chunks the page's thread takes in (and
// compiles) between frames, which held that first frame back, so the
// view painted at once became the largest contentful paint seconds later.
let parleyEarlyPaint = false;

// parleyAfterPaint resolves in a task after the next frame, at once in a
// hidden page (which paints no frames), and after 100 ms at the latest.
function parleyAfterPaint() {
  if (document.visibilityState === "hidden") {
    return Promise.resolve();
  }
  return new Promise((resolve) => {
    requestAnimationFrame(() => setTimeout(resolve, 0));
    setTimeout(resolve, 100);
  });
}

async function parleyFetchWasm(url, progress) {
  if (parleyEarlyPaint) {
    await parleyAfterPaint();
  }
  let response;
  try {
    response = await fetch(url);
  } catch (err) {
    goappInitServiceWorker();
    throw err;
  }
  if (navigator.serviceWorker && navigator.serviceWorker.controller) {
    return response;
  }
  parleyWasmKept = parleyKeepWasm(url, response.clone());
  const total = parseInt(goappWasmContentLength, 10);
  if (total > 0 && response.ok) {
    const reader = response.clone().body.getReader();
    (async () => {
      let loaded = 0;
      for (;;) {
        const { done, value } = await reader.read();
        if (done) {
          return;
        }
        loaded += value.byteLength;
        progress(Math.min(100, Math.round((loaded * 100) / total)));
      }
    })().catch(() => {});
  }
  return response;
}

// parleyAppStarted runs once go.run has returned: the Go program ran
// until it first waited (signed out, after its first render).
function parleyAppStarted() {
  parleyWasmKept.finally(goappInitServiceWorker);
}

// parleyKeepWasm puts a first visit's app.wasm into the cache the service
// worker of this version precaches into ("app-" and the version), whose
// install then leaves it out (app/worker.go): only a response of this
// version (its ETag is the version) goes in, so an install never mixes
// versions; anything else is downloaded by the install as before.
async function parleyKeepWasm(url, response) {
  try {
    if (!("caches" in window) || !response.ok || response.headers.get("ETag") !== '"' + goappEnv.GOAPP_VERSION + '"') {
      return;
    }
    const cache = await caches.open("app-" + goappEnv.GOAPP_VERSION);
    await cache.put(url, response);
  } catch (err) {
    console.warn("parley: app.wasm was not kept for the service worker:", err);
  }
}

`

// appJSPatches are the changes to go-app's app.js, each applied once.
var appJSPatches = [][2]string{
	// Paint the snapshot first: the page is parsed (app.js is deferred).
	// The service worker is registered later, by parleyFetchWasm.
	{"goappInitServiceWorker();\n", "parleyPaintSnapshot();\n"},
	{"instantiateStreaming(\n      fetchWithProgress(", "instantiateStreaming(\n      parleyFetchWasm("},
	{"go.run(wasm.instance);\n", "go.run(wasm.instance);\n    parleyAppStarted();\n"},
}

// patchAppJS returns go-app's app.js with bootJS and appJSPatches. It fails
// when go-app's script no longer contains a part it replaces, so an upgrade
// cannot silently lose them.
func patchAppJS(js string) (string, error) {
	for _, p := range appJSPatches {
		if strings.Count(js, p[0]) != 1 {
			return "", fmt.Errorf("patch app.js: go-app's script changed near %.40q", p[0])
		}
		js = strings.Replace(js, p[0], p[1], 1)
	}
	return bootJS + js, nil
}
