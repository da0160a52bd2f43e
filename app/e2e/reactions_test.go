//go:build !(js && wasm)

package e2e

import (
	"strconv"
	"testing"

	"github.com/chromedp/chromedp"
)

// reactionID is the id of the reaction button i (its place in
// protocol.Reactions) under the message at off.
func reactionID(off int64, i int) string {
	return "react-" + strconv.FormatInt(off, 10) + "-" + strconv.Itoa(i)
}

// reactionIs is true when the reaction button id shows count (no number
// when 0) and is pressed or not.
func reactionIs(id string, count int, pressed bool) string {
	text := ""
	if count > 0 {
		text = strconv.Itoa(count)
	}
	return `(() => { const b = document.getElementById("` + id + `"); return !!b && ` +
		`(b.querySelector(".reaction-count")?.textContent ?? "") === "` + text + `" && ` +
		`b.getAttribute("aria-pressed") === "` + strconv.FormatBool(pressed) + `" && ` +
		`b.classList.contains("none") === ` + strconv.FormatBool(count == 0) + ` })()`
}

// stable is true once the element id is laid out and has not moved
// since the previous poll.
func stable(id string) string {
	return `(() => { const e = document.getElementById("` + id + `"); if (!e) return false; ` +
		`const r = e.getBoundingClientRect(); const k = [r.x, r.y, r.width, r.height].join(); ` +
		`const same = r.width > 0 && window.__stable_` + jsIdent(id) + ` === k; window.__stable_` + jsIdent(id) + ` = k; return same })()`
}

// jsIdent turns an element id into a JavaScript identifier part.
func jsIdent(id string) string {
	b := []byte(id)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			b[i] = '_'
		}
	}
	return string(b)
}

// TestReactions: bob reacts 👍 to alice's message with the mouse and
// alice sees the count live, not pressed for her; alice adds hers from
// the keyboard and both see 2; bob takes his back and both see 1; a
// reload shows the same from the node; and the room with a reaction bar
// passes axe.
func TestReactions(t *testing.T) {
	srv := startServer(t)
	alice, bob := newBrowser(t, "alice", 1280, 800), newBrowser(t, "bob", 1280, 800)
	alice.seed(srv.base, srv.signup(t, "alice"))
	bob.seed(srv.base, srv.signup(t, "bob"))
	for _, b := range []*browser{alice, bob} {
		b.open(srv.base + "/room/general")
		b.waitFor("the room", roomReady)
	}
	alice.send("react to me")
	alice.waitFor("acknowledged", hasBody("react to me")+` && !document.querySelector("#messages .msg.pending")`)
	off := alice.offsetOf("react to me")
	thumbs := reactionID(off, 0)
	bob.waitFor("alice's message at bob", hasBody("react to me"))
	for _, b := range []*browser{alice, bob} {
		if label := eval[string](b, `document.getElementById("`+thumbs+`")?.getAttribute("aria-label") ?? ""`); label != "thumbs up, 0 reactions" {
			t.Fatalf("%s: the 👍 button is labelled %q", b.name, label)
		}
	}

	bob.waitFor("the 👍 button laid out", stable(thumbs))
	bob.click(thumbs)
	bob.waitFor("bob's 👍 at bob", reactionIs(thumbs, 1, true))
	alice.waitFor("bob's 👍 at alice", reactionIs(thumbs, 1, false))

	// Alice reaches the button by keyboard and presses Enter.
	eval[chromedp.Void](alice, `document.getElementById("`+thumbs+`").focus()`)
	alice.waitFor("the button focused and shown", `document.activeElement?.id === "`+thumbs+`" && getComputedStyle(document.activeElement).opacity === "1"`)
	alice.do(pressEnter(false))
	alice.waitFor("two 👍 at alice, hers pressed", reactionIs(thumbs, 2, true))
	bob.waitFor("two 👍 at bob", reactionIs(thumbs, 2, true))
	alice.audit("a room with reactions")

	// Bob takes his back.
	bob.waitFor("the 👍 button laid out", stable(thumbs))
	bob.click(thumbs)
	bob.waitFor("bob's 👍 gone at bob", reactionIs(thumbs, 1, false))
	alice.waitFor("bob's 👍 gone at alice", reactionIs(thumbs, 1, true))
	if label := eval[string](alice, `document.getElementById("`+thumbs+`").getAttribute("aria-label")`); label != "thumbs up, 1 reaction" {
		t.Fatalf("the 👍 button is labelled %q after the removal", label)
	}

	// A reload at bob, and a user who opens the room now, show the same.
	carol := newBrowser(t, "carol", 1280, 800)
	carol.seed(srv.base, srv.signup(t, "carol"))
	bob.open(srv.base + "/room/general")
	carol.open(srv.base + "/room/general")
	for _, b := range []*browser{bob, carol} {
		b.waitFor("the room", roomReady+" && "+hasBody("react to me"))
		b.waitFor("one 👍, not theirs", reactionIs(thumbs, 1, false))
		if n := eval[int](b, `document.querySelectorAll("#messages .msg").length`); n != 1 {
			t.Errorf("%s shows %d rows, want 1 (a reaction is not a row)", b.name, n)
		}
	}
}
