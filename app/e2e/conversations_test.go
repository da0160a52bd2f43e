//go:build !(js && wasm)

package e2e

import (
	"context"
	"testing"
	"time"

	"github.com/parleychat/parley/shared/client"
	"github.com/parleychat/parley/shared/protocol"
)

// roomsLive holds when the room list is loaded from the node and the
// inbox subscription is confirmed, so invitations arrive live.
const roomsLive = `document.querySelector('.room-list[data-live="true"] .room-link[data-room="general"]')`

// roomLink is the sidebar link of room.
func roomLink(room string) string {
	return `document.querySelector('.room-link[data-room="` + room + `"]')`
}

// member is the member row of user in the open room's members panel.
func member(user, role string) string {
	return `document.querySelector('#members .member[data-user="` + user + `"][data-role="` + role + `"]')`
}

// privateRoom creates a private room owned by owner through the API and
// invites members.
func privateRoom(t *testing.T, srv *server, owner protocol.Session, room string, members ...string) {
	t.Helper()
	createRoom(t, srv, owner, room, protocol.KindPrivate, members...)
}

// publicRoom creates a public room owned by owner through the API.
func publicRoom(t *testing.T, srv *server, owner protocol.Session, room string) {
	t.Helper()
	createRoom(t, srv, owner, room, protocol.KindPublic)
}

// createRoom creates a room of kind owned by owner through the API and
// invites members.
func createRoom(t *testing.T, srv *server, owner protocol.Session, room, kind string, members ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	api := client.NewAPI(srv.base, nil)
	if _, err := api.CreateRoomOf(ctx, owner.AccessToken, room, kind); err != nil {
		t.Fatal(err)
	}
	for _, m := range members {
		if err := api.Invite(ctx, owner.AccessToken, room, m, ""); err != nil {
			t.Fatal(err)
		}
	}
}

// send types body into the composer and sends it.
func (b *browser) send(body string) {
	b.t.Helper()
	b.typeInto("composer", body)
	b.do(pressEnter(false))
}

// TestPrivateRoomAndDirectMessage: alice creates a private room and
// invites bob from its members panel; it appears in bob's list without a
// reload, they talk in it; carol never sees it. Then alice messages bob
// directly, and the direct room appears in bob's list under alice's name.
func TestPrivateRoomAndDirectMessage(t *testing.T) {
	srv := startServer(t)
	alice, bob := newBrowser(t, "alice", 1280, 800), newBrowser(t, "bob", 1280, 800)
	alice.seed(srv.base, srv.signup(t, "alice"))
	bob.seed(srv.base, srv.signup(t, "bob"))
	carolSess := srv.signup(t, "carol")
	alice.open(srv.base + "/")
	bob.open(srv.base + "/")
	alice.waitFor("alice's room list", roomsLive)
	bob.waitFor("bob's live room list", roomsLive)

	// A private room, from the new-room form.
	eval[bool](alice, `(() => { const e = document.getElementById("new-room-kind"); e.value = "private"; e.dispatchEvent(new Event("change", {bubbles: true})); return true })()`)
	alice.typeInto("new-room-name", "secret")
	alice.click("new-room-submit")
	alice.waitFor("the private room", `location.pathname === "/room/secret" && document.querySelector('.room[data-room="secret"]')`)
	alice.waitFor("the lock in the list", roomLink("secret")+`?.matches('[data-kind="private"]') && `+roomLink("secret")+`.querySelector(".lock .sr-only")?.textContent === "Private room:"`)
	alice.waitFor("alice, owner", member("alice", protocol.RoleOwner))

	// Invite bob: the room appears in his list live.
	alice.typeInto("invite-user", "bob")
	alice.click("invite-submit")
	alice.waitFor("bob, member", member("bob", protocol.RoleMember))
	bob.waitFor("the invitation in the list", roomLink("secret")+`?.matches('[data-kind="private"]')`)
	bob.click("secret-link")
	bob.waitFor("the private room", `location.pathname === "/room/secret" && document.querySelector('.room[data-room="secret"]')`)
	bob.waitFor("the room", roomReady)
	alice.waitFor("the room", roomReady)
	bob.send("hello in secret")
	alice.waitFor("bob's message", hasBody("hello in secret"))
	alice.send("hi bob")
	bob.waitFor("alice's answer", hasBody("hi bob"))
	bob.screenshot("private")

	// carol sees neither the room nor that it exists.
	carol := newBrowser(t, "carol", 1280, 800)
	carol.seed(srv.base, carolSess)
	carol.open(srv.base + "/")
	carol.waitFor("carol's room list", roomsLive)
	if eval[bool](carol, "!!"+roomLink("secret")) {
		t.Fatal("carol's room list shows alice's private room")
	}
	carol.open(srv.base + "/room/secret")
	carol.waitFor("the room answered as missing", `document.querySelector(".missing h2")?.textContent === "#secret does not exist"`)

	// A direct message from the sidebar: it opens for alice and appears
	// in bob's list under alice's name.
	alice.typeInto("direct-user", "bob")
	alice.click("direct-submit")
	alice.waitFor("the direct room", `location.pathname.startsWith("/room/dm-") && document.getElementById("room-title")?.textContent === "@bob"`)
	alice.waitFor("the room", roomReady)
	dm := eval[string](alice, `location.pathname.slice("/room/".length)`)
	bob.waitFor("the direct room in the list", roomLink(dm)+`?.matches('[data-kind="direct"]') && `+roomLink(dm)+`.querySelector(".room-name").textContent === "alice"`)
	alice.send("just us")
	bob.click(dm + "-link")
	bob.waitFor("the room", roomReady)
	bob.waitFor("alice's direct message", hasBody("just us"))
	bob.screenshot("direct")
	if eval[bool](carol, "!!"+roomLink(dm)) {
		t.Fatal("carol's room list shows alice and bob's direct room")
	}
}

// TestKickShowsRemoval: alice removes bob from a private room he has
// open; his view says so and the room leaves his list, without a reload.
func TestKickShowsRemoval(t *testing.T) {
	srv := startServer(t)
	aliceSess, bobSess := srv.signup(t, "alice"), srv.signup(t, "bob")
	privateRoom(t, srv, aliceSess, "secret", "bob")
	alice, bob := newBrowser(t, "alice", 1280, 800), newBrowser(t, "bob", 1280, 800)
	alice.seed(srv.base, aliceSess)
	bob.seed(srv.base, bobSess)
	bob.open(srv.base + "/room/secret")
	bob.waitFor("the room", roomReady)
	bob.waitFor("the room in the list", roomLink("secret"))
	alice.open(srv.base + "/room/secret")
	alice.waitFor("the room", roomReady)
	alice.waitFor("bob, member", member("bob", protocol.RoleMember))

	alice.click("kick-bob")
	alice.waitFor("bob gone from the members", "!"+member("bob", protocol.RoleMember))
	bob.waitFor("the removal", `document.querySelector("#room-removed h2")?.textContent === "You were removed from this room"`)
	bob.waitFor("the room gone from the list", "!"+roomLink("secret"))
	if eval[bool](bob, `!!document.getElementById("composer")`) {
		t.Fatal("the removed room still offers a composer")
	}
	bob.screenshot("removed")
}
