//go:build !js

package client

import "net/http"

// statusText is the text of an HTTP status code, "" if unknown.
func statusText(status int) string { return http.StatusText(status) }
