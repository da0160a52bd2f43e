//go:build !(js && wasm)

package ui

// Outside the browser there are no frames: f runs at once, on its own
// goroutine as in the browser.
func afterPaint(f func()) { go f() }
