//go:build !(js && wasm)

package ui

import "context"

// withTabLock runs f: outside the browser there is one App per process
// and its refreshMu is enough.
func withTabLock(_ context.Context, _ string, f func() error) error { return f() }
