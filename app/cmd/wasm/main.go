// Command wasm is Parley's browser app, built as app.wasm:
//
//	GOOS=js GOARCH=wasm go build -trimpath -ldflags="-s -w" -o build/web/app.wasm ./app/cmd/wasm
//
// It registers the pages and hands control to go-app. It imports only the
// UI packages, never the server.
package main

import (
	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"github.com/parleychat/parley/app/ui"
)

func main() {
	ui.Routes()
	app.RunWhenOnBrowser()
}
