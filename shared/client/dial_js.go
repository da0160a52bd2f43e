//go:build js

package client

import "github.com/coder/websocket"

// dialOptions is empty in the browser: it sets the Origin itself and lets
// no page choose headers, which is why the token travels in the first
// frame.
func (c *Client) dialOptions() *websocket.DialOptions {
	return &websocket.DialOptions{}
}
