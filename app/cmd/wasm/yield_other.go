//go:build !js

package main

// yieldToBrowser does nothing outside the browser (see yield_js.go).
func yieldToBrowser() {}

// started does nothing outside the browser (see yield_js.go).
func started() {}
