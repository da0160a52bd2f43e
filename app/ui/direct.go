package ui

import (
	"strings"

	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"github.com/parleychat/parley/app/state"
	"github.com/parleychat/parley/shared/protocol"
)

// directForm is the sidebar's "Message someone" form: it opens (or
// creates) the direct room with a user by name.
type directForm struct {
	app.Compo

	user string
	err  string
	busy bool
}

func (d *directForm) Render() app.UI {
	label := "Message"
	if d.busy {
		label = "Opening…"
	}
	return app.Form().ID("direct-form").Class("new-room").OnSubmit(d.submit).Body(
		app.Label().For("direct-user").Class("section-title").Text("Message someone"),
		app.Div().Class("new-room-row").Body(
			app.Input().ID("direct-user").Type("text").Placeholder("user name").
				MaxLength(protocol.MaxUsernameLen).Attr("autocapitalize", "none").
				Attr("autocomplete", "off").Spellcheck(false).
				Value(d.user).OnInput(d.ValueTo(&d.user)),
			app.Button().ID("direct-submit").Class("button small").Type("submit").
				Disabled(d.busy).Text(label),
		),
		app.If(d.err != "", func() app.UI {
			return app.P().ID("direct-error").Class("error small").Role("alert").Text(d.err)
		}),
	)
}

func (d *directForm) submit(ctx app.Context, e app.Event) {
	if d.busy {
		return
	}
	user := strings.TrimSpace(d.user)
	a := current(ctx.LocalStorage())
	switch {
	case !protocol.ValidUsername(user):
		d.err = "Type the name of someone who uses Parley."
		return
	case strings.EqualFold(user, a.User()):
		d.err = "That is you: type someone else’s name."
		return
	}
	d.busy, d.err = true, ""
	ctx.Async(func() {
		room, err := a.OpenDirect(ctx, user)
		ctx.Dispatch(func(ctx app.Context) {
			d.busy = false
			if err != nil {
				d.err = directErrorText(user, err)
				return
			}
			d.user = ""
			clearField("direct-user")
			ctx.Navigate(RoomPath(room))
		})
	})
}

// directErrorText says in plain words why a direct room did not open.
func directErrorText(user string, err error) string {
	code, msg := apiCode(err)
	if code == protocol.ErrNotFound {
		return "Nobody is called “" + user + "”."
	}
	return state.RoomErrorText(code, msg)
}

// openDirect opens the direct room with user from anywhere (the people
// list); failures show in the current room.
func openDirect(ctx app.Context, a *App, from, user string) {
	ctx.Async(func() {
		room, err := a.OpenDirect(ctx, user)
		if err != nil {
			a.setRoomError(from, directErrorText(user, err))
			return
		}
		ctx.Dispatch(func(ctx app.Context) { ctx.Navigate(RoomPath(room)) })
	})
}

// roomLabel is how the list and the room's title name a room: a direct
// room by the other person, any other by its name.
func roomLabel(r protocol.Room) string {
	if r.Kind == protocol.KindDirect && r.Peer != "" {
		return r.Peer
	}
	return r.Name
}

// roomRef names a room in running text: "@peer" for a direct room,
// "#name" for any other.
func roomRef(r protocol.Room) string {
	if r.Kind == protocol.KindDirect && r.Peer != "" {
		return "@" + r.Peer
	}
	return "#" + r.Name
}

// roomMark is the sign before a room's name: @ for a direct room, a lock
// for a private one (with its meaning for screen readers), # otherwise.
func roomMark(r protocol.Room) app.UI {
	switch r.Kind {
	case protocol.KindDirect:
		return app.Span().Class("hash").Aria("hidden", "true").Text("@")
	case protocol.KindPrivate:
		return app.Span().Class("hash lock").Body(
			app.Span().Class("lock-icon").Aria("hidden", "true"),
			app.Span().Class("sr-only").Text("Private room:"),
		)
	}
	return app.Span().Class("hash").Aria("hidden", "true").Text("#")
}
