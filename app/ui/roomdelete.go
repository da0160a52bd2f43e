package ui

import (
	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"github.com/parleychat/parley/app/state"
	"github.com/parleychat/parley/shared/protocol"
)

// canDelete reports whether the user may delete the room: an owner of a
// public or private room other than the default one (the node makes
// that again; direct rooms have no owner).
func canDelete(info protocol.Room) bool {
	return info.Role == protocol.RoleOwner && info.Name != protocol.DefaultRoom &&
		(info.Kind == protocol.KindPublic || info.Kind == protocol.KindPrivate)
}

// deleteRoomPanel is an owner's "Delete room": it asks first ("Delete
// #room and all its messages for everyone?" with Delete and Keep), the
// focus on Delete; Keep gives the focus back. Both steps are always
// there, one hidden: go-app drops a deferred focus call with the element
// that asked for it. Once deleted, the app forgets the room (its list,
// its cache) and goes to the room list.
type deleteRoomPanel struct {
	app.Compo

	Room string

	a      *App
	asking bool
	busy   bool
	err    string
}

func (d *deleteRoomPanel) OnMount(ctx app.Context) {
	d.a = current(ctx.LocalStorage())
}

func (d *deleteRoomPanel) Render() app.UI {
	return app.Div().ID("room-delete").Class("leave room-delete").Body(
		app.Button().ID("delete-room").Class("button subtle small").Type("button").
			Hidden(d.asking).Disabled(d.busy).Text("Delete room").OnClick(d.ask),
		app.Div().Class("leave-step").Role("group").Aria("labelledby", "delete-room-ask").Hidden(!d.asking).Body(
			app.P().ID("delete-room-ask").Class("small").Text("Delete #"+d.Room+" and all its messages for everyone?"),
			app.Div().Class("leave-row").Body(
				app.Button().ID("delete-room-confirm").Class("button danger small").Type("button").
					Disabled(d.busy).Text("Delete").OnClick(d.confirm),
				app.Button().ID("delete-room-cancel").Class("button subtle small").Type("button").
					Disabled(d.busy).Text("Keep").OnClick(d.cancel),
			),
		),
		app.Div().Body(formError("delete-room-error", d.err)),
	)
}

func (d *deleteRoomPanel) ask(ctx app.Context, e app.Event) {
	d.asking, d.err = true, ""
	ctx.Defer(func(app.Context) { focusID("delete-room-confirm") })
}

func (d *deleteRoomPanel) cancel(ctx app.Context, e app.Event) {
	d.asking = false
	ctx.Defer(func(app.Context) { focusID("delete-room") })
}

func (d *deleteRoomPanel) confirm(ctx app.Context, e app.Event) {
	if d.busy || d.a == nil {
		return
	}
	a, room := d.a, d.Room
	d.busy, d.err = true, ""
	ctx.Async(func() {
		err := a.DeleteRoom(ctx, room)
		ctx.Dispatch(func(ctx app.Context) {
			d.busy = false
			if err != nil {
				d.err = state.RoomErrorText(apiCode(err))
				return
			}
			d.asking = false
			ctx.Navigate("/")
		})
	})
}
