//go:build !(js && wasm)

package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/parleychat/parley/shared/client"
	"github.com/parleychat/parley/shared/protocol"
	"github.com/parleychat/parley/shared/testenv"
)

// Paths and timeouts.
const (
	defaultChromium = "/usr/bin/chromium"
	// pollTimeout bounds one wait for the page to reach a state. The
	// bounds are generous: a busy machine is slow, and a state that is
	// reached ends the wait at once.
	pollTimeout = time.Minute
	// appTimeout bounds the first load of the app (downloading and
	// compiling app.wasm).
	appTimeout = 3 * time.Minute
	password   = "correct horse battery"
)

var artifacts string

// TestMain checks that the web app is built (the node embeds build/web),
// runs the tests and then checks for leaked goroutines.
func TestMain(m *testing.M) {
	if err := setup(); err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		os.Exit(1)
	}
	testenv.Main(m)
}

func setup() error {
	root, err := testenv.ModuleRoot()
	if err != nil {
		return err
	}
	wasm := filepath.Join(root, "build", "web", "app.wasm")
	if fi, err := os.Stat(wasm); err != nil || fi.Size() == 0 {
		return fmt.Errorf("%s is missing: run make wasm first", wasm)
	}
	artifacts = os.Getenv("PARLEY_TEST_ARTIFACTS")
	if artifacts == "" {
		artifacts = filepath.Join(root, "build", "test-artifacts", "e2e")
	}
	if err := os.MkdirAll(artifacts, 0o755); err != nil {
		return fmt.Errorf("create artifact folder: %w", err)
	}
	return nil
}

// server is one running Parley node (SQLite, in-process broker).
type server struct {
	*testenv.Node
	base string
}

// startServer starts a node on a free port with a fresh data folder;
// args are extra flags (--postgres URL, say; a later flag wins).
//
// Every browser and every seeded user of a test comes from 127.0.0.1,
// and in cookie mode each page load refreshes through the sign-in
// limiter, so the per-address sign-in budget a node gives one real client
// (1/s, burst 10) is raised here: these tests are about the app, and the
// limits have their own tests against the node (server/api, server/node).
func startServer(t *testing.T, args ...string) *server {
	t.Helper()
	base := []string{"--log-level", "debug", "--auth-rate", "50", "--auth-burst", "500"}
	n := testenv.StartNode(t, testenv.NodeConfig{ID: "parley", Args: append(base, args...)})
	return &server{Node: n, base: n.URL}
}

// start runs the node again after stop, on the same address and data.
func (s *server) start(t *testing.T) {
	t.Helper()
	s.Start()
}

// stop kills the node (a crash, as far as clients can tell) and waits.
func (s *server) stop(*testing.T) { s.Kill() }

// signup creates an account through the API, as a seed for a browser.
func (s *server) signup(t *testing.T, user string) protocol.Session {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	sess, err := client.NewAPI(s.base, nil).Signup(ctx, protocol.Credentials{Username: user, Password: password})
	if err != nil {
		t.Fatalf("sign up %s: %v", user, err)
	}
	return sess
}

// browser is one isolated Chromium (own process, own profile) on one tab.
type browser struct {
	t    *testing.T
	name string
	ctx  context.Context
	mu   sync.Mutex
	logs []string
}

// newBrowser starts Chromium with a fresh profile and a viewport of w×h.
func newBrowser(t *testing.T, name string, w, h int64) *browser {
	t.Helper()
	path := os.Getenv("PARLEY_CHROMIUM")
	if path == "" {
		path = defaultChromium
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("Chromium not found at %s (set PARLEY_CHROMIUM or install it: apt-get install chromium): %v", path, err)
	}
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(path),
		chromedp.Flag("headless", true),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.UserDataDir(t.TempDir()),
	)
	ctx, cancel := chromedp.NewContext(alloc)
	b := &browser{t: t, name: name, ctx: ctx}
	t.Cleanup(func() {
		cancel()
		cancelAlloc()
		if t.Failed() {
			b.mu.Lock()
			t.Logf("%s console:\n%s", name, strings.Join(b.logs, "\n"))
			b.mu.Unlock()
		}
	})
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(w, h)); err != nil {
		t.Fatalf("start Chromium %s: %v", path, err)
	}
	b.captureConsole()
	return b
}

// captureConsole keeps the tab's console messages, to show when the test
// fails.
func (b *browser) captureConsole() {
	messages := chromedp.Console(b.ctx)
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			b.mu.Lock()
			b.logs = append(b.logs, m.String())
			b.mu.Unlock()
		}
	}()
}

// newTab opens another tab in b's browser: same profile, so the same
// cookies, storage, service worker and Web Locks.
func (b *browser) newTab(name string) *browser {
	b.t.Helper()
	ctx, cancel := chromedp.NewContext(b.ctx)
	tab := &browser{t: b.t, name: name, ctx: ctx}
	b.t.Cleanup(func() {
		cancel()
		if b.t.Failed() {
			tab.mu.Lock()
			b.t.Logf("%s console:\n%s", name, strings.Join(tab.logs, "\n"))
			tab.mu.Unlock()
		}
	})
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1280, 800)); err != nil {
		b.t.Fatalf("open tab %s: %v", name, err)
	}
	tab.captureConsole()
	return tab
}

// do runs actions with a timeout.
func (b *browser) do(actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, pollTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		b.fail("%s: %v", b.name, err)
	}
}

// eval evaluates a JavaScript expression.
func eval[T any](b *browser, expr string) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, pollTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		b.fail("%s: evaluate %s: %v", b.name, expr, err)
	}
	return v
}

// awaitEval evaluates a JavaScript expression whose value is a promise and
// returns what it resolves to.
func awaitEval[T any](b *browser, expr string) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, pollTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		b.fail("%s: evaluate %s: %v", b.name, expr, err)
	}
	return v
}

// waitFor polls a JavaScript condition until it holds.
func (b *browser) waitFor(what, cond string) {
	b.t.Helper()
	b.waitForWithin(pollTimeout, what, cond)
}

func (b *browser) waitForWithin(d time.Duration, what, cond string) {
	b.t.Helper()
	err := testenv.Poll(b.ctx, d, func() error {
		ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
		defer cancel()
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool]("!!("+cond+")"))
		if err == nil && !ok {
			err = errors.New("still false")
		}
		return err
	})
	if err != nil {
		b.fail("%s: waiting for %s (%s): %v", b.name, what, cond, err)
	}
}

// fail takes a screenshot and the page text, then fails the test.
func (b *browser) fail(format string, args ...any) {
	b.t.Helper()
	b.screenshot("failure")
	ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
	defer cancel()
	text, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body ? document.body.innerText : ""`))
	b.t.Fatalf(format+"\npage text:\n%s", append(args, text)...)
}

// screenshot saves the viewport as a PNG in the artifact folder.
func (b *browser) screenshot(name string) string {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 10*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		b.t.Logf("%s: screenshot %s: %v", b.name, name, err)
		return ""
	}
	file := filepath.Join(artifacts, fmt.Sprintf("%s-%s-%s.png", testenv.Sanitize(b.t.Name()), b.name, name))
	if err := os.WriteFile(file, png, 0o644); err != nil {
		b.t.Logf("save screenshot: %v", err)
		return ""
	}
	b.t.Logf("screenshot: %s", file)
	return file
}

// open loads a page of the app and waits until the app runs.
func (b *browser) open(url string) {
	b.t.Helper()
	b.do(chromedp.Navigate(url))
	b.waitForWithin(appTimeout, "the app to start", `!document.getElementById("app-wasm-loader") && document.querySelector(".auth-page:not([data-prerender]), .layout")`)
}

// seed puts a session in the browser as the app leaves it after a
// sign-in: the refresh token in the node's HttpOnly cookie, and only the
// user's name in localStorage. The app's first start refreshes through
// the cookie, so a seeded refresh token is rotated and cannot be seeded
// again (that is a replay, which ends the session): seed a new login.
func (b *browser) seed(base string, s protocol.Session) {
	b.t.Helper()
	// Any same-origin page gives access to the origin's localStorage.
	b.do(chromedp.Navigate(base + "/manifest.webmanifest"))
	b.do(setRefreshCookie(base, s.RefreshToken))
	eval[chromedp.Void](b, `localStorage.setItem("parley.profile", `+jsString(`{"user":`+jsString(s.User)+`}`)+`)`)
}

// setRefreshCookie sets the refresh cookie as the node does in cookie
// mode (server/api: HttpOnly, Secure, SameSite=Strict, the refresh path).
func setRefreshCookie(base, token string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		yes := true
		_, err := cdp.Call(ctx, t, network.SetCookie, network.SetCookieParams{
			Name: protocol.RefreshCookie, Value: token, URL: base + protocol.PathRefresh, Path: protocol.PathRefresh,
			Secure: &yes, HTTPOnly: &yes, SameSite: network.CookieSameSiteStrict,
			Expires: cdp.TimeSinceEpoch(time.Now().Add(time.Hour).Unix()),
		})
		if err != nil {
			return fmt.Errorf("set the refresh cookie: %w", err)
		}
		return nil
	})
}

// refreshCookie returns the browser's refresh cookie for base, "" when
// there is none.
func (b *browser) refreshCookie(base string) string {
	b.t.Helper()
	var value string
	b.do(chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		res, err := cdp.Call(ctx, t, network.GetCookies, network.GetCookiesParams{URLs: []string{base + protocol.PathRefresh}})
		if err != nil {
			return fmt.Errorf("read cookies: %w", err)
		}
		for _, c := range res.Cookies {
			if c.Name == protocol.RefreshCookie {
				value = c.Value
			}
		}
		return nil
	}))
	return value
}

// login starts a new session for user through the API.
func (s *server) login(t *testing.T, user string) protocol.Session {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	sess, err := client.NewAPI(s.base, nil).Login(ctx, protocol.Credentials{Username: user, Password: password})
	if err != nil {
		t.Fatalf("log in %s: %v", user, err)
	}
	return sess
}

// typeInto focuses an element and types text with real key events.
func (b *browser) typeInto(id, text string) {
	b.t.Helper()
	b.appBooted()
	b.do(chromedp.SendKeys(chromedp.ID(id), text))
}

func (b *browser) click(id string) {
	b.t.Helper()
	b.appBooted()
	b.do(chromedp.Click(chromedp.ID(id)))
}

// appBooted waits until the page shows the app, not the snapshot of the
// last view or the prerendered sign-in page shown before app.wasm runs
// (boot.go): they have the same ids but no handlers, and the app replaces
// their nodes when it boots (a click found on them would be lost, or fail
// on a node gone).
func (b *browser) appBooted() {
	b.t.Helper()
	b.waitFor("the app, not its snapshot", live+`!document.querySelector("[data-prerender]")`)
}

// bodies returns the texts of the message bodies shown, oldest first.
func (b *browser) bodies() []string {
	b.t.Helper()
	return eval[[]string](b, `Array.from(document.querySelectorAll("#messages .msg .body")).map(e => e.textContent)`)
}

// jsString quotes s as a JavaScript string literal.
func jsString(s string) string {
	b, err := json.Marshal(s)
	if err != nil {
		panic(err) // a string always marshals
	}
	return string(b)
}

// pressEnter presses Enter (with Shift when shift is set) in the focused
// element the way a keyboard does: one keyDown that carries the text, so
// that preventDefault on keydown stops the new line, as in a real browser.
// (chromedp's KeyEvent sends a separate char event, which ignores it.)
func pressEnter(shift bool) chromedp.Action[chromedp.Void] {
	down := input.DispatchKeyEventParams{
		Type: input.DispatchKeyEventTypeKeyDown, Key: "Enter", Code: "Enter",
		WindowsVirtualKeyCode: 13, NativeVirtualKeyCode: 13, Text: "\r", UnmodifiedText: "\r",
	}
	if shift {
		down.Modifiers = int64(chromedp.ModifierShift)
	}
	return dispatchKey(down)
}

// dispatchKey dispatches down, a key going down (with its text, if any),
// and then the same key going up.
func dispatchKey(down input.DispatchKeyEventParams) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		up := down
		up.Type, up.Text, up.UnmodifiedText = input.DispatchKeyEventTypeKeyUp, "", ""
		for _, p := range []input.DispatchKeyEventParams{down, up} {
			if _, err := cdp.Call(ctx, t, input.DispatchKeyEvent, p); err != nil {
				return fmt.Errorf("dispatch key event: %w", err)
			}
		}
		return nil
	})
}

// clickSel clicks the first element matching a CSS selector.
func clickSel(sel string) chromedp.Action[chromedp.Void] {
	return chromedp.Click(chromedp.CSS(sel))
}

// darkMode makes the page see prefers-color-scheme: dark.
func darkMode() chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
			Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: "dark"}},
		})
		return err
	})
}
