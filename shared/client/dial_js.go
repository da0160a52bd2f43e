//go:build js

package client

import "github.com/coder/websocket"

// HTTPClient stands for net/http's Client, which the browser build does
// not import (it costs app.wasm about 2 MB): the browser dials by itself.
type HTTPClient struct{}

// dialOptions is empty in the browser: it sets the Origin itself and lets
// no page choose headers, which is why the token travels in the first
// frame.
func (c *Client) dialOptions() *websocket.DialOptions {
	return &websocket.DialOptions{}
}
