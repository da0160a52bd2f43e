//go:build !(js && wasm)

package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"

	"github.com/parleychat/parley/shared/protocol"
	"github.com/parleychat/parley/shared/testenv"
)

var (
	axeOnce   sync.Once
	axeSource string
	axeErr    error
)

// axe returns axe-core's script, installed at a pinned version by
// build/scripts/deps.sh (make deps). Its absence fails the test.
func axe(t *testing.T) string {
	t.Helper()
	axeOnce.Do(func() {
		path := os.Getenv("PARLEY_AXE")
		if path == "" {
			root, err := testenv.ModuleRoot()
			if err != nil {
				axeErr = err
				return
			}
			path = filepath.Join(root, "build", ".tools", "axe", "node_modules", "axe-core", "axe.min.js")
		}
		b, err := os.ReadFile(path)
		if err != nil {
			axeErr = fmt.Errorf("axe-core is missing (run make deps, or set PARLEY_AXE): %w", err)
			return
		}
		axeSource = string(b)
	})
	if axeErr != nil {
		t.Fatal(axeErr)
	}
	return axeSource
}

// audit runs axe-core on the page as it is and fails the test on any
// violation, naming each rule and the elements it found.
func (b *browser) audit(what string) {
	b.t.Helper()
	src := axe(b.t)
	ctx0, cancel0 := context.WithTimeout(b.ctx, pollTimeout)
	defer cancel0()
	if _, err := chromedp.Run(ctx0, chromedp.Evaluate[bool](`!!(window.axe || (0, eval)(`+jsString(src)+`))`)); err != nil {
		b.t.Fatalf("%s: inject axe-core: %.300v", b.name, err)
	}
	ctx, cancel := context.WithTimeout(b.ctx, pollTimeout)
	defer cancel()
	out, err := chromedp.Run(ctx, chromedp.Evaluate[string](`axe.run(document, { resultTypes: ["violations"] }).then(r => JSON.stringify(r.violations.map(v => ({
		id: v.id, impact: v.impact, help: v.help,
		nodes: v.nodes.map(n => n.target.join(" ") + ": " + n.failureSummary)
	}))))`, chromedp.EvalAwaitPromise))
	if err != nil {
		b.fail("%s: run axe on %s: %v", b.name, what, err)
	}
	var violations []struct {
		ID, Impact, Help string
		Nodes            []string
	}
	if err := json.Unmarshal([]byte(out), &violations); err != nil {
		b.t.Fatalf("axe result: %v", err)
	}
	if len(violations) == 0 {
		return
	}
	var msg strings.Builder
	for _, v := range violations {
		fmt.Fprintf(&msg, "\n  %s (%s): %s", v.ID, v.Impact, v.Help)
		for _, n := range v.Nodes[:min(len(v.Nodes), 4)] {
			fmt.Fprintf(&msg, "\n    %s", strings.ReplaceAll(n, "\n", " "))
		}
	}
	b.screenshot("axe-" + testenv.Sanitize(what))
	b.t.Errorf("%s: %s: %d accessibility violations:%s", b.name, what, len(violations), msg.String())
}

// pressKey presses a key without text (Tab, say), with Shift when shift is
// set.
func pressKey(key string, code int64, shift bool) chromedp.Action[chromedp.Void] {
	down := input.DispatchKeyEventParams{
		Type: input.DispatchKeyEventTypeRawKeyDown, Key: key, Code: key,
		WindowsVirtualKeyCode: code, NativeVirtualKeyCode: code,
	}
	if shift {
		down.Modifiers = int64(chromedp.ModifierShift)
	}
	return dispatchKey(down)
}

// colorScheme makes the page see prefers-color-scheme: scheme.
func colorScheme(scheme string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
			Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: scheme}},
		})
		return err
	})
}

// TestAccessibility runs axe-core on every screen (sign-in, room list
// with an unread badge, room view, the presence panel, a message's
// actions, edit box and delete step, a private room's
// members panel with a member's actions, the list of bans, the topic
// editor and the last owner's leave step, a missing room), on a desktop
// and a phone,
// in light and dark mode: zero violations.
func TestAccessibility(t *testing.T) {
	srv := startServer(t)
	dave := srv.signup(t, "dave")
	srv.signup(t, "erin")
	postMessages(t, srv, dave, "general", "seed 1", "seed 2", "seed 3", "مرحبا بالجميع", "שלום לכולם")
	for _, size := range []struct {
		name string
		w, h int64
	}{{"desktop", 1280, 800}, {"phone", 360, 740}} {
		b := newBrowser(t, size.name, size.w, size.h)
		user := "ann-" + size.name
		hideout := "hideout-" + size.name
		owner := srv.signup(t, user)
		privateRoom(t, srv, owner, hideout, "dave")
		banFrom(t, srv, owner, hideout, "erin")
		postMessages(t, srv, owner, hideout, "one of mine") // Edit and Delete on it
		for _, scheme := range []string{"light", "dark"} {
			b.do(colorScheme(scheme))
			b.do(chromedp.Navigate(srv.base + "/manifest.webmanifest"))
			eval[chromedp.Void](b, `localStorage.clear()`)
			b.open(srv.base + "/")
			b.waitFor("the sign-in screen", `document.getElementById("auth-form")`)
			b.audit(scheme + " sign-in")
			b.click("tab-signup")
			b.waitFor("the sign-up form", `document.querySelector("#tab-signup[aria-selected=true]")`)
			b.audit(scheme + " sign-up")

			// An unread mention: the list shows its badge.
			postMessages(t, srv, dave, hideout, "look @"+user)
			b.seed(srv.base, srv.login(t, user))
			b.open(srv.base + "/")
			b.waitFor("the room list", `document.querySelector('.room-link[data-room="general"]')`)
			b.waitFor("the unread badge", badge(hideout)+`?.matches(".mention")`)
			b.audit(scheme + " room list")

			b.open(srv.base + "/room/general")
			b.waitFor("the room", roomReady+" && "+hasBody("seed 3"))
			b.audit(scheme + " room")
			if size.name == "phone" {
				// On a phone the presence list opens over the room.
				b.click("people-toggle")
				b.waitFor("the presence panel", visible("#people"))
				b.audit(scheme + " presence panel")
			}

			// A private room the user owns: the lock, the members panel
			// with its invite form.
			b.open(srv.base + "/room/" + hideout)
			b.waitFor("the members panel", roomReady+" && "+member("dave", protocol.RoleMember))
			// A message's Edit and Delete, shown by keyboard focus, and
			// its edit box.
			b.waitFor("an own message", `document.querySelector("#messages .msg-edit")`)
			eval[chromedp.Void](b, `document.querySelector("#messages .msg-edit").focus()`)
			b.waitFor("the message actions", `document.activeElement?.matches(".msg-edit")`)
			b.audit(scheme + " message actions")
			eval[chromedp.Void](b, `document.activeElement.click()`)
			b.waitFor("the edit box", `document.activeElement?.id === "edit-input"`)
			b.audit(scheme + " edit box")
			b.do(pressKey("Escape", 27, false))
			b.waitFor("the edit box closed", `!document.getElementById("edit-input") && document.activeElement?.matches(".msg-edit")`)
			// Its delete step.
			eval[chromedp.Void](b, `document.querySelector("#messages .msg-delete").click()`)
			b.waitFor("the delete step", `document.activeElement?.matches(".msg-delete-confirm")`)
			b.audit(scheme + " delete step")
			eval[chromedp.Void](b, `document.activeElement.parentElement.querySelector(".msg-delete-cancel").click()`)
			b.waitFor("the delete step closed", `document.activeElement?.matches(".msg-delete") && !document.querySelector(".msg-delete-confirm")`)
			if size.name == "phone" {
				b.click("people-toggle")
				b.waitFor("the members panel", visible("#members"))
			}
			b.audit(scheme + " private room")
			// Its moderation: actions on a member, the list of bans, the
			// topic editor and the last owner's leave step.
			b.waitFor("the list of bans", `document.querySelector('#ban-list .banned[data-user="erin"]')`)
			b.click("topic-edit")
			b.waitFor("the topic editor", `document.activeElement?.id === "topic-input"`)
			b.click("leave-room")
			b.waitFor("the leave step", `document.activeElement?.id === "leave-confirm"`)
			b.audit(scheme + " moderation")

			b.open(srv.base + "/room/nosuchroom")
			b.waitFor("the missing room", `document.getElementById("create-missing")`)
			b.audit(scheme + " missing room")

			b.open(srv.base + AccountPath)
			b.waitFor("the account page with its sessions", `document.querySelector("#sessions .session")`)
			b.click("delete-start")
			b.waitFor("the delete step", `document.getElementById("delete-form")`)
			b.audit(scheme + " account")
		}
	}
}

// TestReadsRight: Arabic and Hebrew messages and names are laid out right
// to left, English ones left to right, in the same room.
func TestReadsRight(t *testing.T) {
	srv := startServer(t)
	sara := srv.signup(t, "sara")
	postMessages(t, srv, sara, "general", "مرحبا بالجميع", "שלום לכולם", "hello all")
	b := newBrowser(t, "alice", 1280, 800)
	b.seed(srv.base, srv.signup(t, "alice"))
	b.open(srv.base + "/room/general")
	b.waitFor("the messages", hasBody("hello all"))
	dir := func(body string) string {
		return eval[string](b, `getComputedStyle(`+rowOf(body)+`.querySelector(".body")).direction`)
	}
	for body, want := range map[string]string{"مرحبا بالجميع": "rtl", "שלום לכולם": "rtl", "hello all": "ltr"} {
		if got := dir(body); got != want {
			t.Errorf("%q is laid out %s, want %s", body, got, want)
		}
	}
	if n := eval[int](b, `document.querySelectorAll("#messages bdi.author").length`); n == 0 {
		t.Error("author names are not isolated in <bdi>")
	}
	b.screenshot("rtl")
}

// TestFocusFollowsNavigation: choosing a room puts the focus in the
// composer (one Tab from nothing), and signing in puts it in the app, not
// on the page body.
func TestFocusFollowsNavigation(t *testing.T) {
	srv := startServer(t)
	srv.signup(t, "alice")
	b := newBrowser(t, "alice", 1280, 800)
	b.open(srv.base + "/")
	b.typeInto("auth-username", "alice")
	b.typeInto("auth-password", password)
	b.do(pressEnter(false))
	b.waitFor("the welcome screen", `document.querySelector(".welcome")`)
	b.waitFor("the focus on the welcome heading", `document.activeElement?.id === "welcome-title"`)

	b.waitFor("the room list", `document.getElementById("general-link")`)
	b.click("general-link")
	b.waitFor("the room", roomReady)
	b.waitFor("the focus in the composer", `document.activeElement?.id === "composer"`)
	if cur := eval[string](b, `document.getElementById("general-link").getAttribute("aria-current")`); cur != "page" {
		t.Errorf("the active room link has aria-current=%q", cur)
	}
	// The keyboard focus ring on the active room is wide and visible.
	// (Tab away and back: focus from the keyboard shows the ring.) The
	// focus is set from the page, not by a DevTools node id, which a
	// re-render between the lookup and the focus leaves stale.
	b.waitFor("the focus on the active room", `(e => e && (e.focus(), document.activeElement === e))(document.getElementById("general-link"))`)
	b.do(pressKey("Tab", 9, false), pressKey("Tab", 9, true))
	b.waitFor("the active room focused from the keyboard", `document.activeElement?.id === "general-link" && document.activeElement.matches(":focus-visible")`)
	width := eval[string](b, `getComputedStyle(document.getElementById("general-link")).outlineWidth`)
	if width != "3px" {
		t.Errorf("focus ring on the active room is %s wide", width)
	}
}
