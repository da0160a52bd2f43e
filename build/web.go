// Package build carries Parley's build outputs into the server binary. The
// folder web/ receives app.wasm (the browser app) and its precompressed
// copies app.wasm.br and app.wasm.gz from `make wasm`; a fresh checkout holds
// only a placeholder so the package always compiles. The app package serves
// these files and reports when app.wasm is missing.
package build

import (
	"embed"
	"io/fs"
)

//go:embed all:web
var web embed.FS

// Web returns the contents of the web/ folder, rooted at the folder itself
// (so "app.wasm", not "web/app.wasm").
func Web() fs.FS {
	sub, err := fs.Sub(web, "web")
	if err != nil {
		// fs.Sub only fails on an invalid path; "web" is valid.
		panic(err)
	}
	return sub
}
