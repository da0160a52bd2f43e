//go:build !(js && wasm)

package e2e

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/parleychat/parley/shared/client"
	"github.com/parleychat/parley/shared/protocol"
	"github.com/parleychat/parley/shared/testenv"
)

// TestRoomsAndNavigation creates a room from the form, moves between rooms
// through the sidebar, and checks that presence follows the user.
func TestRoomsAndNavigation(t *testing.T) {
	srv := startServer(t)
	alice, bob := newBrowser(t, "alice", 1280, 800), newBrowser(t, "bob", 1280, 800)
	alice.seed(srv.base, srv.signup(t, "alice"))
	bob.seed(srv.base, srv.signup(t, "bob"))
	bob.open(srv.base + "/room/general")
	bob.waitFor("the room", roomReady)
	alice.open(srv.base + "/")
	alice.waitFor("the welcome screen", `document.querySelector(".welcome")`)

	// A bad name is refused before any request; a good one opens the room.
	alice.typeInto("new-room-name", "Bad Name!")
	alice.click("new-room-submit")
	alice.waitFor("the room name error", `document.getElementById("new-room-error")?.textContent.startsWith("Room name")`)
	alice.clearInput("new-room-name")
	alice.typeInto("new-room-name", "random")
	alice.click("new-room-submit")
	alice.waitFor("the new room", `location.pathname === "/room/random" && document.querySelector('.room[data-room="random"]')`)
	alice.waitFor("the new room in the list", `document.querySelector('.room-link.active[data-room="random"]')`)
	alice.waitFor("the form cleared", `document.getElementById("new-room-name").value === ""`)
	alice.waitFor("the room", roomReady)
	alice.waitFor("an empty room", `document.querySelector("#messages .empty")`)
	alice.typeInto("composer", "in random")
	alice.do(pressEnter(false))
	alice.waitFor("the message sent", rowOf("in random")+`?.matches(":not(.pending)")`)
	alice.screenshot("random")

	// Alice is not in #general while she is in #random.
	bob.waitFor("only bob in general", present("bob")+" && !"+present("alice"))

	// The sidebar link switches rooms: other messages, other presence.
	alice.click(`general-link`)
	alice.waitFor("general", `location.pathname === "/room/general" && document.querySelector('.room[data-room="general"]')`)
	alice.waitFor("the room", roomReady)
	bob.waitFor("alice in general", present("alice"))
	if got := alice.bodies(); slices.Contains(got, "in random") {
		t.Fatalf("#general shows a message of #random: %q", got)
	}
	bob.typeInto("composer", "hi alice")
	bob.do(pressEnter(false))
	alice.waitFor("bob's message in general", hasBody("hi alice"))

	alice.click(`random-link`)
	alice.waitFor("random again", `document.querySelector('.room[data-room="random"]')`)
	alice.waitFor("random's history", hasBody("in random"))
	bob.waitFor("alice gone from general", "!"+present("alice"))
	if got := alice.bodies(); !slices.Equal(got, []string{"in random"}) {
		t.Fatalf("#random shows %q", got)
	}

	// Browser history works like links.
	eval[bool](alice, `(history.back(), true)`)
	alice.waitFor("general after going back", `location.pathname === "/room/general" && document.querySelector('.room[data-room="general"]')`)
	alice.waitFor("general's messages", hasBody("hi alice"))

	// A room that does not exist says so.
	alice.open(srv.base + "/room/nosuchroom")
	alice.waitFor("the missing room", `document.querySelector(".missing h2")?.textContent === "#nosuchroom does not exist"`)
	alice.screenshot("missing")
	alice.click("create-missing")
	alice.waitFor("the created room", `document.querySelector("#messages .empty") && document.querySelector('.room-link[data-room="nosuchroom"]')`)
}

// seedMessages creates room and posts n messages to it ("seed 1"…) as
// user, through the Go client.
func seedMessages(t *testing.T, srv *server, s protocol.Session, room string, n int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if _, err := client.NewAPI(srv.base, nil).CreateRoom(ctx, s.AccessToken, room); err != nil {
		t.Fatalf("create room: %v", err)
	}
	bodies := make([]string, n)
	for i := range bodies {
		bodies[i] = fmt.Sprintf("seed %d", i+1)
	}
	postMessages(t, srv, s, room, bodies...)
}

// postMessages posts bodies to room as user, through the Go client, one
// at a time: a burst would meet the node's rate limit, and the retried
// messages would be stored out of order.
func postMessages(t *testing.T, srv *server, s protocol.Session, room string, bodies ...string) {
	t.Helper()
	cl, stop := runClient(t, srv, s)
	defer stop()
	for _, body := range bodies {
		if _, err := cl.Send(room, body); err != nil {
			t.Fatalf("send: %v", err)
		}
		testenv.Eventually(t, time.Minute, "message acknowledged", testenv.Cond(func() bool { return len(cl.Pending()) == 0 }))
	}
}

// runClient runs the Go client as s's user until stop is called.
func runClient(t *testing.T, srv *server, s protocol.Session) (cl *client.Client, stop func()) {
	t.Helper()
	ws, err := client.WebSocketURL(srv.base)
	if err != nil {
		t.Fatal(err)
	}
	cl = client.New(client.Config{
		URL:    ws,
		Origin: srv.base,
		Token:  func(context.Context) (string, error) { return s.AccessToken, nil },
	})
	runCtx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- cl.Run(runCtx) }()
	return cl, func() {
		cancel()
		<-done
	}
}

// TestHistoryPaging opens a room with more history than one page and
// scrolls up until the start, checking order and that nothing repeats.
func TestHistoryPaging(t *testing.T) {
	const total = 130
	srv := startServer(t)
	seedMessages(t, srv, srv.signup(t, "dave"), "history", total)
	alice := newBrowser(t, "alice", 1280, 800)
	alice.seed(srv.base, srv.signup(t, "alice"))
	alice.open(srv.base + "/room/history")
	alice.waitFor("the room", roomReady)
	alice.waitFor("the newest page", hasBody(fmt.Sprintf("seed %d", total)))
	if n := len(alice.bodies()); n >= total {
		t.Fatalf("the first screen holds all %d messages; paging was not exercised", n)
	}
	if top := eval[float64](alice, `(m => m.scrollHeight - m.scrollTop - m.clientHeight)(document.getElementById("messages"))`); top > 2 {
		t.Errorf("the list does not start scrolled to the newest message (%v px from the end)", top)
	}
	alice.screenshot("newest")

	alice.pageBack(total)
	alice.screenshot("start")
}

// pageBack scrolls the open room #history up to its start, one page of
// older messages per scroll to the top (the pages are few, so the loop is
// bounded), and checks that it then shows "seed 1" to "seed total" once
// each, in order.
func (b *browser) pageBack(total int) {
	b.t.Helper()
	for pages := 0; ; pages++ {
		// What is shown is read once per step: a page asked for by the
		// step before may still be arriving.
		shown := b.bodies()
		if slices.Contains(shown, "seed 1") {
			break
		}
		if pages > total/protocol.HistoryPageDefault+2 {
			b.fail("%s: still no \"seed 1\" after %d pages back", b.name, pages)
		}
		// Each poll scrolls to the top again: a scroll that lands while
		// the view pins a fresh list to its end is undone.
		b.waitFor("an older page", fmt.Sprintf(`(m => (m.scrollTop = 0, document.querySelectorAll("#messages .msg .body").length > %d))(document.getElementById("messages"))`, len(shown)))
	}
	b.waitFor("the start of the room", `document.querySelector("#messages .edge")?.textContent === "This is the start of #history."`)
	var want []string
	for i := 1; i <= total; i++ {
		want = append(want, fmt.Sprintf("seed %d", i))
	}
	if got := b.bodies(); !slices.Equal(got, want) {
		b.fail("%s: after paging back: %d messages %q…, want seed 1..%d in order", b.name, len(got), got[:min(5, len(got))], total)
	}
	offsets := eval[[]int](b, `Array.from(document.querySelectorAll("#messages .msg")).map(m => +m.dataset.offset)`)
	for i := 1; i < len(offsets); i++ {
		if offsets[i] != offsets[i-1]+1 {
			b.fail("%s: offsets not consecutive at %d: %v", b.name, i, offsets[max(0, i-3):i+1])
		}
	}
}

// TestCachedRoomOpensWithNewestPage: a room whose cache holds more than a
// page opens with its newest page of rows only (rendering all at once
// held up the page's first task), and scrolling up shows the rest from
// the cache, with the node stopped: nothing is lost or repeated.
func TestCachedRoomOpensWithNewestPage(t *testing.T) {
	const total = 130
	srv := startServer(t)
	seedMessages(t, srv, srv.signup(t, "dave"), "history", total)
	b := newBrowser(t, "alice", 1280, 800)
	b.seed(srv.base, srv.signup(t, "alice"))
	b.open(srv.base + "/room/history")
	b.waitFor("the room", roomReady)
	b.waitFor("the newest page", hasBody(fmt.Sprintf("seed %d", total)))
	b.pageBack(total)
	b.waitCached()
	b.waitCachedRecord("the oldest message", "messages", `"alice","history"`, `"body":"seed 1"`)

	srv.stop(t)
	b.waitFor("the connection banner", `document.getElementById("conn-status")`)
	b.open(srv.base + "/room/history")
	b.waitFor("the newest message from the cache", live+hasBody(fmt.Sprintf("seed %d", total)))
	if n := len(b.bodies()); n == 0 || n >= total {
		t.Fatalf("the reopened room renders %d of its %d cached messages, want the newest page", n, total)
	}
	b.waitFor("the button for older messages", `document.getElementById("load-older")`)
	b.pageBack(total)
}
