//go:build js

package client

import "github.com/coder/websocket"

// HTTPClient has no fields in the browser, which dials by itself:
// Config.HTTPClient has no effect there. On native platforms it is
// net/http's Client. It is not that type here because net/http's Client
// reaches its Response, whose TLS state drags crypto/x509's methods into
// app.wasm (about 290 KB) though nothing in a browser calls them.
type HTTPClient struct{}

// dialOptions is empty in the browser: it sets the Origin itself and lets
// no page choose headers, which is why the token travels in the first
// frame.
func (c *Client) dialOptions() *websocket.DialOptions {
	return &websocket.DialOptions{}
}
