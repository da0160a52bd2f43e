package app

import (
	"fmt"
	"strings"
)

// bootJS is added to go-app's app.js (the page script that registers the
// service worker and starts app.wasm). It does two things go-app does not:
//
//   - It paints the last view the app saved (a snapshot of its DOM, in
//     localStorage under parley.snapshot) while app.wasm loads, so a repeat
//     visit shows the room with its messages at once. The snapshot is inert
//     (no focus, no clicks) and marked data-snapshot; go-app replaces it
//     with the live view when the app mounts, since it takes the body's
//     first element for its root. A snapshot of another version, another
//     page or a signed-out browser is never shown.
//   - It defines parleySnapshotSoon, which the app calls after it renders a
//     room, and saves the snapshot when the page is hidden. The snapshot
//     holds no style attribute (the CSP allows none).
//   - It defines parleyNotify, which shows a system notification for a
//     mention (app/ui/notify.go).
const bootJS = `// -----------------------------------------------------------------------------
// Parley: snapshot of the last view, painted before app.wasm runs
// -----------------------------------------------------------------------------
const parleySnapshotKey = "parley.snapshot";
// parleySnapshotRows bounds the messages kept in a snapshot.
const parleySnapshotRows = 60;
let parleySnapshotTimer = 0;

function parleyPaintSnapshot() {
  try {
    const raw = localStorage.getItem(parleySnapshotKey);
    if (!raw || !localStorage.getItem("parley.profile")) {
      return;
    }
    const snap = JSON.parse(raw);
    if (snap.version !== goappEnv.GOAPP_VERSION || snap.path !== location.pathname) {
      return;
    }
    const tpl = document.createElement("template");
    tpl.innerHTML = snap.html;
    const view = tpl.content.firstElementChild;
    const first = document.body.firstElementChild;
    if (!view || !first || first.id === "app-wasm-loader") {
      return;
    }
    view.setAttribute("data-snapshot", "");
    view.setAttribute("aria-busy", "true");
    view.inert = true;
    first.replaceWith(view);
    const list = view.querySelector("#messages");
    if (list) {
      list.scrollTop = list.scrollHeight;
    }
    const loader = document.getElementById("app-wasm-loader");
    if (loader) {
      loader.style.display = "none";
    }
  } catch (err) {
    console.warn("parley: the saved view was not shown:", err);
  }
}

function parleySaveSnapshot() {
  clearTimeout(parleySnapshotTimer);
  parleySnapshotTimer = 0;
  const root = document.body.firstElementChild;
  if (!root || root.hasAttribute("data-snapshot") || !root.matches(".layout") ||
      !localStorage.getItem("parley.profile")) {
    return;
  }
  const copy = root.cloneNode(true);
  const rows = copy.querySelectorAll("#messages > .msg, #messages > .day");
  for (let i = 0; i < rows.length - parleySnapshotRows; i++) {
    rows[i].remove();
  }
  // What may have changed by the next visit is left out.
  copy.querySelectorAll(".banner, #typing > *, .room-error, .room-retrying").forEach((e) => e.remove());
  // Styles set through the CSSOM (the composer's height) are style
  // attributes in the copy, which the CSP refuses to parse back.
  copy.removeAttribute("style");
  copy.querySelectorAll("[style]").forEach((e) => e.removeAttribute("style"));
  try {
    localStorage.setItem(parleySnapshotKey, JSON.stringify({
      version: goappEnv.GOAPP_VERSION,
      path: location.pathname,
      html: copy.outerHTML,
    }));
  } catch (err) {
    // A full storage only costs the next visit its early paint.
  }
}

function parleySnapshotSoon() {
  if (!parleySnapshotTimer) {
    parleySnapshotTimer = setTimeout(parleySaveSnapshot, 1000);
  }
}

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
// (no service worker yet) a clone of the body drives the progress label.
async function parleyFetchWasm(url, progress) {
  const response = await fetch(url);
  if (navigator.serviceWorker && navigator.serviceWorker.controller) {
    return response;
  }
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

`

// appJSPatches are the changes to go-app's app.js, each applied once.
var appJSPatches = [][2]string{
	// Paint the snapshot first: the page is parsed (app.js is deferred).
	{"goappInitServiceWorker();\n", "parleyPaintSnapshot();\ngoappInitServiceWorker();\n"},
	{"instantiateStreaming(\n      fetchWithProgress(", "instantiateStreaming(\n      parleyFetchWasm("},
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
