//go:build !(js && wasm)

package e2e

import (
	"strconv"
	"testing"

	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"
)

// reactionID is the id of the reaction button i (its place in
// protocol.Reactions) under the message at off.
func reactionID(off int64, i int) string {
	return "react-" + strconv.FormatInt(off, 10) + "-" + strconv.Itoa(i)
}

// reactionIs is true when the reaction button id shows count and is
// pressed or not; count 0: there is no such button.
func reactionIs(id string, count int, pressed bool) string {
	if count == 0 {
		return `!document.getElementById("` + id + `")`
	}
	return `(() => { const b = document.getElementById("` + id + `"); return !!b && ` +
		`b.querySelector(".reaction-count")?.textContent === "` + strconv.Itoa(count) + `" && ` +
		`b.getAttribute("aria-pressed") === "` + strconv.FormatBool(pressed) + `" })()`
}

// pickerIs is true when the "Add reaction" picker of the message at off
// is open or closed, its button saying so.
func pickerIs(off int64, open bool) string {
	o := strconv.FormatInt(off, 10)
	return `(() => { const b = document.getElementById("react-add-` + o + `"); return !!b && ` +
		`b.getAttribute("aria-expanded") === "` + strconv.FormatBool(open) + `" && ` +
		`!!document.getElementById("react-picker-` + o + `") === ` + strconv.FormatBool(open) + ` })()`
}

// focused is true when the element id has the focus.
func focused(id string) string { return `document.activeElement?.id === "` + id + `"` }

// pressSpace presses the space bar in the focused element.
func pressSpace() chromedp.Action[chromedp.Void] {
	return dispatchKey(input.DispatchKeyEventParams{
		Type: input.DispatchKeyEventTypeKeyDown, Key: " ", Code: "Space",
		WindowsVirtualKeyCode: 32, NativeVirtualKeyCode: 32, Text: " ", UnmodifiedText: " ",
	})
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

// TestReactions: a message without reactions has one reaction button,
// "Add reaction"; bob opens its picker and chooses 👍 with the mouse and
// alice sees the count live, not pressed for her; alice opens the picker
// from the keyboard, moves in it with the arrows, Home and End, closes it
// with Escape (the focus back on its button), opens it again and chooses
// 👍 with Space, and both see 2; a click outside closes it; the open
// picker passes axe in light and dark mode and at a phone's width; bob
// takes his back with the 👍 button itself and both see 1; a reload shows
// the same from the node.
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
	o := strconv.FormatInt(off, 10)
	thumbs, add := reactionID(off, 0), "react-add-"+o
	pick := func(i int) string { return "react-pick-" + o + "-" + strconv.Itoa(i) }
	bob.waitFor("alice's message at bob", hasBody("react to me"))
	for _, b := range []*browser{alice, bob} {
		b.waitFor("the Add reaction button", pickerIs(off, false))
		buttons := eval[[]string](b, `Array.from(document.querySelectorAll('#messages .msg[data-offset="`+o+`"] .reactions button')).map(e => e.getAttribute("aria-label"))`)
		if len(buttons) != 1 || buttons[0] != "Add reaction" {
			t.Fatalf("%s: a message without reactions has the reaction buttons %q, want only Add reaction", b.name, buttons)
		}
	}

	bob.waitFor("the Add reaction button laid out", stable(add))
	bob.click(add)
	bob.waitFor("the picker open, on its first emoji", pickerIs(off, true)+" && "+focused(pick(0)))
	bob.click(pick(0))
	bob.waitFor("bob's 👍 at bob, the picker closed", reactionIs(thumbs, 1, true)+" && "+pickerIs(off, false))
	alice.waitFor("bob's 👍 at alice", reactionIs(thumbs, 1, false))

	// Alice reaches the button by keyboard: Enter opens the picker.
	eval[chromedp.Void](alice, `document.getElementById("`+add+`").focus()`)
	alice.waitFor("the button focused and shown", focused(add)+` && getComputedStyle(document.activeElement.parentElement).opacity === "1"`)
	alice.do(pressEnter(false))
	alice.waitFor("the picker open, on its first emoji", pickerIs(off, true)+" && "+focused(pick(0)))
	for _, k := range []struct {
		key  string
		code int64
		want int
	}{{"ArrowRight", 39, 1}, {"ArrowRight", 39, 2}, {"ArrowLeft", 37, 1}, {"End", 35, 5}, {"ArrowRight", 39, 0}, {"ArrowLeft", 37, 5}, {"Home", 36, 0}} {
		alice.do(pressKey(k.key, k.code, false))
		alice.waitFor(k.key+" to emoji "+strconv.Itoa(k.want), focused(pick(k.want)))
	}
	alice.do(pressKey("Escape", 27, false))
	alice.waitFor("the picker closed, the focus on its button", pickerIs(off, false)+" && "+focused(add))
	alice.do(pressEnter(false))
	alice.waitFor("the picker open again", pickerIs(off, true)+" && "+focused(pick(0)))
	alice.do(pressSpace())
	alice.waitFor("two 👍 at alice, hers pressed", reactionIs(thumbs, 2, true)+" && "+pickerIs(off, false)+" && "+focused(add))
	bob.waitFor("two 👍 at bob", reactionIs(thumbs, 2, true))

	// The open picker passes axe, light, dark and on a phone; a click
	// outside closes it.
	alice.do(pressEnter(false))
	alice.waitFor("the picker open", pickerIs(off, true)+" && "+focused(pick(0)))
	alice.audit("the reaction picker")
	alice.do(darkMode())
	alice.audit("the reaction picker, dark")
	alice.do(chromedp.EmulateViewport(360, 740))
	alice.waitFor("the phone layout", `innerWidth === 360`)
	alice.audit("the reaction picker on a phone")
	alice.do(clickSel(`#messages .msg[data-offset="` + o + `"] .body`))
	alice.waitFor("the picker closed by a click outside", pickerIs(off, false))

	// Bob takes his back with the 👍 button.
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
