package node

import (
	"net"
	"net/http"
	"net/netip"
	"strings"

	"github.com/parleychat/parley/server/api"
)

// clientIP names a request's client for rate limits. A request from a
// trusted proxy is attributed to the rightmost X-Forwarded-For address that
// is not itself a trusted proxy; anything else to its own peer address, so a
// client cannot pick its own bucket by forging the header.
func (n *Node) clientIP(r *http.Request) string {
	if len(n.cfg.TrustedProxies) == 0 || !n.trusted(remoteAddr(r.RemoteAddr)) {
		return api.ClientIP(r)
	}
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		addr, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			break
		}
		if !n.trusted(addr) {
			if addr = addr.Unmap(); addr.Is6() {
				return netip.PrefixFrom(addr, 64).Masked().String() // as api.ClientIP does
			}
			return addr.String()
		}
	}
	return api.ClientIP(r)
}

func (n *Node) trusted(addr netip.Addr) bool {
	if !addr.IsValid() {
		return false
	}
	addr = addr.Unmap()
	for _, p := range n.cfg.TrustedProxies {
		if p.Contains(addr) {
			return true
		}
	}
	return false
}

func remoteAddr(hostport string) netip.Addr {
	host, _, err := net.SplitHostPort(hostport)
	if err != nil {
		host = hostport
	}
	addr, _ := netip.ParseAddr(host)
	return addr
}
