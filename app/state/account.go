package state

import (
	"strings"
	"time"

	"github.com/parleychat/parley/shared/protocol"
)

// DeviceLabel names the browser and system of a session from its user
// agent, for the account page: "Chrome on Linux". The full user agent is
// for a tooltip.
func DeviceLabel(ua string) string {
	if strings.TrimSpace(ua) == "" {
		return "Unknown device"
	}
	browser := firstMatch(ua, [][2]string{
		{"Edg/", "Edge"}, {"OPR/", "Opera"}, {"Firefox/", "Firefox"},
		{"Chrome/", "Chrome"}, {"Chromium/", "Chromium"}, {"Safari/", "Safari"},
		{"Go-http-client", "Parley terminal client"},
	})
	if browser == "" {
		browser = "Unknown browser"
	}
	system := firstMatch(ua, [][2]string{
		{"Android", "Android"}, {"iPhone", "iOS"}, {"iPad", "iPadOS"}, {"CrOS", "ChromeOS"},
		{"Windows", "Windows"}, {"Mac OS X", "macOS"}, {"Linux", "Linux"},
	})
	if system == "" {
		return browser
	}
	return browser + " on " + system
}

// firstMatch returns the name of the first pattern ua contains, "" for
// none. Order matters: Edge and Opera also say Chrome, Chrome says Safari,
// Android says Linux.
func firstMatch(ua string, patterns [][2]string) string {
	for _, p := range patterns {
		if strings.Contains(ua, p[0]) {
			return p[1]
		}
	}
	return ""
}

// SeenLabel says when a session was last used: "Today at 14:05",
// "Yesterday at 09:00", "3 March at 18:30".
func SeenLabel(ts int64, now time.Time, loc *time.Location) string {
	return DayLabel(ts, now, loc) + " at " + Clock(ts, loc)
}

// AccountErrorText turns an API error code and message into a sentence for
// the account page. code is "" for a network failure.
func AccountErrorText(code, message string) string {
	switch code {
	case protocol.ErrUnauthorized:
		return "Wrong password."
	case protocol.ErrNotFound:
		return "That session has already ended."
	case protocol.ErrBadRequest, protocol.ErrTooLarge:
		return sentenceOr(message, "That was not accepted.")
	}
	return RoomErrorText(code, message)
}
