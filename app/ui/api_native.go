//go:build !(js && wasm)

package ui

import "github.com/parleychat/parley/shared/client"

// newAccountAPI returns the API client for the node at base.
func newAccountAPI(base string) accountAPI { return client.NewAPI(base, nil) }
