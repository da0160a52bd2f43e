package ui

import (
	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"github.com/parleychat/parley/app/state"
	"github.com/parleychat/parley/shared/protocol"
)

// shell is the root of every page: the sign-in screen when signed out,
// else the sidebar (rooms, new room, account) beside the open room.
type shell struct {
	app.Compo

	a       *App
	stop    func()
	watch   coalescer
	room    string
	user    string
	rooms   []protocol.Room
	loaded  bool
	roomErr string
	conn    Conn
	update  bool
	// installable: the browser can install the app; apple: it is an
	// Apple browser, which has no prompt (Share → Add to Home Screen).
	installable, apple, installHelp bool
}

// OnInit joins the app-level client in the browser before the first
// render, so the first frame is the real view (the page may be showing a
// snapshot of it that the splash would replace). The server's prerender
// never opens a connection: it renders the splash.
func (s *shell) OnInit() {
	if app.IsClient {
		s.a = current(localStorage{})
		s.room = roomFromPath(app.Window().URL().Path)
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
				s.sync()
			})
		})
	})
	s.nav(ctx)
	s.sync()
	s.OnAppInstallChange(ctx)
}

// OnAppInstallChange shows or hides the install button.
func (s *shell) OnAppInstallChange(ctx app.Context) {
	s.installable, s.apple = ctx.IsAppInstallable(), ctx.IsAppleBrowser()
}

// OnNav follows the URL: /room/a → /room/b reuses this component.
func (s *shell) OnNav(ctx app.Context) { s.nav(ctx) }

func (s *shell) nav(ctx app.Context) {
	s.room = roomFromPath(ctx.Page().URL().Path)
	title := "Parley"
	if s.room != "" {
		title = "#" + s.room + " · Parley"
	}
	ctx.Page().SetTitle(title)
	if s.a != nil {
		s.a.Select(s.room)
	}
}

// OnDismount stops watching; the app-level client keeps running.
func (s *shell) OnDismount() {
	if s.stop != nil {
		s.stop()
	}
}

// OnAppUpdate shows the "new version" banner.
func (s *shell) OnAppUpdate(ctx app.Context) { s.update = ctx.AppUpdateAvailable() }

func (s *shell) sync() {
	s.user = s.a.User()
	s.rooms, s.loaded, s.roomErr = s.a.Rooms()
	s.conn = s.a.Conn()
}

func (s *shell) Render() app.UI {
	switch {
	case s.a == nil:
		return splash()
	case s.user == "":
		return &authPage{Notice: s.a.Notice()}
	}
	layout := "layout"
	if s.room != "" {
		layout += " has-room"
	}
	return app.Div().Class(layout).Body(
		s.sidebar(),
		app.Main().Class("main").Body(
			updateBanner(s.update),
			connBanner(s.conn),
			app.If(s.room != "", func() app.UI {
				return &roomView{Room: s.room}
			}).Else(func() app.UI {
				return welcome(s.user)
			}),
		),
	)
}

func (s *shell) sidebar() app.UI {
	return app.Aside().Class("sidebar").Body(
		app.Header().Class("brand").Body(
			app.Img().Class("brand-icon").Src("/web/icon.svg").Alt(""),
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
		app.Nav().Class("room-list").Aria("label", "Rooms").Body(
			app.H2().Class("section-title").Text("Rooms"),
			app.If(!s.loaded && s.roomErr == "", func() app.UI {
				return app.P().Class("muted small").Text("Loading rooms…")
			}),
			app.Ul().Body(
				app.Range(s.rooms).Slice(func(i int) app.UI {
					name := s.rooms[i].Name
					cls := "room-link"
					if name == s.room {
						cls += " active"
					}
					return app.Li().Body(
						app.A().ID(name+"-link").Class(cls).Href(RoomPath(name)).DataSet("room", name).Body(
							app.Span().Class("hash").Text("#"),
							app.Span().Class("room-name").Text(name),
						),
					)
				}),
			),
			app.If(s.roomErr != "" && !s.loaded, func() app.UI {
				return app.P().Class("error small").Text(s.roomErr)
			}),
		),
		&newRoom{},
		app.Footer().Class("me").Body(
			avatar(s.user),
			app.Span().Class("me-name").Title(s.user).Text(s.user),
			app.Button().ID("sign-out").Class("button subtle").Type("button").Text("Sign out").
				OnClick(s.signOut),
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

func (s *shell) signOut(ctx app.Context, e app.Event) {
	s.a.SignOut()
	ctx.Navigate("/")
}

// splash is what the server prerenders: no session is known there.
func splash() app.UI {
	return app.Div().Class("splash").Body(
		app.Img().Class("splash-icon").Src("/web/icon.svg").Alt(""),
		app.P().Text("Loading Parley…"),
	)
}

func welcome(user string) app.UI {
	return app.Section().Class("welcome").Body(
		app.Img().Class("welcome-icon").Src("/web/icon.svg").Alt(""),
		app.H1().Text("Hi "+user+"!"),
		app.P().Class("muted").Text("Pick a room on the left, or create one."),
		app.A().Class("button primary").Href(RoomPath(protocol.DefaultRoom)).Text("Open #"+protocol.DefaultRoom),
	)
}

func updateBanner(show bool) app.UI {
	return app.If(show, func() app.UI {
		return app.Div().Class("banner info").Role("status").Body(
			app.Span().Text("A new version of Parley is ready."),
			app.Button().Class("button small").Type("button").Text("Reload").
				OnClick(func(ctx app.Context, e app.Event) { ctx.Reload() }),
		)
	})
}

func connBanner(c Conn) app.UI {
	var text, cls string
	switch c.State {
	case ConnConnecting:
		text, cls = "Connecting…", "banner muted"
	case ConnReconnecting:
		text, cls = "Offline. Reconnecting…", "banner warn"
		if online := app.Window().Get("navigator").Get("onLine"); !online.IsUndefined() && !online.Truthy() {
			text = "You are offline. Messages will be sent when you are back online."
		}
	default:
		return nil
	}
	return app.Div().ID("conn-status").Class(cls).Role("status").DataSet("state", int(c.State)).Text(text)
}

// avatar is a colored circle with a user's initials.
func avatar(user string) app.UI {
	return app.Span().Class("avatar").Aria("hidden", "true").
		Style("--hue", "%d", state.Hue(user)).Text(state.Initials(user))
}
