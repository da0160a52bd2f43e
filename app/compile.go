//go:build !js

package app

// compileWorker is the script of the dedicated worker that compiles
// app.wasm on a repeat visit (app/web; precached by the service worker
// with the rest of the version).
const compileWorker = "/web/compile-worker.js"

// compileJS is added to app.js after bootJS. On a visit a service worker
// controls (a repeat visit: app.wasm is in its cache), the page script
// starts a dedicated worker as soon as it runs, before it paints the
// snapshot, and that worker reads and compiles app.wasm
// (WebAssembly.compileStreaming, so V8's code cache is used) while the
// page paints; the page instantiates the WebAssembly.Module it posts back
// after the first frame (parleyInstantiate). Before, app.wasm was asked
// for only after that frame, and its bytes were taken in on the page's
// thread. Where the worker cannot be started or fails, the page fetches
// and compiles app.wasm itself, as on a first visit (parleyFetchWasm).
const compileJS = `// -----------------------------------------------------------------------------
// Parley: app.wasm compiled in a worker on a repeat visit
// -----------------------------------------------------------------------------
// parleyCompiled resolves to app.wasm's WebAssembly.Module compiled by
// the worker, or null when the page must fetch and compile it itself.
const parleyCompiled = parleyCompileInWorker("/web/` + wasmName + `");

function parleyCompileInWorker(url) {
  if (!("serviceWorker" in navigator) || !navigator.serviceWorker.controller ||
      !window.Worker || !goappCanLoadWebAssembly()) {
    return Promise.resolve(null);
  }
  return new Promise((resolve) => {
    let worker;
    const done = (module) => {
      worker?.terminate();
      resolve(module);
    };
    try {
      worker = new Worker("` + compileWorker + `");
    } catch (err) {
      console.warn("parley: app.wasm is compiled on the page:", err);
      done(null);
      return;
    }
    performance.mark("parley: app.wasm compile worker started");
    worker.onmessage = (event) => {
      if (event.data && event.data.module instanceof WebAssembly.Module) {
        performance.mark("parley: app.wasm compiled in the worker");
        done(event.data.module);
        return;
      }
      console.warn("parley: app.wasm is compiled on the page:", event.data && event.data.error);
      done(null);
    };
    worker.onerror = (event) => {
      event.preventDefault();
      console.warn("parley: app.wasm is compiled on the page:", event.message);
      done(null);
    };
    worker.postMessage(url);
  });
}

// parleyInstantiate instantiates the module the worker compiled, after
// the page painted the snapshot (parleyEarlyPaint), or else compiles the
// Response fetchWasm returns as go-app does.
async function parleyInstantiate(instantiateStreaming, fetchWasm, importObject) {
  const painted = parleyEarlyPaint ? parleyAfterPaint() : null;
  const module = await parleyCompiled;
  if (!module) {
    return instantiateStreaming(fetchWasm(), importObject);
  }
  await painted;
  return { module: module, instance: await WebAssembly.instantiate(module, importObject) };
}

`

// compileJSPatches are the changes to app.js (after appJSPatches) that
// compileJS needs.
var compileJSPatches = [][2]string{
	{"instantiateStreaming(\n      parleyFetchWasm(", "parleyInstantiate(instantiateStreaming, () => parleyFetchWasm("},
}
