//go:build wasm
// +build wasm

package app

// Parley: GenerateStaticWebsite is left out, as Handler is (see PARLEY.md).

func wasmExecJS() string {
	return ""
}
