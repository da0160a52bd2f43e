//go:build !(js && wasm)

package e2e

import (
	"testing"
	"time"

	"github.com/parleychat/parley/shared/protocol"
)

// setInput empties a form field the way a user does, so go-app sees it.
func (b *browser) clearInput(id string) {
	b.t.Helper()
	eval[bool](b, `(() => { const e = document.getElementById(`+jsString(id)+`); e.value = ""; e.dispatchEvent(new Event("input", {bubbles: true})); return true })()`)
}

// signedIn holds once the app itself (not the saved snapshot painted
// before it boots, which the app then replaces) shows user signed in.
func signedIn(user string) string {
	return live + `document.querySelector(".me-name")?.textContent === ` + jsString(user)
}

func (b *browser) authError(want string) {
	b.t.Helper()
	b.waitFor("the error "+want, `document.getElementById("auth-error")?.textContent === `+jsString(want))
}

// TestSignUpFlow goes through the real forms: sign-up with mistakes, the
// session surviving a reload, sign-out, and sign-in.
func TestSignUpFlow(t *testing.T) {
	srv := startServer(t)
	srv.signup(t, "taken")
	b := newBrowser(t, "carol", 1280, 800)
	b.open(srv.base + "/")
	b.waitFor("the sign-in form", `document.getElementById("auth-form")`)
	b.screenshot("signin")

	b.click("tab-signup")
	b.waitFor("the sign-up form", `document.getElementById("auth-submit").textContent === "Create account"`)
	b.typeInto("auth-username", "carol")
	b.typeInto("auth-password", "short")
	b.click("auth-submit")
	b.authError("Password must be at least 8 characters.")
	b.screenshot("signup-error")

	b.clearInput("auth-username")
	b.clearInput("auth-password")
	b.typeInto("auth-username", "taken")
	b.typeInto("auth-password", password)
	b.click("auth-submit")
	b.authError("That username is taken. Pick another one, or sign in.")
	if u := eval[string](b, `location.href`); u != srv.base+"/" {
		t.Fatalf("submitting the form changed the URL to %s", u)
	}

	b.clearInput("auth-username")
	b.typeInto("auth-username", "carol")
	b.click("auth-submit")
	b.waitFor("the signed-in app", `document.querySelector(".welcome h1")?.textContent === "Hi carol!"`)
	b.waitFor("the room list", `document.querySelector('.room-link[data-room="general"]')`)
	b.screenshot("welcome")

	// The session survives a reload.
	b.open(srv.base + "/")
	b.waitFor("the signed-in app after a reload", signedIn("carol"))

	// Sign out: back to the form, nothing of the session left behind.
	b.click("sign-out")
	b.waitFor("the sign-in form", `document.getElementById("auth-form")`)
	if n := eval[int](b, `Object.keys(localStorage).filter(k => k.startsWith("parley.")).length`); n != 0 {
		t.Errorf("%d parley.* keys left in localStorage after sign-out", n)
	}

	b.typeInto("auth-username", "carol")
	b.typeInto("auth-password", "wrong password")
	b.click("auth-submit")
	b.authError("Wrong username or password.")
	b.clearInput("auth-password")
	b.typeInto("auth-password", password)
	b.click("auth-submit")
	b.waitFor("signed in again", signedIn("carol"))
}

// TestTokenRefresh: the app starts with only the refresh cookie (the
// access token lives in memory and is gone after a reload), refreshes
// through it, the node rotates the cookie, and the app stays connected.
func TestTokenRefresh(t *testing.T) {
	srv := startServer(t)
	seeded := srv.signup(t, "erin")
	b := newBrowser(t, "erin", 1280, 800)
	b.seed(srv.base, seeded)
	b.open(srv.base + "/room/general")
	b.waitFor("the room", roomReady)
	if c := b.refreshCookie(srv.base); c == "" || c == seeded.RefreshToken {
		t.Fatalf("refresh cookie after the first start: %q (seeded %q): want a rotated token", c, seeded.RefreshToken)
	}
	// The rotated-out token keeps working for --refresh-grace (two tabs
	// racing); replaying it later ends the whole session, which
	// server/node's TestRefreshReplayEndsSession proves.
	b.typeInto("composer", "still here")
	b.do(pressEnter(false))
	b.waitFor("the message sent", rowOf("still here")+`?.matches(":not(.pending)")`)
}

// TestSessionEnded gives the app a session the server does not know: the
// app signs out and says why.
func TestSessionEnded(t *testing.T) {
	srv := startServer(t)
	srv.signup(t, "frank")
	bogus := protocol.Session{User: "frank", AccessToken: "not-a-token", RefreshToken: "not-a-refresh-token", ExpiresAt: time.Now().Add(-time.Minute).UnixMilli()}
	b := newBrowser(t, "frank", 1280, 800)
	b.seed(srv.base, bogus)
	b.open(srv.base + "/room/general")
	b.waitFor("the sign-in form with a notice", `document.getElementById("auth-form") && document.querySelector(".notice")?.textContent === "Your session has ended. Sign in again."`)
	if n := eval[int](b, `Object.keys(localStorage).filter(k => k.startsWith("parley.")).length`); n != 0 {
		t.Errorf("%d parley.* keys left after the session ended", n)
	}
	b.screenshot("session-ended")

	// Signing in on a room's page opens that room.
	b.typeInto("auth-username", "frank")
	b.typeInto("auth-password", password)
	b.click("auth-submit")
	b.waitFor("the room after signing in", `location.pathname === "/room/general" && document.querySelector('.room[data-room="general"]')`)
	b.waitFor("the room", roomReady)
	b.waitFor("frank present", present("frank"))
}
