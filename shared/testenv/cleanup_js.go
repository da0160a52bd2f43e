//go:build js

package testenv

// cleanupProcess has nothing to remove in the browser: no process is
// started there.
func cleanupProcess() {}
