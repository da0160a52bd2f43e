//go:build !(js && wasm)

package e2e

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/parleychat/parley/shared/client"
	"github.com/parleychat/parley/shared/protocol"
)

// personButton is the button of class cls (dm, pick) in user's row of the
// open room's people list.
func personButton(user, cls string) string {
	return `#people .person[data-user="` + user + `"] .` + cls
}

// titleIs holds when the open room's title reads text.
func titleIs(text string) string {
	return `document.getElementById("room-title")?.textContent === ` + jsString(text)
}

// TestGroupFromPeopleList: in general, alice messages bob with one click
// from the people list (the row's button, after the list shifted under
// it), then picks bob and carol and starts a conversation with both. The
// group appears in bob's and carol's lists named by the others, all three
// talk in it, and dave learns nothing of it.
func TestGroupFromPeopleList(t *testing.T) {
	srv := startServer(t)
	alice, bob, carol := newBrowser(t, "alice", 1280, 800), newBrowser(t, "bob", 1280, 800), newBrowser(t, "carol", 1280, 800)
	alice.seed(srv.base, srv.signup(t, "alice"))
	bob.seed(srv.base, srv.signup(t, "bob"))
	carol.seed(srv.base, srv.signup(t, "carol"))
	dave := srv.signup(t, "dave")

	// carol comes first, then bob: bob's row takes the place carol's had.
	alice.open(srv.base + "/room/general")
	alice.waitFor("alice's room", roomReady)
	carol.open(srv.base + "/room/general")
	carol.waitFor("carol's room list", roomsLive)
	alice.waitFor("carol here", present("carol"))
	bob.open(srv.base + "/room/general")
	bob.waitFor("bob's room list", roomsLive)
	alice.waitFor("bob here, above carol", `Array.from(document.querySelectorAll("#people .person")).map(e => e.dataset.user).join() === "alice,bob,carol"`)

	// One click messages the person of the row.
	alice.do(clickSel(personButton("bob", "dm")))
	alice.waitFor("the direct room with bob", `location.pathname.startsWith("/room/dm-") && `+titleIs("@bob"))
	pair := eval[string](alice, `location.pathname.slice("/room/".length)`)
	bob.waitFor("the direct room in bob's list", roomLink(pair)+`?.querySelector(".room-name")?.textContent === "alice"`)

	// Pick two people, then start.
	alice.open(srv.base + "/room/general")
	alice.waitFor("both here", present("bob")+" && "+present("carol"))
	if eval[bool](alice, `document.getElementById("start-conversation").disabled`) != true {
		t.Fatal("Start conversation is enabled with nobody picked")
	}
	alice.do(clickSel(personButton("carol", "pick")))
	alice.do(clickSel(personButton("bob", "pick")))
	alice.waitFor("both picked", `document.querySelector('`+personButton("bob", "pick")+`').getAttribute("aria-pressed") === "true" && `+
		`document.querySelector('`+personButton("carol", "pick")+`').getAttribute("aria-pressed") === "true" && `+
		`document.getElementById("start-conversation").textContent === "Start conversation with bob and carol"`)
	alice.audit("the people list with two picked")
	alice.click("start-conversation")
	alice.waitFor("the group", `location.pathname.startsWith("/room/dm-") && !location.pathname.endsWith(`+jsString(pair)+`) && `+titleIs("@bob and carol"))
	alice.waitFor("the room", roomReady)
	group := eval[string](alice, `location.pathname.slice("/room/".length)`)
	alice.send("hello both")

	for _, b := range []*browser{bob, carol} {
		others := map[*browser]string{bob: "alice and carol", carol: "alice and bob"}[b]
		b.waitFor("the group in the list", roomLink(group)+`?.matches('[data-kind="direct"]') && `+roomLink(group)+`.querySelector(".room-name").textContent === `+jsString(others))
		b.click(group + "-link")
		b.waitFor("the group", titleIs("@"+others))
		b.waitFor("the room", roomReady)
		b.waitFor("alice's message", hasBody("hello both"))
	}
	bob.send("bob here")
	carol.send("carol here")
	for _, b := range []*browser{alice, bob, carol} {
		b.waitFor("all three messages", hasBody("hello both")+" && "+hasBody("bob here")+" && "+hasBody("carol here"))
	}
	carol.screenshot("group")

	// dave: not in his list, and the room answers as a missing one.
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	api := client.NewAPI(srv.base, nil)
	rooms, err := api.Rooms(ctx, dave.AccessToken)
	if err != nil {
		t.Fatal(err)
	}
	if slices.ContainsFunc(rooms, func(r protocol.Room) bool { return r.Name == group || r.Name == pair }) {
		t.Fatalf("dave's room list shows the others' direct rooms: %+v", rooms)
	}
	var ae *client.APIError
	if _, err := api.Members(ctx, dave.AccessToken, group); !errors.As(err, &ae) || ae.Code != protocol.ErrNotFound {
		t.Fatalf("dave reads the group's members: %v", err)
	}
}
