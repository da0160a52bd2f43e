//go:build !(js && wasm)

package e2e

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/parleychat/parley/shared/client"
	"github.com/parleychat/parley/shared/protocol"
)

// signIn signs in through the form of the sign-in screen on screen.
func (b *browser) signIn(user, pw string) {
	b.t.Helper()
	b.waitFor("the sign-in form", `document.getElementById("auth-form") && document.getElementById("tab-signin")?.getAttribute("aria-selected") === "true"`)
	b.clearInput("auth-username")
	b.clearInput("auth-password")
	b.typeInto("auth-username", user)
	b.typeInto("auth-password", pw)
	b.click("auth-submit")
}

// signedOut waits for the sign-in screen with notice.
func (b *browser) signedOut(notice string) {
	b.t.Helper()
	b.waitFor("the sign-in screen saying "+notice, `document.getElementById("auth-form") && document.querySelector(".notice")?.textContent === `+jsString(notice))
}

// keyPress focuses the element matched by sel and presses Enter on it, as
// a keyboard user does.
func (b *browser) keyPress(sel string) {
	b.t.Helper()
	b.appBooted()
	b.waitFor("the focus on "+sel, `(e => e && (e.focus(), document.activeElement === e))(document.querySelector(`+jsString(sel)+`))`)
	b.do(pressEnter(false))
}

// apiLogin reports how logging in as user with pw through the API ends.
func (s *server) apiLogin(user, pw string) error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_, err := client.NewAPI(s.base, nil).Login(ctx, protocol.Credentials{Username: user, Password: pw})
	return err
}

// sessionCount is how many sessions the account page lists.
const sessionCount = `document.querySelectorAll("#sessions .session").length`

// TestAccountSessions drives the account page by keyboard in two
// browsers signed in as the same user: ending the other browser's session
// signs it out (the node closes its socket; the app learns it from the
// refused refresh); a password change ends every other session and the
// old password no longer signs in; "sign out everywhere" signs out both.
func TestAccountSessions(t *testing.T) {
	srv := startServer(t)
	srv.signup(t, "joan")
	const newPassword = "a brand new secret"
	one, two := newBrowser(t, "joan-1", 1280, 800), newBrowser(t, "joan-2", 1280, 800)
	for _, b := range []*browser{one, two} {
		b.open(srv.base + "/room/general")
		b.signIn("joan", password)
		b.waitFor("the room", roomReady)
	}

	one.keyPress("#account-link")
	one.waitFor("the account page, its heading focused", `location.pathname === "/account" && document.activeElement?.id === "account-title"`)
	// The sign-up's session, and one per browser.
	one.waitFor("three sessions", sessionCount+` === 3 && document.querySelectorAll('#sessions .session[data-current="true"]').length === 1`)
	one.waitFor("the browser named", `document.querySelector('#sessions .session[data-current="true"] .session-device').textContent === "Chrome on Linux" && document.querySelector('#sessions .session[data-current="true"] .badge').textContent === "This device"`)
	one.screenshot("account")

	// Sessions are listed oldest first: the last is the other browser's.
	one.keyPress(`#sessions .session:last-child button[data-end]`)
	two.signedOut("Your session has ended. Sign in again.")
	one.waitFor("two sessions", sessionCount+` === 2`)

	// A wrong current password changes nothing.
	one.typeInto("current-password", "not my password")
	one.typeInto("new-password", newPassword)
	one.do(pressEnter(false))
	one.waitFor("the wrong password said", `document.getElementById("password-error")?.textContent === "Wrong password."`)
	one.clearInput("current-password")
	one.typeInto("current-password", password)
	one.keyPress("#password-submit")
	one.waitFor("the password changed", `document.getElementById("password-done")?.textContent === "Password changed. Your other sessions were signed out."`)
	one.waitFor("only this session left", sessionCount+` === 1`)
	two.signIn("joan", password)
	two.authError("Wrong username or password.")
	two.clearInput("auth-password")
	two.typeInto("auth-password", newPassword)
	two.click("auth-submit")
	two.waitFor("signed in with the new password", signedIn("joan"))
	one.open(srv.base + "/room/general")
	one.waitFor("the first browser still signed in", roomReady)

	// Sign out everywhere, from the second browser.
	two.click("account-link")
	two.waitFor("the account page, its heading focused", `document.activeElement?.id === "account-title"`)
	two.keyPress("#sign-out-all")
	two.signedOut("You signed out everywhere.")
	one.signedOut("Your session has ended. Sign in again.")
}

// TestDeleteAccount: deleting takes a second step that says what happens
// and asks for the password; a wrong one changes nothing, Cancel puts the
// focus back, and once deleted the account cannot sign in.
func TestDeleteAccount(t *testing.T) {
	srv := startServer(t)
	b := newBrowser(t, "kim", 1280, 800)
	b.seed(srv.base, srv.signup(t, "kim"))
	b.open(srv.base + AccountPath)
	b.waitFor("the account page, its heading focused", `document.activeElement?.id === "account-title"`)
	b.keyPress("#delete-start")
	b.waitFor("the password asked for, and the warning", `document.activeElement?.id === "delete-password" && document.getElementById("delete-warning")`)
	b.keyPress("#delete-cancel")
	b.waitFor("the second step gone, the focus back", `!document.getElementById("delete-form") && document.activeElement?.id === "delete-start"`)

	b.keyPress("#delete-start")
	b.waitFor("the password asked for", `document.activeElement?.id === "delete-password"`)
	b.screenshot("delete")
	b.typeInto("delete-password", "not my password")
	b.do(pressEnter(false))
	b.waitFor("the wrong password said", `document.getElementById("delete-error")?.textContent === "Wrong password."`)
	b.clearInput("delete-password")
	b.typeInto("delete-password", password)
	b.keyPress("#delete-confirm")
	b.signedOut("Your account was deleted.")
	if err := srv.apiLogin("kim", password); !errors.Is(err, client.ErrUnauthorized) {
		t.Fatalf("logging in to the deleted account: %v, want unauthorized", err)
	}
}

// AccountPath is the account page (app/ui.AccountPath).
const AccountPath = "/account"
