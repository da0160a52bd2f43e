// Command wasm is Parley's browser app, built as app.wasm by make wasm:
//
//	go run ./build/wasmpatch -o build/.wasmpatch
//	GOWORK=$PWD/build/.wasmpatch/go.work GOOS=js GOARCH=wasm go build \
//		-overlay build/.wasmpatch/overlay.json -trimpath -ldflags="-s -w" -o build/web/app.wasm ./app/cmd/wasm
//
// build/wasmpatch swaps in copies of a few go-app and coder/websocket
// files without net/http; a plain GOOS=js GOARCH=wasm go build works too,
// about 2 MB larger.
//
// It registers the pages and hands control to go-app. It imports only the
// UI packages, never the server.
package main

import (
	"time"

	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"github.com/parleychat/parley/app/ui"
)

// cacheWait bounds how long the app waits for the IndexedDB cache before
// it mounts.
const cacheWait = 1500 * time.Millisecond

func main() {
	ui.Routes()
	// The first frame of a room shows its cached messages: the cache is
	// read before go-app mounts the page (the page's snapshot stays up
	// meanwhile). A cache that takes longer only fills in after.
	ui.Preload(cacheWait)
	app.RunWhenOnBrowser()
}
