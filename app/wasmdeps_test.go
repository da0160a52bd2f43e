//go:build !wasm

package app

import (
	"os/exec"
	"strings"
	"testing"
)

// TestWasmLeavesOutNetHTTP keeps net/http out of app.wasm: importing it
// anywhere in the app's graph runs the package initializers of net/http,
// crypto/tls and crypto/x509, which the linker cannot drop, about 2 MB raw
// and 450 KB brotli (third_party/go-app/PARLEY.md). The app calls the API
// with fetch; app/ui/internal/http has the method and status names.
func TestWasmLeavesOutNetHTTP(t *testing.T) {
	cmd := exec.Command("go", "list", "-deps", "-f", `{{.ImportPath}}: {{join .Imports " "}}`, "github.com/parleychat/parley/app/cmd/wasm")
	cmd.Env = append(cmd.Environ(), "GOOS=js", "GOARCH=wasm")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		pkg, imports, _ := strings.Cut(line, ": ")
		for _, imp := range strings.Fields(imports) {
			if imp == "net/http" || imp == "crypto/tls" {
				t.Errorf("%s imports %s in the js/wasm build", pkg, imp)
			}
		}
	}
}
