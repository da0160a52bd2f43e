//go:build !(js && wasm)

package e2e

import (
	"testing"
)

// badge is the unread badge of room in the sidebar.
func badge(room string) string {
	return roomLink(room) + `?.querySelector(".badge")`
}

// TestUnreadBadges: alice writes in a room bob has in his list but not
// open; the badge rises in both of bob's tabs (the mention one, read as
// "2 unread, 1 mention") and the title shows the total. Bob opens the
// room in one tab: it shows "New messages" above alice's first message,
// and the badge and the title's count clear in the other tab.
func TestUnreadBadges(t *testing.T) {
	srv := startServer(t)
	aliceSess, bobSess := srv.signup(t, "alice"), srv.signup(t, "bob")
	privateRoom(t, srv, aliceSess, "team", "bob")
	alice, bob := newBrowser(t, "alice", 1280, 800), newBrowser(t, "bob", 1280, 800)
	alice.seed(srv.base, aliceSess)
	bob.seed(srv.base, bobSess)
	bob.open(srv.base + "/")
	bob2 := bob.newTab("bob-2")
	bob2.open(srv.base + "/")
	for _, b := range []*browser{bob, bob2} {
		b.waitFor("the room list", roomsLive)
		b.waitFor("team, nothing unread", roomLink("team")+" && !"+badge("team"))
	}

	alice.open(srv.base + "/room/team")
	alice.waitFor("the room", roomReady)
	alice.send("hello bob")
	alice.waitFor("the first message stored", hasBody("hello bob"))
	alice.send("look @bob")
	alice.waitFor("the second message", hasBody("look @bob"))

	for _, b := range []*browser{bob, bob2} {
		b.waitFor("the mention badge", badge("team")+`?.matches('.badge.mention[data-unread="2"][data-mentions="1"]') && `+
			badge("team")+`.querySelector(".sr-only").textContent === "2 unread, 1 mention"`)
		b.waitFor("the count in the title", `document.title.startsWith("(2) ")`)
	}

	bob.click("team-link")
	bob.waitFor("the room", roomReady)
	bob.waitFor("the divider above alice's first message", `document.getElementById("unread-divider")?.nextElementSibling?.textContent.includes("hello bob")`)
	bob.waitFor("the badge cleared where the room is open", "!"+badge("team"))
	bob2.waitFor("the badge cleared in the other tab", "!"+badge("team"))
	bob2.waitFor("the title without a count", `!document.title.startsWith("(")`)
}
