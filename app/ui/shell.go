package ui

import (
	"context"
	"reflect"
	"strconv"
	"time"

	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"github.com/parleychat/parley/app/state"
	"github.com/parleychat/parley/shared/protocol"
)

// shell is the root of every page: the sign-in screen when signed out,
// else the sidebar (rooms, new room, account) beside the open room.
type shell struct {
	app.Compo

	a     *App
	stop  func()
	watch coalescer
	room  string
	// account: the page is the account page.
	account bool
	user    string
	rooms   []protocol.Room
	// watched names the rooms whose new messages arrive live.
	watched map[string]bool
	loaded  bool
	roomErr string
	// live: invitations and removals arrive live (data-live on the list).
	live bool
	// feed: public rooms others create arrive live (data-feed on the
	// list).
	feed    bool
	conn    Conn
	notify  NotifyState
	updated bool
	// ticking: a re-render is scheduled to count down to the next
	// connection attempt.
	ticking bool
	// installable: the browser can install the app; apple: it is an
	// Apple browser, which has no prompt (Share → Add to Home Screen).
	installable, apple, installHelp bool
	// title is the page's title without the unread count; unread is
	// the count in it.
	title  string
	unread int64
	// polling: the room list reloads every roomPollEvery; dismounted
	// stops it.
	polling, dismounted bool
}

// OnInit joins the app-level client in the browser before the first
// render, so the first frame is the real view (the page may be showing a
// snapshot of it that the prerender would replace). The server's
// prerender never opens a connection: it renders the sign-in page.
func (s *shell) OnInit() {
	if app.IsClient {
		s.a = current(localStorage{})
		path := app.Window().URL().Path
		s.room, s.account = roomFromPath(path), path == AccountPath
		s.a.Select(s.room)
		s.sync()
	}
}

// OnMount starts (or joins) the app-level client and follows its changes.
func (s *shell) OnMount(ctx app.Context) {
	s.a = current(ctx.LocalStorage())
	s.stop = s.a.Watch(func() {
		s.watch.trigger(func() {
			ctx.Dispatch(func(ctx app.Context) {
				s.watch.done()
				s.follow(ctx)
			})
		})
	})
	// The first render (OnInit) may have shown all of this already.
	before := s.shown()
	s.nav(ctx)
	s.update(ctx)
	s.OnAppInstallChange(ctx)
	if reflect.DeepEqual(before, s.shown()) {
		ctx.PreventUpdate()
	}
	s.poll(ctx)
}

// poll reloads the room list every roomPollEvery while the shell is
// mounted and someone is signed in: the counts of rooms that are not
// open come from there.
func (s *shell) poll(ctx app.Context) {
	if s.polling {
		return
	}
	s.polling = true
	ctx.After(s.a.pollEvery(), func(ctx app.Context) {
		s.polling = false
		if s.dismounted {
			return
		}
		if s.user != "" {
			go s.a.RefreshRooms()
		}
		s.poll(ctx)
	})
}

// follow takes a new snapshot after the app changed. One the shell shows
// already (the change was in a room) is not rendered again.
func (s *shell) follow(ctx app.Context) {
	before := s.shown()
	s.update(ctx)
	if reflect.DeepEqual(before, s.shown()) {
		ctx.PreventUpdate()
	}
}

// shown is what the shell renders, but for the time and the browser's
// online state (the countdown re-renders by itself).
func (s *shell) shown() []any {
	return []any{s.room, s.account, s.user, s.rooms, s.loaded, s.roomErr, s.watched, s.live, s.conn, s.notify,
		s.updated, s.installable, s.apple, s.installHelp, s.unread}
}

// update takes a new snapshot of the app. While the connection waits to
// retry, it re-renders every second for the countdown.
func (s *shell) update(ctx app.Context) {
	s.sync()
	s.setTitle(ctx)
	if s.conn.State == ConnReconnecting && !s.ticking {
		s.ticking = true
		ctx.After(time.Second, func(ctx app.Context) {
			s.ticking = false
			s.update(ctx)
		})
	}
}

// OnAppInstallChange shows or hides the install button.
func (s *shell) OnAppInstallChange(ctx app.Context) {
	s.installable, s.apple = ctx.IsAppInstallable(), ctx.IsAppleBrowser()
}

// OnNav follows the URL: /room/a → /room/b reuses this component.
func (s *shell) OnNav(ctx app.Context) { s.nav(ctx) }

func (s *shell) nav(ctx app.Context) {
	path := ctx.Page().URL().Path
	s.room, s.account = roomFromPath(path), path == AccountPath
	title := "Parley"
	switch {
	case s.room != "":
		info := protocol.Room{Name: s.room}
		if s.a != nil {
			info, _ = s.a.RoomInfo(s.room)
		}
		title = roomRef(info) + " · Parley"
	case s.account:
		title = "Account · Parley"
	}
	s.title = title
	s.setTitle(ctx)
	if s.a != nil {
		s.a.Select(s.room)
	}
}

// setTitle puts the total unread count in the tab's title: "(3) Parley".
func (s *shell) setTitle(ctx app.Context) {
	if s.title != "" {
		ctx.Page().SetTitle(pageTitle(s.title, s.unread))
	}
}

// OnDismount stops watching; the app-level client keeps running.
func (s *shell) OnDismount() {
	s.dismounted = true
	if s.stop != nil {
		s.stop()
	}
}

// OnAppUpdate shows the "new version" banner.
func (s *shell) OnAppUpdate(ctx app.Context) { s.updated = ctx.AppUpdateAvailable() }

func (s *shell) sync() {
	s.user = s.a.User()
	s.rooms, s.loaded, s.roomErr = s.a.Rooms()
	s.watched = s.a.WatchedRooms()
	s.live = s.a.InboxLive()
	s.feed = s.a.FeedLive()
	s.conn = s.a.Conn()
	s.notify = s.a.Notifications()
	s.unread = s.a.UnreadTotal()
}

func (s *shell) Render() app.UI {
	switch {
	case s.a == nil:
		// The server knows no session. The sign-in page is what a
		// signed-out visitor will get: the page script shows it at once
		// (boot.go), so the first paint is the page itself.
		return &authPage{Prerender: true}
	case s.user == "":
		return &authPage{Notice: s.a.Notice()}
	}
	layout := "layout"
	if s.room != "" || s.account {
		layout += " has-room"
	}
	return app.Div().Class(layout).Body(
		s.sidebar(),
		app.Main().Class("main").Body(
			// One element whatever the banners show: go-app matches
			// children by position, and a banner coming or going must not
			// remount the view after it (losing its state).
			app.Div().Class("banners").Body(
				updateBanner(s.updated),
				connBanner(s.conn, browserOnline(), time.Now(), s.retryNow),
			),
			app.If(s.room != "", func() app.UI {
				return &roomView{Room: s.room}
			}).ElseIf(s.account, func() app.UI {
				return &accountView{}
			}).Else(func() app.UI {
				return &welcomeView{User: s.user}
			}),
		),
	)
}

func (s *shell) sidebar() app.UI {
	mine, open := splitRooms(s.rooms)
	return app.Aside().Class("sidebar").Body(
		app.Header().Class("brand").Body(
			logo("brand-icon"),
			app.Span().Class("brand-name").Text("Parley"),
			app.If(s.installable, func() app.UI {
				return app.Button().ID("install").Class("button subtle small").Type("button").
					Text("Install").OnClick(s.install)
			}),
		),
		app.If(s.installHelp, func() app.UI {
			return app.P().Class("install-help small").Role("status").
				Text("To install Parley, tap Share, then “Add to Home Screen”.")
		}),
		app.Nav().Class("room-list").Aria("label", "Rooms").DataSet("live", s.live).DataSet("feed", s.feed).Body(
			app.H2().ID("my-rooms-title").Class("section-title").Text("Rooms"),
			app.If(!s.loaded && s.roomErr == "", func() app.UI {
				return app.P().Class("muted small").Text("Loading rooms…")
			}).ElseIf(s.loaded && len(mine) == 0, func() app.UI {
				return app.P().Class("muted small").Text("None yet: open a public room to join it.")
			}),
			app.Ul().ID("my-rooms").Aria("labelledby", "my-rooms-title").Body(
				app.Range(mine).Slice(func(i int) app.UI {
					return s.roomLink(mine[i])
				}),
			),
			app.If(s.roomErr != "" && !s.loaded, func() app.UI {
				return app.P().Class("error small").Text(s.roomErr)
			}),
			// Always there, so that what follows keeps its position
			// (go-app matches children by position).
			app.Div().Body(
				app.If(len(open) > 0, func() app.UI {
					return app.Div().Body(
						app.H2().ID("open-rooms-title").Class("section-title").Text("Public rooms to join"),
						app.Ul().ID("open-rooms").Aria("labelledby", "open-rooms-title").Body(
							app.Range(open).Slice(func(i int) app.UI {
								return s.roomLink(open[i])
							}),
						),
					)
				}),
			),
		),
		&newRoom{},
		&directForm{},
		notifyButton(s.notify, s.toggleNotify),
		app.Footer().Class("me").Body(
			avatar(s.user),
			app.Bdi().Class("me-name").Title(s.user).Text(s.user),
			app.A().ID("account-link").Class("button subtle small").Href(AccountPath).
				Aria("current", ariaCurrent(s.account)).Text("Account"),
			app.Button().ID("sign-out").Class("button subtle").Type("button").Text("Sign out").
				OnClick(s.signOut),
		),
	)
}

// roomLink is one room of the list: a direct room under the other
// person's name, a private one with a lock.
func (s *shell) roomLink(r protocol.Room) app.UI {
	cls := "room-link"
	if r.Name == s.room {
		cls += " active"
	}
	return app.Li().Body(
		app.A().ID(r.Name+"-link").Class(cls).Href(RoomPath(r.Name)).DataSet("room", r.Name).
			DataSet("kind", r.Kind).DataSet("watched", s.watched[r.Name]).Aria("current", ariaCurrent(r.Name == s.room)).Body(
			roomMark(r),
			app.Bdi().Class("room-name").Text(roomLabel(r)),
			unreadBadge(r),
		),
	)
}

func (s *shell) install(ctx app.Context, e app.Event) {
	if s.apple {
		s.installHelp = !s.installHelp
		return
	}
	ctx.ShowAppInstallPrompt()
}

// toggleNotify turns mention notifications on (asking the browser for
// permission the first time) or off.
func (s *shell) toggleNotify(ctx app.Context, e app.Event) {
	if s.notify == NotifyOn {
		s.a.DisableNotifications()
		return
	}
	ctx.Async(func() {
		ctx, cancel := context.WithTimeout(context.Background(), requestTimeout)
		defer cancel()
		if err := s.a.EnableNotifications(ctx); err != nil {
			app.Log(err)
		}
	})
}

// notifyButton turns notifications of mentions on and off; the browser
// asks for permission only after a click on it.
func notifyButton(st NotifyState, toggle app.EventHandler) app.UI {
	switch st {
	case NotifyUnsupported:
		return nil
	case NotifyBlocked:
		return app.P().ID("notify-blocked").Class("notify muted small").
			Text("Notifications are blocked in this browser’s site settings.")
	}
	on := st == NotifyOn
	text := "Notify me of @mentions"
	if on {
		text = "Notifying you of @mentions"
	}
	return app.Div().Class("notify").Body(
		app.Button().ID("notify").Class("button subtle small wide").Type("button").
			Aria("pressed", strconv.FormatBool(on)).Text(text).OnClick(toggle),
	)
}

func (s *shell) retryNow(ctx app.Context, e app.Event) { s.a.RetryNow() }

func (s *shell) signOut(ctx app.Context, e app.Event) {
	s.a.SignOut()
	ctx.Navigate("/")
}

// welcomeView is the signed-in screen without a room. When it appears
// with the focus nowhere (after a sign-in the form it was in is gone), it
// takes the focus on its heading instead of leaving it on the page body.
type welcomeView struct {
	app.Compo
	User string
}

func (w *welcomeView) OnMount(ctx app.Context) {
	ctx.Defer(func(app.Context) {
		doc := app.Window().Get("document")
		if active := doc.Get("activeElement"); !active.Truthy() || active.Equal(doc.Get("body")) {
			focusID(welcomeTitleID)
		}
	})
}

func (w *welcomeView) Render() app.UI { return welcome(w.User) }

func welcome(user string) app.UI {
	return app.Section().Class("welcome").Body(
		logo("welcome-icon"),
		app.H1().ID(welcomeTitleID).TabIndex(-1).Body(app.Text("Hi "), app.Bdi().Text(user), app.Text("!")),
		app.P().Class("muted").Text("Pick a room on the left, or create one."),
		app.A().Class("button primary").Href(RoomPath(protocol.DefaultRoom)).Text("Open #"+protocol.DefaultRoom),
	)
}

// welcomeTitleID is the heading of the welcome screen, focused after a
// sign-in that does not open a room.
const welcomeTitleID = "welcome-title"

// updateBanner offers to reload into a new version. The running page keeps
// the version it loaded until the user reloads: never half of each.
func updateBanner(show bool) app.UI {
	return app.If(show, func() app.UI {
		return app.Div().ID("update-banner").Class("banner info").Role("status").Body(
			app.Span().Text("A new version of Parley is ready."),
			app.Button().ID("update-reload").Class("button small").Type("button").Text("Reload to update").
				OnClick(func(ctx app.Context, e app.Event) { ctx.Reload() }),
		)
	})
}

// Banner states (data-state of #conn-status).
const (
	bannerConnecting  = "connecting"
	bannerOffline     = "offline"
	bannerUnreachable = "unreachable"
)

// connBanner says why there is no connection: the device is offline
// (nothing to do but wait), or the network is fine but the server does
// not answer (a countdown to the next attempt and a "Retry now" button).
func connBanner(c Conn, online bool, now time.Time, retry app.EventHandler) app.UI {
	state, cls, text := "", "banner warn", ""
	var wait time.Duration
	switch c.State {
	case ConnConnecting:
		state, cls, text = bannerConnecting, "banner muted", "Connecting…"
	case ConnReconnecting:
		wait = c.RetryAt.Sub(now)
		switch {
		case !online:
			state, text = bannerOffline, "You are offline. Messages will be sent when you are back online."
		case wait >= time.Second:
			state, text = bannerUnreachable, "Can’t reach the server. Reconnecting in "+seconds(wait)+"."
		default:
			state, text = bannerUnreachable, "Can’t reach the server. Reconnecting…"
		}
	default:
		return nil
	}
	return app.Div().ID("conn-status").Class(cls).Role("status").DataSet("state", state).
		DataSet("retry-at", c.RetryAt.UnixMilli()).Body(
		app.Span().ID("conn-text").Text(text),
		app.If(state == bannerUnreachable && wait >= time.Second, func() app.UI {
			return app.Button().ID("retry-now").Class("button small").Type("button").Text("Retry now").OnClick(retry)
		}),
	)
}

// browserOnline reports what the browser says of the network.
func browserOnline() bool {
	online := app.Window().Get("navigator").Get("onLine")
	return online.IsUndefined() || online.Truthy()
}

// focusID focuses the element with id, if it is on the page.
func focusID(id string) {
	if el := app.Window().GetElementByID(id); el.Truthy() {
		el.Call("focus")
	}
}

// ariaCurrent is aria-current for the link of the page on screen, ""
// (attribute left out) for the others.
func ariaCurrent(current bool) string {
	if current {
		return "page"
	}
	return ""
}

// logo is the app icon as decoration: a CSS image hidden from assistive
// technology (go-app drops an empty alt, so an <img> cannot say that it is
// decorative).
func logo(cls string) app.UI {
	return app.Span().Class("logo "+cls).Aria("hidden", "true")
}

// seconds says d in whole seconds, rounded up: "12 s".
func seconds(d time.Duration) string {
	return strconv.Itoa(int((d+time.Second-1)/time.Second)) + " s"
}

// avatar is a colored circle with a user's initials. Its color is a class
// of a fixed palette: the page's CSP allows no style attributes.
func avatar(user string) app.UI {
	return app.Span().Class("avatar hue-"+strconv.Itoa(state.AvatarColor(user))).Aria("hidden", "true").
		Text(state.Initials(user))
}
