// Parley: compiles app.wasm off the page's thread (app/boot.go,
// parleyCompileInWorker). The page starts this worker as soon as app.js
// runs on a visit its service worker serves, and posts the URL of
// app.wasm; the worker reads it (from the service worker's cache, through
// its fetch handler, as the page would), compiles it streaming, so V8
// takes its compiled code from the code cache, and posts the
// WebAssembly.Module back, or an error, and ends.
self.onmessage = async (event) => {
  try {
    const module = await WebAssembly.compileStreaming(fetch(event.data));
    self.postMessage({ module: module });
  } catch (err) {
    self.postMessage({ error: String(err) });
  }
  self.close();
};
