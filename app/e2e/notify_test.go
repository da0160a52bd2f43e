//go:build !(js && wasm)

package e2e

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	cdpbrowser "github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/parleychat/parley/shared/client"
)

// recordNotifications runs in every document before its own scripts: it
// keeps the real Notification (the browser shows it) and records each one
// created, and counts the permission requests.
const recordNotifications = `(() => {
  const Real = window.Notification;
  window.__notes = [];
  window.__asked = 0;
  window.Notification = class extends Real {
    constructor(title, options) {
      window.__notes.push({ title: title, body: options && options.body, tag: options && options.tag });
      super(title, options);
    }
    static requestPermission(...args) {
      window.__asked++;
      return Real.requestPermission(...args);
    }
  };
})();`

// recordOnNewDocument adds script to every document the tab loads.
func recordOnNewDocument(script string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: script})
		return err
	})
}

// grantNotifications allows notifications for origin, as the user would
// in the browser's prompt (Browser.setPermission; this protocol version no
// longer has Browser.grantPermissions).
func grantNotifications(origin string) chromedp.Action[chromedp.Void] {
	return setNotifications(origin, cdpbrowser.PermissionSettingGranted)
}

// setNotifications sets the notification permission of origin, as the
// user would in the browser's site settings.
func setNotifications(origin string, setting cdpbrowser.PermissionSetting) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, cdpbrowser.SetPermission, cdpbrowser.SetPermissionParams{
			Permission: &cdpbrowser.PermissionDescriptor{Name: "notifications"},
			Setting:    setting,
			Origin:     origin,
		})
		return err
	})
}

// TestNotifyButtonFollowsPermission: blocking notifications in the
// browser's site settings while the app is open turns the button into
// the "blocked" note at once, and allowing them again brings the button
// back, with nothing else happening in the app meanwhile (the app hears
// of the change from the browser; it no longer reads the permission on
// every render).
func TestNotifyButtonFollowsPermission(t *testing.T) {
	srv := startServer(t)
	b := newBrowser(t, "pia", 1280, 800)
	b.seed(srv.base, srv.signup(t, "pia"))
	b.open(srv.base + "/room/general")
	b.waitFor("the room", roomReady)
	b.waitFor("the notifications button", `document.getElementById("notify")?.getAttribute("aria-pressed") === "false"`)
	b.do(setNotifications(srv.base, cdpbrowser.PermissionSettingDenied))
	b.waitFor("the blocked note", `!document.getElementById("notify") && !!document.getElementById("notify-blocked")`)
	b.do(setNotifications(srv.base, cdpbrowser.PermissionSettingGranted))
	b.waitFor("the button again", `!document.getElementById("notify-blocked") && document.getElementById("notify")?.getAttribute("aria-pressed") === "false"`)
}

// minimize minimizes (or restores) the browser window: the page becomes
// hidden (or visible).
func minimize(on bool) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		w, err := cdp.Call(ctx, t, cdpbrowser.GetWindowForTarget, cdpbrowser.GetWindowForTargetParams{})
		if err != nil {
			return err
		}
		state := cdpbrowser.WindowStateNormal
		if on {
			state = cdpbrowser.WindowStateMinimized
		}
		_, err = cdp.Call(ctx, t, cdpbrowser.SetWindowBounds, cdpbrowser.SetWindowBoundsParams{WindowID: w.WindowID, Bounds: &cdpbrowser.Bounds{WindowState: state}})
		return err
	})
}

type note struct{ Title, Body, Tag string }

// TestMentionNotification: the app never asks for permission on load;
// after the user turns notifications on with the button, a message that
// mentions them while the tab is hidden raises one system notification,
// and a message without a mention raises none. In a direct room, which
// the tab does not have open (its messages come through a watch), any
// message raises one, titled with the sender's name.
func TestMentionNotification(t *testing.T) {
	srv := startServer(t)
	alice, bob := newBrowser(t, "alice", 1280, 800), newBrowser(t, "bob", 1280, 800)
	alice.do(recordOnNewDocument(recordNotifications), grantNotifications(srv.base))
	alice.seed(srv.base, srv.signup(t, "alice"))
	bobSess := srv.signup(t, "bob")
	bob.seed(srv.base, bobSess)
	for _, b := range []*browser{alice, bob} {
		b.open(srv.base + "/room/general")
		b.waitFor("the room", roomReady)
	}
	alice.waitFor("the notifications button", `document.getElementById("notify")?.getAttribute("aria-pressed") === "false"`)
	if n := eval[int](alice, `window.__asked`); n != 0 {
		t.Fatalf("the app asked for notification permission %d times on load", n)
	}

	send := func(body string) {
		t.Helper()
		bob.typeInto("composer", body)
		bob.do(pressEnter(false))
		bob.waitFor("the message sent", rowOf(body)+`?.matches(":not(.pending)")`)
	}
	hidden := func(on bool) {
		t.Helper()
		alice.do(minimize(on))
		alice.waitFor("the page hidden or shown", `document.visibilityState === `+jsString(map[bool]string{true: "hidden", false: "visible"}[on]))
	}

	// Not turned on yet: a mention in a hidden tab stays silent.
	hidden(true)
	send("@alice before you said yes")
	hidden(false)
	alice.waitFor("the first mention", hasBody("@alice before you said yes"))

	alice.click("notify")
	alice.waitFor("notifications on", `document.getElementById("notify").getAttribute("aria-pressed") === "true"`)
	if n := eval[int](alice, `window.__asked`); n != 1 {
		t.Errorf("the button asked for permission %d times, want 1", n)
	}
	// Visible: the message is on screen, no notification.
	send("@alice you can see this")
	alice.waitFor("the visible mention", hasBody("@alice you can see this"))

	hidden(true)
	send("no mention here")
	send("are you there @alice?")
	alice.waitFor("a notification", `window.__notes.length > 0`)
	var notes []note
	if err := json.Unmarshal([]byte(eval[string](alice, `JSON.stringify(window.__notes)`)), &notes); err != nil {
		t.Fatal(err)
	}
	if len(notes) != 1 || notes[0].Title != "#general · bob" || notes[0].Body != "are you there @alice?" {
		t.Fatalf("notifications %+v, want one from bob in #general with the mention", notes)
	}
	hidden(false)
	alice.waitFor("the mention on screen", hasBody("are you there @alice?"))
	if n := eval[int](alice, `window.__notes.length`); n != 1 {
		t.Errorf("%d notifications, want 1", n)
	}

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	dm, err := client.NewAPI(srv.base, nil).DirectRoom(ctx, bobSess.AccessToken, "alice")
	if err != nil {
		t.Fatal(err)
	}
	alice.waitFor("the direct room, watched", roomLink(dm.Name)+`?.matches('[data-watched="true"]')`)
	hidden(true)
	postMessages(t, srv, bobSess, dm.Name, "no mention, just us")
	alice.waitFor("the direct notification", `window.__notes.length > 1`)
	notes = nil
	if err := json.Unmarshal([]byte(eval[string](alice, `JSON.stringify(window.__notes)`)), &notes); err != nil {
		t.Fatal(err)
	}
	if len(notes) != 2 || notes[1].Title != "bob" || notes[1].Body != "no mention, just us" {
		t.Fatalf("notifications %+v, want a second one from bob with the direct message", notes)
	}
	hidden(false)
}
