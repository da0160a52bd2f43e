package ui

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/maxence-charriere/go-app/v10/pkg/app"
	"golang.org/x/net/html"

	"github.com/parleychat/parley/app/state"
	"github.com/parleychat/parley/shared/protocol"
)

const xss = `<img src=x onerror="alert(1)">`

func TestRowBodyIsText(t *testing.T) {
	r := &roomView{Room: "general"}
	row := state.Row{Kind: state.RowMessage, Offset: 7, Author: "bob", Body: xss, Clock: "10:00", Title: "t"}
	ui := r.row(row)
	// msg › bubble (after the avatar) › body (after the meta line) › text.
	if err := app.Match(app.Text(xss), ui, 1, 1, 0); err != nil {
		t.Fatalf("the body is not a text node holding the message: %v\n%s", err, app.HTMLString(ui))
	}
	html := app.HTMLString(ui)
	if strings.Contains(html, "<img") || !strings.Contains(html, "&lt;img src=x") {
		t.Fatalf("markup of a message reached the HTML:\n%s", html)
	}
	for _, want := range []string{`data-offset="7"`, `data-author="bob"`, `class="msg"`, ">bob<", ">10:00<"} {
		if !strings.Contains(html, want) {
			t.Errorf("row lacks %s:\n%s", want, html)
		}
	}
}

func TestRowStates(t *testing.T) {
	r := &roomView{Room: "general"}
	cases := []struct {
		row  state.Row
		want []string
		not  []string
	}{
		{
			row:  state.Row{Kind: state.RowMessage, Author: "me", Body: "hi", Own: true, Pending: true, CID: "c1"},
			want: []string{`class="msg own pending"`, "Sending…"},
			not:  []string{`class="avatar"`, `class="author"`},
		},
		{
			row:  state.Row{Kind: state.RowMessage, Author: "me", Body: "hi", Own: true, Failed: "Slow down.", CID: "c2"},
			want: []string{`class="msg own failed"`, "Not sent: Slow down.", ">Retry<", ">Discard<"},
		},
		{
			row:  state.Row{Kind: state.RowMessage, Author: "ann", Body: "again", Continued: true},
			want: []string{`class="msg cont"`, `class="avatar-space"`},
			not:  []string{`class="meta"`},
		},
		{
			row:  state.Row{Kind: state.RowDay, Day: "Today"},
			want: []string{`class="day"`, ">Today<"},
		},
	}
	for _, c := range cases {
		html := app.HTMLString(r.row(c.row))
		for _, w := range c.want {
			if !strings.Contains(html, w) {
				t.Errorf("row %+v lacks %s:\n%s", c.row, w, html)
			}
		}
		for _, n := range c.not {
			if strings.Contains(html, n) {
				t.Errorf("row %+v has %s:\n%s", c.row, n, html)
			}
		}
	}
}

// TestShellPrerendersSignIn checks what the server renders: it knows no
// session and must not start a client. It renders the sign-in page,
// marked data-prerender (the page script shows it before app.wasm runs
// when nobody is signed in); the app's own is never marked.
func TestShellPrerendersSignIn(t *testing.T) {
	e := app.NewTestEngine()
	s := &shell{}
	if err := e.Load(s); err != nil {
		t.Fatal(err)
	}
	e.ConsumeAll()
	if err := app.Match(app.Main().Class("auth-page").DataSet("prerender", true), s, 0, 0); err != nil {
		t.Fatalf("prerender is not the marked sign-in page: %v", err)
	}
	if theApp != nil {
		t.Fatal("the prerender created the app-level client")
	}
	d := parse(t, app.HTMLString(&authPage{}))
	if marked := d.all(func(n *html.Node) bool { return hasAttr(n, "data-prerender") }); len(marked) != 0 {
		t.Error("the app's sign-in page is marked data-prerender")
	}
}

func TestAuthPageModes(t *testing.T) {
	p := &authPage{}
	p.OnInit()
	html := app.HTMLString(p.Render())
	for _, want := range []string{`id="auth-username"`, `autocomplete="current-password"`, `id="auth-submit"`, ">Sign in</button>"} {
		if !strings.Contains(html, want) {
			t.Errorf("sign-in form lacks %s", want)
		}
	}
	p.mode, p.err, p.Notice = state.SignUp, "That username is taken.", "Your session has ended."
	html = app.HTMLString(p.Render())
	for _, want := range []string{`autocomplete="new-password"`, ">Create account</button>", `role="alert"`, "That username is taken.", "at least 8 characters"} {
		if !strings.Contains(html, want) {
			t.Errorf("sign-up form lacks %s:\n%s", want, html)
		}
	}
	if strings.Contains(html, "Your session has ended.") {
		t.Error("the notice stays while an error shows")
	}
	p.busy = true
	if html := app.HTMLString(p.Render()); !strings.Contains(html, "Creating account…") || !strings.Contains(html, "disabled") {
		t.Errorf("busy form:\n%s", html)
	}
}

func TestCheckCredentials(t *testing.T) {
	cases := []struct {
		mode     state.AuthAction
		user, pw string
		want     string
	}{
		{state.SignIn, "", "x", "Enter a username and a password."},
		{state.SignIn, "ab", "x", ""}, // sign-in leaves the rules to the server
		{state.SignUp, "ab", "long enough", "Username must be 3–32 letters, digits, '.', '-' or '_', starting with a letter or digit."},
		{state.SignUp, "alice", "short", "Password must be at least 8 characters."},
		{state.SignUp, "alice", "long enough", ""},
	}
	for _, c := range cases {
		if got := checkCredentials(c.mode, c.user, c.pw); got != c.want {
			t.Errorf("checkCredentials(%v, %q, %q) = %q, want %q", c.mode, c.user, c.pw, got, c.want)
		}
	}
}

func TestRoomPaths(t *testing.T) {
	for path, want := range map[string]string{
		"/room/general": "general",
		"/room/a-b_9":   "a-b_9",
		"/room/Bad":     "",
		"/room/":        "",
		"/":             "",
		"/rooms/x":      "",
	} {
		if got := roomFromPath(path); got != want {
			t.Errorf("roomFromPath(%q) = %q, want %q", path, got, want)
		}
	}
	if RoomPath(protocol.DefaultRoom) != "/room/general" {
		t.Fatal(RoomPath(protocol.DefaultRoom))
	}
}

func TestConnBanner(t *testing.T) {
	now := time.Unix(1000, 0)
	if connBanner(Conn{State: ConnOnline}, true, now, nil) != nil {
		t.Error("a banner while online")
	}
	for _, c := range []struct {
		conn   Conn
		online bool
		state  string
		text   string
		retry  bool
	}{
		{Conn{State: ConnConnecting}, true, bannerConnecting, "Connecting…", false},
		{Conn{State: ConnReconnecting, RetryAt: now.Add(11500 * time.Millisecond)}, false, bannerOffline, "You are offline.", false},
		{Conn{State: ConnReconnecting, RetryAt: now.Add(11500 * time.Millisecond)}, true, bannerUnreachable, "Can’t reach the server. Reconnecting in 12 s.", true},
		{Conn{State: ConnReconnecting, RetryAt: now.Add(-time.Second)}, true, bannerUnreachable, "Can’t reach the server. Reconnecting…", false},
	} {
		doc := parse(t, app.HTMLString(connBanner(c.conn, c.online, now, nil)))
		banner := doc.byID("conn-status")
		if banner == nil || attr(banner, "data-state") != c.state || attr(banner, "role") != "status" {
			t.Errorf("%+v online=%v: banner %s", c.conn, c.online, app.HTMLString(connBanner(c.conn, c.online, now, nil)))
			continue
		}
		if text := textOf(banner); !strings.HasPrefix(text, c.text) {
			t.Errorf("%+v online=%v: text %q, want %q…", c.conn, c.online, text, c.text)
		}
		if got := doc.byID("retry-now") != nil; got != c.retry {
			t.Errorf("%+v online=%v: Retry now shown %v, want %v", c.conn, c.online, got, c.retry)
		}
	}
}

func TestSortRooms(t *testing.T) {
	rooms := []protocol.Room{{Name: "zeta"}, {Name: "alpha"}, {Name: "general"}, {Name: "beta"}}
	sortRooms(rooms)
	var names []string
	for _, r := range rooms {
		names = append(names, r.Name)
	}
	if strings.Join(names, ",") != "general,alpha,beta,zeta" {
		t.Fatalf("order %v", names)
	}
}

func TestSentence(t *testing.T) {
	if got := sentence(protocol.CheckRoomName("")); got != "Room name is empty." {
		t.Fatalf("sentence = %q", got)
	}
}

func TestNotifyButton(t *testing.T) {
	if ui := notifyButton(NotifyUnsupported, nil); ui != nil {
		t.Errorf("a browser without notifications gets %s", app.HTMLString(ui))
	}
	for st, want := range map[NotifyState][]string{
		NotifyOff:     {`id="notify"`, `aria-pressed="false"`, "Notify me of @mentions"},
		NotifyOn:      {`id="notify"`, `aria-pressed`, "Notifying you of @mentions"},
		NotifyBlocked: {`id="notify-blocked"`, "blocked"},
	} {
		html := app.HTMLString(notifyButton(st, nil))
		for _, w := range want {
			if !strings.Contains(html, w) {
				t.Errorf("state %d lacks %s:\n%s", st, w, html)
			}
		}
	}
}

// TestNotifyState: the button follows the permission the browser
// reported; before it has, the user's own choice stands.
func TestNotifyState(t *testing.T) {
	for _, c := range []struct {
		supported bool
		perm      string
		on        bool
		want      NotifyState
	}{
		{false, "", true, NotifyUnsupported},
		{true, "", false, NotifyOff},
		{true, "", true, NotifyOn},
		{true, "default", true, NotifyOff},
		{true, "default", false, NotifyOff},
		{true, "granted", false, NotifyOff},
		{true, "granted", true, NotifyOn},
		{true, "denied", true, NotifyBlocked},
		{true, "denied", false, NotifyBlocked},
	} {
		if got := notifyState(c.supported, c.perm, c.on); got != c.want {
			t.Errorf("notifyState(%v, %q, %v) = %d, want %d", c.supported, c.perm, c.on, got, c.want)
		}
	}
}

// TestPageStart: a room renders the newest pageSize messages first, with
// the day separator above the first of them, and each step back shows
// pageSize more.
func TestPageStart(t *testing.T) {
	day := state.Row{Kind: state.RowDay}
	msg := state.Row{Kind: state.RowMessage}
	var rows []state.Row
	for range 3 { // three days of 40 messages: separators at 0, 41, 82
		rows = append(rows, day)
		for range 40 {
			rows = append(rows, msg)
		}
	}
	// 123 rows: day three's 40 and the last 10 of day two, from its
	// 31st message (index 72), which has no separator right above it.
	if got := pageStart(rows, len(rows)); got != 72 {
		t.Errorf("newest page starts at %d, want 72", got)
	}
	// Back from the 11th message of day two: its 10 and day one's 40
	// make 50, so the page starts at day one's separator.
	if got := pageStart(rows, 52); got != 0 {
		t.Errorf("page before 52 starts at %d, want 0", got)
	}
	// 40 messages before index 82 (the second day's 40), then 10 of day
	// one: starts at its 31st message.
	if got := pageStart(rows, 82); got != 31 {
		t.Errorf("page before 82 starts at %d, want 31", got)
	}
	// A page whose 50th message is right below a separator takes the
	// separator: 10 of day three (83..92) and all of day two.
	if got := pageStart(rows, 93); got != 41 {
		t.Errorf("page before 93 starts at %d, want 41", got)
	}
	if got := pageStart(rows[:30], 30); got != 0 {
		t.Errorf("fewer than a page starts at %d, want 0", got)
	}
	if got := pageStart(rows, 500); got != 72 {
		t.Errorf("an end past the rows starts at %d, want 72", got)
	}
}

func TestNotificationTag(t *testing.T) {
	m := &protocol.Message{Room: "general", Offset: 42}
	if got := notificationTag(m); got != "parley:general:42" {
		t.Errorf("tag %q", got)
	}
}

// TestAvatarColorIsAClass: the page's CSP allows no style attributes, so
// an avatar's color is one of the style sheet's palette classes.
func TestAvatarColorIsAClass(t *testing.T) {
	css, err := os.ReadFile("../web/parley.css")
	if err != nil {
		t.Fatal(err)
	}
	for i := range state.AvatarColors {
		if !strings.Contains(string(css), fmt.Sprintf(".hue-%d {", i)) {
			t.Errorf("parley.css has no class for avatar color %d", i)
		}
	}
	for _, user := range []string{"ann", "bob", "a_very_long.user-name"} {
		html := app.HTMLString(avatar(user))
		want := fmt.Sprintf(`class="avatar hue-%d"`, state.AvatarColor(user))
		if strings.Contains(html, "style") || !strings.Contains(html, want) {
			t.Errorf("avatar of %s: want %s and no style attribute:\n%s", user, want, html)
		}
	}
}

// TestSessionRow: the account page names the device, marks this one, and
// offers to end only the others, with a label that says which.
func TestSessionRow(t *testing.T) {
	v := &accountView{}
	now := time.Now()
	ua := "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
	mine := app.HTMLString(v.session(protocol.SessionInfo{ID: "s1", UserAgent: ua, LastSeen: now.UnixMilli(), Current: true}, now))
	for _, want := range []string{`data-session="s1"`, ">Chrome on Linux<", ">This device<", "Last active Today at "} {
		if !strings.Contains(mine, want) {
			t.Errorf("this session's row lacks %s:\n%s", want, mine)
		}
	}
	if strings.Contains(mine, "<button") {
		t.Errorf("this session can be ended from the list:\n%s", mine)
	}
	other := app.HTMLString(v.session(protocol.SessionInfo{ID: "s2", UserAgent: ua, LastSeen: now.UnixMilli()}, now))
	for _, want := range []string{`data-end="s2"`, `aria-label="End the session on Chrome on Linux, last active Today at `, ">End<"} {
		if !strings.Contains(other, want) {
			t.Errorf("another session's row lacks %s:\n%s", want, other)
		}
	}
	if strings.Contains(other, "This device") {
		t.Errorf("another session is marked as this device:\n%s", other)
	}
}
