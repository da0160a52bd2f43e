//go:build !(js && wasm)

package e2e

import (
	"context"
	"testing"
	"time"

	"github.com/parleychat/parley/shared/client"
	"github.com/parleychat/parley/shared/protocol"
)

// TestRoomChangesLive: bob has a private room open with its members
// panel; alice, its owner, makes carol a moderator and sets the topic
// through the API, and bob's panel and topic follow without a reload.
// A message in another room of bob's, which he has not open, raises its
// badge live: the app watches the rooms it lists (and reloads the list
// only every few minutes when the node offers watches, longer than any
// wait here, so without the watch the badge would not rise in time);
// opening the room shows the message.
func TestRoomChangesLive(t *testing.T) {
	srv := startServer(t)
	aliceSess, bobSess := srv.signup(t, "alice"), srv.signup(t, "bob")
	srv.signup(t, "carol")
	privateRoom(t, srv, aliceSess, "club", "bob", "carol")
	privateRoom(t, srv, aliceSess, "side", "bob")
	bob := newBrowser(t, "bob", 1280, 800)
	bob.seed(srv.base, bobSess)
	bob.open(srv.base + "/room/club")
	bob.waitFor("the room", roomReady)
	bob.waitFor("carol, member", member("carol", protocol.RoleMember))
	bob.waitFor("side in the list, nothing unread", roomLink("side")+" && !"+badge("side"))

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	api := client.NewAPI(srv.base, nil)
	if err := api.Invite(ctx, aliceSess.AccessToken, "club", "carol", protocol.RoleModerator); err != nil {
		t.Fatal(err)
	}
	bob.waitFor("carol, moderator", member("carol", protocol.RoleModerator))
	if _, err := api.SetTopic(ctx, aliceSess.AccessToken, "club", "plans for saturday"); err != nil {
		t.Fatal(err)
	}
	bob.waitFor("the new topic", textOf("room-topic")+` === "plans for saturday"`)

	postMessages(t, srv, aliceSess, "side", "psst, bob")
	bob.waitFor("the badge of the closed room", badge("side")+`?.matches('[data-unread="1"]')`)
	bob.click("side-link")
	bob.waitFor("the closed room's message", hasBody("psst, bob"))
}
