// Package ui is Parley's browser app: go-app components (sign-in, room
// list, room view, composer, presence) and the one app-level client they
// observe.
//
// The app-level client ([App]) lives outside the components: it owns the
// WebSocket client (shared/client), the session, the room list and each
// room's timeline, and persists the room list, a bounded window of each
// room's history and the unsent messages in IndexedDB (cache.go), and who
// is signed in, settings and the page's snapshot in localStorage
// (persist.go). Tokens never reach storage: the refresh token
// is the node's HttpOnly cookie (cookie mode), the access token stays in
// memory. It is created in the browser only, on the first
// component mount — never during the server's prerender, which renders the
// sign-in page (marked data-prerender: the page script shows it before
// app.wasm runs when nobody is signed in). Components register
// a watcher in OnMount and re-render through ctx.Dispatch when it fires; all
// mutation happens in App under its mutex.
//
// Routes registers the pages; both the WebAssembly main and the server call
// it before serving.
package ui
