// Command wasmpatch prepares the js/wasm build of app.wasm with Parley's
// patched copies of a few dependency files:
//
//	go run ./build/wasmpatch -o build/.wasmpatch
//	GOWORK=$PWD/build/.wasmpatch/go.work GOOS=js GOARCH=wasm \
//		go build -overlay build/.wasmpatch/overlay.json ... ./app/cmd/wasm
//
// go-app's pkg/app (http.go, resource.go) and coder/websocket's ws_js.go
// import net/http in js/wasm too, which keeps about 2 MB of package
// initializers (net/http, crypto/tls, crypto/x509 and the curves behind
// them) in app.wasm though a browser never runs them. The replacements,
// one file per upstream file, are in _replace/<module path>/<file>; each
// starts with a comment saying what it changes and why. upstream.sha256
// records the SHA-256 of every upstream original, as module@version/file.
//
// For each module it finds the directory of the version go.mod asks for
// (go list -m, downloading it if needed), fails when that version or an
// upstream file's SHA-256 differs from the recorded one (a go.mod bump:
// the patch must then be redone against the new file), and writes into
// the -o directory:
//
//   - mod/<n>: a symbolic link to the module's directory in the module cache;
//   - go.work: a workspace of this module whose replace directives point
//     each patched module, at the same version, at its link;
//   - overlay.json: the -overlay file mapping each upstream file, under
//     its link, to its replacement.
//
// The link and the workspace exist because the go command refuses an
// overlay of files beneath GOMODCACHE; the files read are the module
// cache's own, and go.mod and go.sum are untouched. Everything written holds
// this machine's paths, so it is generated at build time and never
// committed. Native builds (the server serves go-app's Handler) use
// neither file.
package main

import (
	"flag"
	"fmt"
	"log"
	"os"
)

func main() {
	log.SetFlags(0)
	log.SetPrefix("wasmpatch: ")
	out := flag.String("o", "build/.wasmpatch", "directory to write go.work, overlay.json and the module links into")
	flag.Parse()
	if flag.NArg() != 0 {
		fmt.Fprintln(flag.CommandLine.Output(), "usage: wasmpatch [-o DIR]")
		os.Exit(2)
	}
	if err := run(*out); err != nil {
		log.Fatal(err)
	}
}

func run(out string) error {
	root, err := moduleRoot()
	if err != nil {
		return err
	}
	patches, err := readPatches(root)
	if err != nil {
		return err
	}
	dirs := make(map[string]string)
	for _, p := range patches {
		if _, ok := dirs[p.Module]; ok {
			continue
		}
		dir, err := moduleDir(root, p.Module, p.Version)
		if err != nil {
			return err
		}
		dirs[p.Module] = dir
	}
	if err := checkUpstream(patches, dirs); err != nil {
		return err
	}
	return write(out, root, patches, dirs)
}
