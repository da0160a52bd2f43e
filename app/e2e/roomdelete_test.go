//go:build !(js && wasm)

package e2e

import (
	"testing"

	"github.com/parleychat/parley/shared/protocol"
)

// TestDeleteRoomInApp: alice, owner of a private room, deletes it from
// the people panel after a confirm step (Delete focused; Keep gives the
// focus back); bob, a member who has the room open, is told it was
// deleted, and the room leaves his list and his cache. Bob, not an
// owner, is never offered to delete it.
func TestDeleteRoomInApp(t *testing.T) {
	srv := startServer(t)
	aliceSess, bobSess := srv.signup(t, "alice"), srv.signup(t, "bob")
	privateRoom(t, srv, aliceSess, "club", "bob")
	alice, bob := newBrowser(t, "alice", 1280, 800), newBrowser(t, "bob", 1280, 800)
	alice.seed(srv.base, aliceSess)
	bob.seed(srv.base, bobSess)

	bob.open(srv.base + "/room/club")
	bob.waitFor("the room", roomReady)
	bob.send("before the end")
	bob.waitFor("the ack", rowOf("before the end")+`?.matches(":not(.pending)")`)
	bob.waitCachedRecord("the message", "messages", `"bob","club"`, "before the end")
	if eval[bool](bob, `!!document.getElementById("delete-room")`) {
		t.Fatal("a plain member is offered to delete the room")
	}

	alice.open(srv.base + "/room/club")
	alice.waitFor("the room", roomReady)
	// The panel is laid out (bob present, the members listed) before the
	// click: a click lands where the button was, and rows added above it
	// move it down.
	alice.waitFor("the delete button, the panel laid out", `document.getElementById("delete-room") && `+present("bob")+` && `+member("bob", protocol.RoleMember))
	alice.click("delete-room")
	alice.waitFor("the question, Delete focused", textOf("delete-room-ask")+` === "Delete #club and all its messages for everyone?" && document.activeElement?.id === "delete-room-confirm"`)
	alice.screenshot("delete-room-ask")
	alice.click("delete-room-cancel")
	alice.waitFor("the button back, focused", `document.activeElement?.id === "delete-room" && document.getElementById("delete-room-ask").offsetParent === null`)
	alice.waitFor("the room still listed", roomLink("club"))
	alice.click("delete-room")
	alice.waitFor("Delete focused", `document.activeElement?.id === "delete-room-confirm"`)
	alice.click("delete-room-confirm")
	alice.waitFor("the room list, without the room", `location.pathname === "/" && !`+roomLink("club"))

	bob.waitFor("the deletion", `document.querySelector("#room-removed h2")?.textContent === "This room was deleted"`)
	bob.waitFor("the room gone from the list", "!"+roomLink("club"))
	bob.waitAsync("the room's messages gone from the cache", cachedCond("messages", `"bob","club"`)+`.then((rs) => rs.length === 0)`)
	bob.screenshot("room-deleted")
}
