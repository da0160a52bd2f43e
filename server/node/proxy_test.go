package node

import (
	"net/http/httptest"
	"net/netip"
	"testing"
)

func TestClientIPBehindTrustedProxies(t *testing.T) {
	n := &Node{cfg: Config{TrustedProxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("127.0.0.1/32")}}}
	cases := []struct {
		remote, xff, want string
	}{
		{"203.0.113.5:1234", "", "203.0.113.5"},
		{"203.0.113.5:1234", "198.51.100.7", "203.0.113.5"},          // untrusted peer: header ignored
		{"127.0.0.1:1234", "198.51.100.7", "198.51.100.7"},           // nginx in front
		{"127.0.0.1:1234", "6.6.6.6, 198.51.100.7", "198.51.100.7"},  // forged left part ignored
		{"127.0.0.1:1234", "198.51.100.7, 10.1.2.3", "198.51.100.7"}, // two trusted hops
		{"127.0.0.1:1234", "garbage", "127.0.0.1"},
		{"127.0.0.1:1234", "2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"},
	}
	for _, c := range cases {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = c.remote
		if c.xff != "" {
			r.Header.Set("X-Forwarded-For", c.xff)
		}
		if got := n.clientIP(r); got != c.want {
			t.Errorf("remote %s xff %q: got %q, want %q", c.remote, c.xff, got, c.want)
		}
	}
}
