//go:build !(js && wasm)

package e2e

import (
	"testing"

	"github.com/parleychat/parley/shared/client"
	"github.com/parleychat/parley/shared/protocol"
)

// TestJoinInOneTabListsInAnother: two tabs of one user. Opening a public
// room in one joins it, and the other tab's list shows the membership
// (the room watched) without a reload; after leaving it (on another
// device: both tabs drop the membership), opening it again in one tab
// makes it a membership in the other's list again, live, through the
// inbox's joined event.
func TestJoinInOneTabListsInAnother(t *testing.T) {
	srv := startServer(t)
	ctx := t.Context() // the browsers' waits bound the test, not a budget
	api := client.NewAPI(srv.base, nil)
	alice := srv.signup(t, "alice")
	if _, err := api.CreateRoomOf(ctx, alice.AccessToken, "club", protocol.KindPublic); err != nil {
		t.Fatal(err)
	}
	bob := srv.signup(t, "bob")
	one := newBrowser(t, "bob-1", 1280, 800)
	one.seed(srv.base, bob)
	one.open(srv.base + "/")
	one.waitFor("the live room list", roomsLive)
	two := one.newTab("bob-2")
	two.open(srv.base + "/")
	two.waitFor("the second tab's live room list", roomsLive)
	two.waitFor("club listed, not joined", roomLink("club")+`?.matches(':not([data-watched="true"])')`)

	one.open(srv.base + "/room/club")
	one.waitFor("the room open", `document.querySelector('.room[data-room="club"]')`)
	two.waitFor("club joined in the other tab", roomLink("club")+`?.matches('[data-watched="true"]')`)

	if _, err := api.Remove(ctx, bob.AccessToken, "club", "bob"); err != nil {
		t.Fatal(err)
	}
	// A public room stays listed to everyone: the membership, not the
	// link, is what goes (and a reload may list the room again).
	one.waitFor("the first tab told", `document.getElementById("room-removed")`)
	two.waitFor("club no longer joined in the second tab", `!`+roomLink("club")+`?.matches('[data-watched="true"]')`)
	one.open(srv.base + "/room/club")
	one.waitFor("the room open again", `document.querySelector('.room[data-room="club"]')`)
	two.waitFor("club back in the other tab", roomLink("club")+`?.matches('[data-watched="true"]')`)
}
