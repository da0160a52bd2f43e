//go:build !(js && wasm)

package e2e

import (
	"testing"

	"github.com/parleychat/parley/shared/testenv"
)

// TestRoomWaitsForTheDatabase: a room opened while the node's PostgreSQL
// is down says it is reconnecting (not an error, not an empty room),
// and shows its history and live messages by itself once the database is
// back.
func TestRoomWaitsForTheDatabase(t *testing.T) {
	pg := testenv.NewPostgres(t)
	srv := startServer(t, "--postgres", pg.FreshDatabase(t))
	dave := srv.signup(t, "dave")
	seedMessages(t, srv, dave, "later", 2)
	alice := newBrowser(t, "alice", 1280, 800)
	alice.seed(srv.base, srv.signup(t, "alice"))
	alice.open(srv.base + "/room/general")
	alice.waitFor("the room", roomReady)
	// The room list loads beside the room: stopping the database before it
	// answered would leave no list to open the room from.
	alice.waitFor("the room list", `document.getElementById("later-link")`)

	if err := pg.Stop(); err != nil {
		t.Fatal(err)
	}
	// Opened from the room list: a reload would need a refresh, which the
	// node cannot serve without its database (the access token lives in
	// the page's memory only).
	alice.click("later-link")
	alice.waitFor("the room to say it is reconnecting", visible("#room-retrying"))
	alice.screenshot("reconnecting-room")
	if n := len(alice.bodies()); n != 0 {
		t.Fatalf("%d messages shown while the database is down", n)
	}
	if err := pg.Start(); err != nil {
		t.Fatal(err)
	}
	alice.waitFor("the history once the database is back", hasBody("seed 2"))
	alice.waitFor("the notice gone", `!document.getElementById("room-retrying")`)
	postMessages(t, srv, dave, "later", "live after the outage")
	alice.waitFor("a live message", hasBody("live after the outage"))
}
