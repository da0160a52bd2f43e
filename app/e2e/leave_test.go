//go:build !(js && wasm)

package e2e

import (
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/parleychat/parley/shared/client"
	"github.com/parleychat/parley/shared/protocol"
)

// samePage marks the page, and sameStill holds while no reload replaced
// it since.
const (
	samePage  = `window.__samePage = true`
	sameStill = `window.__samePage === true`
)

// TestLeftRoomOpensAgain: bob leaves a private room from its members
// panel and goes back to it with the browser's back button: without a
// reload he sees what a reload shows a stranger (the room as missing),
// none of its messages, not "You left". He leaves a public room (on
// another device) while it is open, goes to the list and back: the room
// opens again, as it does after a reload (opening joins it).
func TestLeftRoomOpensAgain(t *testing.T) {
	srv := startServer(t)
	ctx := t.Context()
	aliceSess, bobSess := srv.signup(t, "alice"), srv.signup(t, "bob")
	privateRoom(t, srv, aliceSess, "hideout", "bob")
	postMessages(t, srv, aliceSess, "hideout", "hideout secret")
	api := client.NewAPI(srv.base, nil)
	publicRoom(t, srv, aliceSess, "club")
	postMessages(t, srv, aliceSess, "club", "club talk")
	bob := newBrowser(t, "bob", 1280, 800)
	bob.seed(srv.base, bobSess)

	bob.open(srv.base + "/room/hideout")
	bob.waitFor("the private room", roomReady+" && "+hasBody("hideout secret")+" && "+member("bob", protocol.RoleMember))
	eval[chromedp.Void](bob, samePage)
	bob.click("leave-room")
	bob.waitFor("back at the list", `location.pathname === "/" && !`+roomLink("hideout"))
	eval[chromedp.Void](bob, `history.back()`)
	bob.waitFor("the room as a stranger sees it", `location.pathname === "/room/hideout" && !!document.getElementById("create-missing") && !document.getElementById("room-removed")`)
	if !eval[bool](bob, sameStill) {
		t.Fatal("the page was reloaded")
	}
	if eval[bool](bob, hasBody("hideout secret")) {
		t.Fatal("the room left still shows its messages")
	}
	// A reload shows the same.
	bob.open(srv.base + "/room/hideout")
	bob.waitFor("the room as missing after a reload", `!!document.getElementById("create-missing") && !document.getElementById("room-removed")`)

	bob.open(srv.base + "/room/club")
	// Joined (the inbox's joined event listed it) before he leaves: a
	// joined event that comes after the removal reopens the room.
	bob.waitFor("the public room, joined", roomReady+" && "+hasBody("club talk")+" && "+roomLink("club")+`?.matches('[data-watched="true"]')`)
	eval[chromedp.Void](bob, samePage)
	if _, err := api.Remove(ctx, bobSess.AccessToken, "club", "bob"); err != nil {
		t.Fatal(err)
	}
	bob.waitFor("told he left", `!!document.getElementById("room-removed")`)
	bob.appBooted()
	bob.do(clickSel("#room-removed a"))
	bob.waitFor("back at the list", `location.pathname === "/"`)
	eval[chromedp.Void](bob, `history.back()`)
	bob.waitFor("the public room open again", `location.pathname === "/room/club" && !document.getElementById("room-removed") && `+roomReady+" && "+hasBody("club talk"))
	if !eval[bool](bob, sameStill) {
		t.Fatal("the page was reloaded")
	}
	// It is a membership again, as opening it after a reload makes it.
	bob.waitFor("club joined again", roomLink("club")+`?.matches('[data-watched="true"]')`)
}

// inList is true when the sidebar lists room in the list id ("my-rooms":
// the user's rooms; "open-rooms": public rooms to join).
func inList(id, room string) string {
	return `!!document.querySelector('#` + id + ` .room-link[data-room="` + room + `"]')`
}

// TestLeftPublicRoomListedToJoin: a public room bob joined is among his
// rooms; once he left it (on another device) it is listed among the
// public rooms to join, not his, live and after a reload, as the node
// lists it (no role).
func TestLeftPublicRoomListedToJoin(t *testing.T) {
	srv := startServer(t)
	ctx := t.Context()
	aliceSess, bobSess := srv.signup(t, "alice"), srv.signup(t, "bob")
	api := client.NewAPI(srv.base, nil)
	publicRoom(t, srv, aliceSess, "club")
	bob := newBrowser(t, "bob", 1280, 800)
	bob.seed(srv.base, bobSess)
	bob.open(srv.base + "/")
	bob.waitFor("club to join", roomsLive+" && "+inList("open-rooms", "club")+" && !"+inList("my-rooms", "club"))
	bob.open(srv.base + "/room/club")
	bob.waitFor("club joined, among his rooms", roomReady+" && "+inList("my-rooms", "club")+" && !"+inList("open-rooms", "club"))

	if _, err := api.Remove(ctx, bobSess.AccessToken, "club", "bob"); err != nil {
		t.Fatal(err)
	}
	bob.waitFor("club to join again, live", `!!document.getElementById("room-removed") && `+inList("open-rooms", "club")+" && !"+inList("my-rooms", "club"))
	rooms, err := api.Rooms(ctx, bobSess.AccessToken)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rooms {
		if r.Name == "club" && r.Role != "" {
			t.Fatalf("the node lists club for bob with the role %q after he left", r.Role)
		}
	}
	bob.open(srv.base + "/")
	bob.waitFor("club to join after a reload", roomsLive+" && "+inList("open-rooms", "club")+" && !"+inList("my-rooms", "club"))
	bob.audit("the room list with rooms to join")
}

// TestLeavePublicRoom: a public room's member leaves it from the room's
// side panel: back at the list, the room is listed among the public rooms
// to join, and the node agrees. Its last owner is first told who takes it
// over, and the member named becomes its owner.
func TestLeavePublicRoom(t *testing.T) {
	srv := startServer(t)
	ctx := t.Context()
	aliceSess, bobSess := srv.signup(t, "alice"), srv.signup(t, "bob")
	api := client.NewAPI(srv.base, nil)
	publicRoom(t, srv, aliceSess, "club")
	role := func(s protocol.Session, room string) string {
		t.Helper()
		rooms, err := api.Rooms(ctx, s.AccessToken)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rooms {
			if r.Name == room {
				return r.Role
			}
		}
		t.Fatalf("%s is not listed", room)
		return ""
	}

	bob := newBrowser(t, "bob", 1280, 800)
	bob.seed(srv.base, bobSess)
	bob.open(srv.base + "/room/club")
	bob.waitFor("club joined", roomReady+" && "+inList("my-rooms", "club"))
	bob.waitFor("the leave button", `(b => b && !b.hidden && !b.disabled)(document.getElementById("leave-room"))`)
	bob.audit("a public room with its leave button")
	bob.click("leave-room")
	bob.waitFor("back at the list, club to join", `location.pathname === "/" && `+inList("open-rooms", "club")+" && !"+inList("my-rooms", "club"))
	if r := role(bobSess, "club"); r != "" {
		t.Fatalf("bob still has the role %q in club", r)
	}

	// bob joins again, and alice, the only owner, leaves: the room passes
	// to him, after she saw it said.
	bob.open(srv.base + "/room/club")
	bob.waitFor("club joined again", roomReady+" && "+inList("my-rooms", "club"))
	alice := newBrowser(t, "alice", 1280, 800)
	alice.seed(srv.base, aliceSess)
	alice.open(srv.base + "/room/club")
	alice.waitFor("her room", roomReady+" && "+inList("my-rooms", "club"))
	alice.waitFor("the leave button", `(b => b && !b.hidden && !b.disabled)(document.getElementById("leave-room"))`)
	alice.click("leave-room")
	alice.waitFor("who takes the room over", `document.getElementById("leave-warning")?.textContent.includes("bob becomes the owner") && document.activeElement?.id === "leave-confirm"`)
	if r := role(aliceSess, "club"); r != protocol.RoleOwner {
		t.Fatalf("alice left before confirming: role %q", r)
	}
	alice.click("leave-confirm")
	alice.waitFor("back at the list, club to join", `location.pathname === "/" && `+inList("open-rooms", "club"))
	if r := role(bobSess, "club"); r != protocol.RoleOwner {
		t.Fatalf("bob's role after alice left: %q, want owner", r)
	}
}
