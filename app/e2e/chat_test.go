//go:build !(js && wasm)

package e2e

import (
	"slices"
	"testing"
)

// xss is a message that would run script if the app rendered bodies as HTML.
const xss = `<img src=x onerror="window.__parleyXSS=1"><b>bold?</b>`

// roomReady holds when the app's own room page (not the snapshot painted
// before app.wasm runs, which has a composer and no connection banner)
// shows its messages and is connected.
const roomReady = `!document.querySelector("[data-snapshot]") && document.getElementById("composer") && !document.getElementById("conn-status") && !document.querySelector("#messages .edge.muted[data-loading]")`

func present(user string) string {
	return `document.querySelector('#people .person[data-user="` + user + `"]')`
}

func hasBody(body string) string {
	return `Array.from(document.querySelectorAll("#messages .msg .body")).some(e => e.textContent === ` + jsString(body) + `)`
}

// rowOf is the message row whose body is body.
func rowOf(body string) string {
	return `Array.from(document.querySelectorAll("#messages .msg")).find(m => m.querySelector(".body").textContent === ` + jsString(body) + `)`
}

func TestTwoUsersChat(t *testing.T) {
	srv := startServer(t)
	alice, bob := newBrowser(t, "alice", 1280, 800), newBrowser(t, "bob", 1280, 800)
	alice.seed(srv.base, srv.signup(t, "alice"))
	bob.seed(srv.base, srv.signup(t, "bob"))
	alice.open(srv.base + "/room/general")
	bob.open(srv.base + "/room/general")
	for _, b := range []*browser{alice, bob} {
		b.waitFor("the room", roomReady)
		b.waitFor("both users in the presence list", present("alice")+" && "+present("bob"))
	}
	// app.wasm travelled compressed when a compressed copy was built.
	sizes := eval[[]float64](alice, `(e => e ? [e.encodedBodySize, e.decodedBodySize] : [])(performance.getEntriesByType("resource").find(e => e.name.endsWith("/web/app.wasm")))`)
	if len(sizes) == 2 {
		t.Logf("app.wasm: %.0f bytes on the wire, %.0f decoded", sizes[0], sizes[1])
	}

	// A message from alice reaches bob; alice sees it as hers, sent.
	alice.typeInto("composer", "hello from A")
	alice.do(pressEnter(false))
	alice.waitFor("alice's message acknowledged", rowOf("hello from A")+`?.matches(".own:not(.pending)")`)
	bob.waitFor("alice's message at bob", hasBody("hello from A"))
	bob.waitFor("alice's message shown as someone else's", rowOf("hello from A")+`?.matches(":not(.own)[data-author=alice]")`)
	if v := eval[string](alice, `document.getElementById("composer").value`); v != "" {
		t.Errorf("composer not cleared after sending: %q", v)
	}

	// Bob types: alice sees the typing indicator; then markup arrives as text.
	bob.typeInto("composer", xss)
	alice.waitFor("bob's typing indicator", `document.getElementById("typing").textContent.includes("bob is typing")`)
	bob.do(pressEnter(false))
	alice.waitFor("bob's message at alice", hasBody(xss))
	for _, b := range []*browser{alice, bob} {
		if n := eval[int](b, `document.querySelectorAll("#messages img, #messages b").length`); n != 0 {
			t.Errorf("%s: message markup became %d elements", b.name, n)
		}
		if pwned := eval[bool](b, `window.__parleyXSS === 1`); pwned {
			t.Errorf("%s: script in a message ran", b.name)
		}
	}

	// Shift+Enter adds a line; Enter sends.
	alice.typeInto("composer", "line one")
	alice.do(pressEnter(true))
	alice.typeInto("composer", "line two")
	alice.do(pressEnter(false))
	bob.waitFor("the two-line message", hasBody("line one\nline two"))

	want := []string{"hello from A", xss, "line one\nline two"}
	for _, b := range []*browser{alice, bob} {
		b.waitFor("every message acknowledged", `!document.querySelector("#messages .msg.pending")`)
		if got := b.bodies(); !slices.Equal(got, want) {
			t.Errorf("%s shows %q, want %q", b.name, got, want)
		}
		b.screenshot("room")
	}
	alice.do(darkMode())
	alice.screenshot("room-dark")
}
