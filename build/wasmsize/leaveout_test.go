package main

import (
	"go/ast"
	"go/build"
	"go/parser"
	"go/token"
	"path/filepath"
	"slices"
	"testing"
)

// TestBrowserBuildLeavesOutSlog keeps log/slog out of app.wasm: the client
// logs through its own Logger interface (about 190 KB of app.wasm).
func TestBrowserBuildLeavesOutSlog(t *testing.T) {
	deps, err := goList("github.com/parleychat/parley/app/cmd/wasm")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(deps, "github.com/parleychat/parley/shared/client") {
		t.Fatalf("app.wasm no longer depends on shared/client; deps: %v", deps)
	}
	if slices.Contains(deps, "log/slog") {
		t.Error("app.wasm links log/slog")
	}
}

// TestBrowserHTTPClientIsNotNetHTTP keeps client.HTTPClient an empty struct
// in the browser build: were it net/http's Client, its Response's TLS state
// would keep crypto/x509's methods in app.wasm (about 290 KB).
func TestBrowserHTTPClientIsNotNetHTTP(t *testing.T) {
	ctx := build.Default
	ctx.GOOS, ctx.GOARCH = "js", "wasm"
	dir := filepath.Join("..", "..", "shared", "client")
	pkg, err := ctx.ImportDir(dir, 0)
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	var spec *ast.TypeSpec
	for _, name := range pkg.GoFiles {
		f, err := parser.ParseFile(fset, filepath.Join(dir, name), nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			if ts, ok := n.(*ast.TypeSpec); ok && ts.Name.Name == "HTTPClient" {
				spec = ts
			}
			return true
		})
	}
	if spec == nil {
		t.Fatal("shared/client declares no HTTPClient for js/wasm")
	}
	st, ok := spec.Type.(*ast.StructType)
	if spec.Assign.IsValid() || !ok || st.Fields.NumFields() != 0 {
		t.Errorf("HTTPClient in js/wasm is %T, want an empty struct type", spec.Type)
	}
}

// TestBrowserBuildLeavesOutNetHTTP keeps net/http, and crypto/tls and
// crypto/x509 behind it, out of app.wasm as make wasm builds it (with
// build/wasmpatch's copies of go-app's and coder/websocket's files): their
// package initializers alone are about 2 MB raw.
func TestBrowserBuildLeavesOutNetHTTP(t *testing.T) {
	deps, err := goList("github.com/parleychat/parley/app/cmd/wasm")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"github.com/maxence-charriere/go-app/v10/pkg/app", "github.com/coder/websocket"} {
		if !slices.Contains(deps, want) {
			t.Fatalf("app.wasm no longer depends on %s; deps: %v", want, deps)
		}
	}
	for _, pkg := range []string{"net/http", "crypto/tls", "crypto/x509"} {
		if slices.Contains(deps, pkg) {
			t.Errorf("app.wasm links %s", pkg)
		}
	}
}
