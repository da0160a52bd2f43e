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
		submitRow(nameField("direct-user", "user name", protocol.MaxUsernameLen, d.user, d.ValueTo(&d.user)),
			"direct-submit", label, d.busy),
		formError("direct-error", d.err),
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
		d.err = badUserText
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
				d.err = userErrorText(user, err)
				return
			}
			d.user = ""
			clearField("direct-user")
			ctx.Navigate(RoomPath(room))
		})
	})
}

// badUserText answers a name that cannot be a user's.
const badUserText = "Type the name of someone who uses Parley."

// userErrorText says in plain words why a request naming user failed.
func userErrorText(user string, err error) string {
	code, msg := apiCode(err)
	if code == protocol.ErrNotFound {
		return "Nobody is called “" + user + "”."
	}
	return state.RoomErrorText(code, msg)
}

// openDirect opens the direct room with users (one person or a group)
// from anywhere (the people list); failures show in the current room.
// done runs when it is over, opened (ok) or not.
func openDirect(ctx app.Context, a *App, from string, users []string, done func(ok bool)) {
	ctx.Async(func() {
		room, err := a.OpenDirect(ctx, users...)
		if err != nil {
			a.setRoomError(from, usersErrorText(users, err))
		}
		ctx.Dispatch(func(ctx app.Context) {
			done(err == nil)
			if err == nil {
				ctx.Navigate(RoomPath(room))
			}
		})
	})
}

// usersErrorText is userErrorText for a request naming several users.
func usersErrorText(users []string, err error) string {
	if len(users) == 1 {
		return userErrorText(users[0], err)
	}
	code, msg := apiCode(err)
	if code == protocol.ErrNotFound {
		return "One of them no longer uses Parley: " + msg + "."
	}
	return state.RoomErrorText(code, msg)
}

// nameField is a one-line text field for a name (a room's, a user's):
// no autocapitalisation, autocompletion or spellcheck.
func nameField(id, placeholder string, maxLen int, value string, onInput app.EventHandler) app.HTMLInput {
	return app.Input().ID(id).Type("text").Placeholder(placeholder).MaxLength(maxLen).
		Attr("autocapitalize", "none").Attr("autocomplete", "off").Spellcheck(false).
		Value(fieldValue(id, value)).OnInput(onInput)
}

// submitRow is a form's field beside its submit button.
func submitRow(field app.UI, submitID, label string, busy bool) app.UI {
	return app.Div().Class("new-room-row").Body(
		field,
		app.Button().ID(submitID).Class("button small").Type("submit").Disabled(busy).Text(label),
	)
}

// formError is a form's error line, nothing when text is "".
func formError(id, text string) app.UI {
	if text == "" {
		return nil
	}
	return app.P().ID(id).Class("error small").Role("alert").Text(text)
}

// peersOf returns the other people of a direct room (nil for any other
// room, or while the room list has not said).
func peersOf(r protocol.Room) []string {
	switch {
	case r.Kind != protocol.KindDirect:
		return nil
	case len(r.Peers) > 0:
		return r.Peers
	case r.Peer != "":
		return []string{r.Peer}
	}
	return nil
}

// roomLabel is how the list and the room's title name a room: a direct
// room by the other people ("Bob and carol"), any other by its name.
func roomLabel(r protocol.Room) string {
	if peers := peersOf(r); peers != nil {
		return state.PeopleLabel(peers)
	}
	return r.Name
}

// roomRef names a room in running text: "@peer" (or "@Bob, @carol") for
// a direct room, "#name" for any other.
func roomRef(r protocol.Room) string {
	if peers := peersOf(r); peers != nil {
		return "@" + strings.Join(peers, ", @")
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
