//go:build !(js && wasm)

package ui

// tabChannel is nil outside the browser: one App per process, no tabs.
type tabChannel struct{}

func openTabChannel(func(tabMessage)) *tabChannel { return nil }

func (*tabChannel) post(tabMessage) {}
