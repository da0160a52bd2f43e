package ui

import (
	"strings"

	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"github.com/parleychat/parley/app/state"
	"github.com/parleychat/parley/shared/protocol"
)

// newRoom is the "create a room" form in the sidebar.
type newRoom struct {
	app.Compo

	name string
	// kind is protocol.KindPublic or KindPrivate ("" is public).
	kind string
	err  string
	busy bool
}

func (n *newRoom) Render() app.UI {
	label := "Create"
	if n.busy {
		label = "Creating…"
	}
	return app.Form().ID("new-room").Class("new-room").OnSubmit(n.submit).Body(
		app.Label().For("new-room-name").Class("section-title").Text("New room"),
		submitRow(nameField("new-room-name", "room-name", protocol.MaxRoomNameLen, n.name, n.ValueTo(&n.name)),
			"new-room-submit", label, n.busy),
		app.Div().Class("new-room-row new-room-kind").Body(
			app.Label().For("new-room-kind").Class("small muted").Text("Who can join"),
			app.Select().ID("new-room-kind").OnChange(n.ValueTo(&n.kind)).Body(
				app.Option().Value(protocol.KindPublic).Selected(n.kind != protocol.KindPrivate).
					Text("Public: anyone"),
				app.Option().Value(protocol.KindPrivate).Selected(n.kind == protocol.KindPrivate).
					Text("Private: invited only"),
			),
		),
		formError("new-room-error", n.err),
	)
}

func (n *newRoom) submit(ctx app.Context, e app.Event) {
	if n.busy {
		return
	}
	name := strings.ToLower(strings.TrimSpace(n.name))
	if err := protocol.CheckRoomName(name); err != nil {
		n.err = sentence(err)
		return
	}
	n.busy, n.err = true, ""
	kind := protocol.KindPublic
	if n.kind == protocol.KindPrivate {
		kind = protocol.KindPrivate
	}
	a := current(ctx.LocalStorage())
	ctx.Async(func() {
		err := a.CreateRoom(ctx, name, kind)
		code, msg := "", ""
		if err != nil {
			code, msg = apiCode(err)
		}
		ctx.Dispatch(func(ctx app.Context) {
			n.busy = false
			switch {
			case err == nil, code == protocol.ErrConflict:
				// A room that exists already is where the user wants to go.
				n.name = ""
				clearField("new-room-name")
				if code == protocol.ErrConflict {
					go a.RefreshRooms()
				}
				ctx.Navigate(RoomPath(name))
			default:
				n.err = state.RoomErrorText(code, msg)
			}
		})
	})
}
