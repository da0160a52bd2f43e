//go:build !(js && wasm)

package e2e

import (
	"testing"
)

// visible holds when the element matching sel is rendered.
func visible(sel string) string {
	return `(e => !!e && e.getClientRects().length > 0 && getComputedStyle(e).visibility !== "hidden")(document.querySelector(` + jsString(sel) + `))`
}

// TestPhoneLayout checks the app at a 360 px wide phone screen: one pane at
// a time, the presence list behind a button, nothing wider than the screen.
func TestPhoneLayout(t *testing.T) {
	srv := startServer(t)
	bob := srv.signup(t, "bob")
	alice := newBrowser(t, "alice", 360, 740)
	alice.seed(srv.base, srv.signup(t, "alice"))
	other := newBrowser(t, "bob", 1280, 800)
	other.seed(srv.base, bob)
	other.open(srv.base + "/room/general")
	other.waitFor("the room", roomReady)
	other.typeInto("composer", "A fairly long message to see how bubbles wrap on a narrow phone screen, with a long-word-that-does-not-break-anywhere-at-all-ever.")
	other.do(pressEnter(false))

	noOverflow := `document.documentElement.scrollWidth <= window.innerWidth`
	alice.open(srv.base + "/")
	alice.waitFor("the room list", visible(".sidebar")+" && "+visible(`.room-link[data-room="general"]`))
	// The main pane keeps only its banners (none now) and, for screen
	// readers, the welcome heading.
	alice.waitFor("no room pane", "!"+visible(".room")+" && !"+visible(".welcome .button")+` && document.querySelector(".main").getBoundingClientRect().height < 2`)
	alice.waitFor("no horizontal scrolling", noOverflow)
	alice.screenshot("rooms")

	alice.click("general-link")
	alice.waitFor("the room alone", visible(".room")+" && !"+visible(".sidebar"))
	alice.waitFor("the room", roomReady)
	alice.waitFor("bob's message", `document.querySelector("#messages .msg .body")`)
	alice.waitFor("the presence list hidden", "!"+visible("#people"))
	alice.waitFor("two people counted", `document.getElementById("people-count").textContent === "2"`)
	alice.waitFor("no horizontal scrolling", noOverflow)
	alice.screenshot("room")

	alice.click("people-toggle")
	alice.waitFor("the presence list", visible("#people")+" && "+present("bob"))
	alice.screenshot("people")
	alice.click("people-toggle")
	alice.waitFor("the presence list closed", "!"+visible("#people"))

	alice.do(clickSel(".back"))
	alice.waitFor("the room list again", `location.pathname === "/" && `+visible(".sidebar"))
}
