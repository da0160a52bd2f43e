//go:build !(js && wasm)

package e2e

import (
	"context"
	"testing"
	"time"

	"github.com/parleychat/parley/shared/client"
	"github.com/parleychat/parley/shared/protocol"
)

// feedLive holds when the room list is loaded and the room feed
// subscription is confirmed, so public rooms others create arrive live.
const feedLive = `document.querySelector('.room-list[data-feed="true"] .room-link[data-room="general"]')`

// TestPublicRoomAppearsLive: alice has the app open; bob creates a
// private room, then a public one, through the API, and the public one
// appears in alice's list without a reload (the list reloads only every
// few minutes when the node offers watches, longer than any wait here),
// the private one never; bob's topic for it shows when alice opens it.
func TestPublicRoomAppearsLive(t *testing.T) {
	srv := startServer(t)
	aliceSess, bobSess := srv.signup(t, "alice"), srv.signup(t, "bob")
	alice := newBrowser(t, "alice", 1280, 800)
	alice.seed(srv.base, aliceSess)
	alice.open(srv.base + "/room/general")
	alice.waitFor("the room", roomReady)
	alice.waitFor("the feed followed", feedLive)
	// Opening general joined it: it moves to her rooms, and the rooms
	// to join below shift.
	alice.waitFor("general among her rooms", inList("my-rooms", "general"))

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	api := client.NewAPI(srv.base, nil)
	if _, err := api.CreateRoomOf(ctx, bobSess.AccessToken, "hideout", protocol.KindPrivate); err != nil {
		t.Fatal(err)
	}
	if _, err := api.CreateRoomOf(ctx, bobSess.AccessToken, "lobby", protocol.KindPublic); err != nil {
		t.Fatal(err)
	}
	if _, err := api.SetTopic(ctx, bobSess.AccessToken, "lobby", "all welcome"); err != nil {
		t.Fatal(err)
	}
	alice.waitFor("the new public room in the list", roomLink("lobby"))
	alice.waitFor("no private room in the list", "!"+roomLink("hideout"))
	alice.waitFor("the new room's link laid out", stable("lobby-link"))
	alice.click("lobby-link")
	alice.waitFor("the new room's topic", textOf("room-topic")+` === "all welcome"`)
}
