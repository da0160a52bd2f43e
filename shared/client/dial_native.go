//go:build !js

package client

import (
	"net/http"

	"github.com/coder/websocket"
)

// HTTPClient is the HTTP client a native client dials with
// (Config.HTTPClient): net/http's.
type HTTPClient = http.Client

// dialOptions sets the HTTP client and the Origin header, which only a
// native dial controls.
func (c *Client) dialOptions() *websocket.DialOptions {
	opts := &websocket.DialOptions{HTTPClient: c.cfg.HTTPClient}
	if c.cfg.Origin != "" {
		opts.HTTPHeader = http.Header{"Origin": {c.cfg.Origin}}
	}
	return opts
}
