package node

import (
	"net/http"
	"strings"
	"time"

	"github.com/parleychat/parley/shared/protocol"
)

// contentSecurityPolicy is the page's CSP. go-app loads everything from
// the origin: its scripts (wasm_exec.js, app.js) and style sheets are
// files, the app sets no style attributes (the only style change,
// boot.js hiding the loader, goes through the CSSOM, which CSP allows),
// and app.wasm needs 'wasm-unsafe-eval'. connect-src names the page's own
// ws:// and wss:// origins for the WebSocket; %s is the request's host.
const contentSecurityPolicy = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; " +
	"style-src 'self'; img-src 'self' data:; font-src 'self'; connect-src 'self' ws://%s wss://%s; " +
	"manifest-src 'self'; worker-src 'self'; object-src 'none'; base-uri 'none'; " +
	"form-action 'self'; frame-ancestors 'none'"

// harden sets the security headers every answer carries, and the read and
// write deadlines of every request but the WebSocket upgrade (a hijacked
// connection keeps its deadlines: the WebSocket's writer owns its timers).
func (n *Node) harden(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		host := r.Host
		if strings.ContainsAny(host, " ;,'\"") {
			host = "invalid.invalid"
		}
		h.Set("Content-Security-Policy", strings.ReplaceAll(contentSecurityPolicy, "%s", host))
		h.Set("X-Frame-Options", "DENY")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		rc := http.NewResponseController(w)
		if r.URL.Path == protocol.PathWS {
			_ = rc.SetReadDeadline(time.Time{})
			_ = rc.SetWriteDeadline(time.Time{})
		} else {
			now := time.Now()
			_ = rc.SetReadDeadline(now.Add(n.cfg.APIReadTimeout))
			_ = rc.SetWriteDeadline(now.Add(n.cfg.APIWriteTimeout))
		}
		next.ServeHTTP(w, r)
	})
}
