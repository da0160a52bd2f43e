//go:build !(js && wasm)

package e2e

import (
	"context"
	"testing"
	"time"

	"github.com/parleychat/parley/shared/client"
	"github.com/parleychat/parley/shared/protocol"
)

// banned is the row of user in the open room's list of bans.
func banned(user string) string {
	return `document.querySelector('#ban-list .banned[data-user="` + user + `"]')`
}

// textOf is the trimmed text of the element with id, "" when absent.
func textOf(id string) string {
	return `(document.getElementById("` + id + `")?.textContent ?? "").trim()`
}

// banFrom has owner ban user from room through the API.
func banFrom(t *testing.T, srv *server, owner protocol.Session, room, user string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := client.NewAPI(srv.base, nil).Ban(ctx, owner.AccessToken, room, user); err != nil {
		t.Fatal(err)
	}
}

// TestModerationInApp: alice, owner of a private room, makes bob a
// moderator from the members panel; bob then removes carol and bans dave,
// who has the room open: dave's view says so and the room leaves his
// list; alice's invitation of dave is refused until bob lifts the ban
// from the list of bans. Alice sets the topic, which shows under the
// title, and as the last owner is told who takes over before she leaves;
// leaving takes her back to the list.
func TestModerationInApp(t *testing.T) {
	srv := startServer(t)
	aliceSess, bobSess := srv.signup(t, "alice"), srv.signup(t, "bob")
	srv.signup(t, "carol")
	daveSess := srv.signup(t, "dave")
	privateRoom(t, srv, aliceSess, "club", "bob", "carol", "dave")
	alice, bob, dave := newBrowser(t, "alice", 1280, 800), newBrowser(t, "bob", 1280, 800), newBrowser(t, "dave", 1280, 800)
	alice.seed(srv.base, aliceSess)
	bob.seed(srv.base, bobSess)
	dave.seed(srv.base, daveSess)

	alice.open(srv.base + "/room/club")
	alice.waitFor("the room", roomReady)
	alice.waitFor("bob, member", member("bob", protocol.RoleMember))
	if eval[bool](alice, `!!document.getElementById("demote-bob") || !document.getElementById("ban-bob")`) {
		t.Fatal("the owner is not offered the right actions on a member")
	}
	alice.click("promote-bob")
	alice.waitFor("bob, moderator", member("bob", protocol.RoleModerator)+` && document.getElementById("demote-bob")`)
	alice.waitFor("the note", textOf("members-note")+` === "bob is now a moderator."`)

	dave.open(srv.base + "/room/club")
	dave.waitFor("the room", roomReady)
	dave.waitFor("the room in the list", roomLink("club"))
	if eval[bool](dave, `!!document.getElementById("kick-carol") || !!document.getElementById("ban-list")`) {
		t.Fatal("a plain member is offered moderation")
	}

	bob.open(srv.base + "/room/club")
	bob.waitFor("the room", roomReady)
	bob.waitFor("carol, member", member("carol", protocol.RoleMember))
	bob.waitFor("the empty list of bans", `document.querySelector("#ban-list")?.textContent.includes("Nobody is banned.")`)
	if eval[bool](bob, `!!document.getElementById("kick-alice") || !!document.getElementById("promote-carol")`) {
		t.Fatal("a moderator is offered to remove the owner or to give roles")
	}
	bob.click("kick-carol")
	bob.waitFor("carol gone", "!"+member("carol", protocol.RoleMember))
	bob.click("ban-dave")
	bob.waitFor("dave banned", "!"+member("dave", protocol.RoleMember)+" && "+banned("dave"))
	dave.waitFor("the removal", `document.querySelector("#room-removed h2")?.textContent === "You were removed from this room"`)
	dave.waitFor("the room gone from the list", "!"+roomLink("club"))

	// A ban keeps dave out: an invitation is refused, and says why.
	alice.typeInto("invite-user", "dave")
	alice.click("invite-submit")
	alice.waitFor("the refusal", textOf("members-error")+` === "dave is banned from this room: lift the ban first."`)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := client.NewAPI(srv.base, nil).Members(ctx, daveSess.AccessToken, "club"); err == nil {
		t.Fatal("the banned user may still list the members")
	}
	bob.click("unban-dave")
	bob.waitFor("the ban lifted", "!"+banned("dave"))

	// The topic, set by the owner, under the title.
	alice.click("topic-edit")
	alice.waitFor("the topic field, focused", `document.activeElement?.id === "topic-input"`)
	alice.typeInto("topic-input", "plans for the weekend")
	alice.click("topic-save")
	alice.waitFor("the topic", textOf("room-topic")+` === "plans for the weekend" && document.activeElement?.id === "topic-edit"`)
	bob.open(srv.base + "/room/club")
	bob.waitFor("the topic for bob", textOf("room-topic")+` === "plans for the weekend"`)

	// The last owner leaving is told who takes over, and may stay.
	alice.click("leave-room")
	alice.waitFor("the warning", textOf("leave-warning")+` === "You are the last owner: if you leave, bob becomes the owner." && document.activeElement?.id === "leave-confirm"`)
	alice.screenshot("leave-warning")
	alice.click("leave-cancel")
	alice.waitFor("the leave button back", `document.activeElement?.id === "leave-room"`)
	alice.click("leave-room")
	alice.click("leave-confirm")
	alice.waitFor("back to the list, the room gone from it", `location.pathname === "/" && !`+roomLink("club"))
	bob.open(srv.base + "/room/club")
	bob.waitFor("bob, owner", member("bob", protocol.RoleOwner))
}
