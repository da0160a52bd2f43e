package state

import (
	"testing"
	"time"

	"github.com/parleychat/parley/shared/protocol"
)

func TestDeviceLabel(t *testing.T) {
	cases := map[string]string{
		"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36":                                   "Chrome on Linux",
		"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/131.0.0.0 Safari/537.36":                           "Chrome on Linux",
		"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0":           "Edge on Windows",
		"Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15":                      "Safari on macOS",
		"Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1": "Safari on iOS",
		"Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36":                   "Chrome on Android",
		"Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0":                                                          "Firefox on Linux",
		"Go-http-client/1.1": "Parley terminal client",
		"curl/8.5.0":         "Unknown browser",
		"":                   "Unknown device",
	}
	for ua, want := range cases {
		if got := DeviceLabel(ua); got != want {
			t.Errorf("DeviceLabel(%q) = %q, want %q", ua, got, want)
		}
	}
}

func TestSeenLabel(t *testing.T) {
	loc := time.UTC
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, loc)
	if got := SeenLabel(now.Add(-2*time.Hour).UnixMilli(), now, loc); got != "Today at 10:00" {
		t.Errorf("two hours ago: %q", got)
	}
	if got := SeenLabel(now.Add(-24*time.Hour).UnixMilli(), now, loc); got != "Yesterday at 12:00" {
		t.Errorf("a day ago: %q", got)
	}
}

func TestAccountErrorText(t *testing.T) {
	cases := []struct{ code, msg, want string }{
		{protocol.ErrUnauthorized, "wrong password", "Wrong password."},
		{protocol.ErrBadRequest, "password must be at least 8 characters", "Password must be at least 8 characters."},
		{protocol.ErrNotFound, "", "That session has already ended."},
		{"", "", "Can't reach Parley. Check your connection."},
	}
	for _, c := range cases {
		if got := AccountErrorText(c.code, c.msg); got != c.want {
			t.Errorf("AccountErrorText(%q, %q) = %q, want %q", c.code, c.msg, got, c.want)
		}
	}
}
