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

// roomDeletion is the state of an owner's "Delete room" step.
type roomDeletion struct {
	// asking: the question shows, with Delete and Keep.
	asking bool
	// sent: the deletion was asked of the node; once the room shows as
	// deleted, the view goes to the room list (refresh).
	sent bool
	err  string
}

// deleteControls is an owner's "Delete room": it asks first ("Delete
// #room and all its messages for everyone?" with Delete and Keep), the
// focus on Delete; Keep gives the focus back. Both steps are always
// there, one hidden: go-app drops a deferred focus call with the element
// that asked for it. The app forgets the deleted room (its list, its
// cache), and this view goes to the room list: it is the view, not the
// button, that does, because the inbox's event may remove the button
// before the node's answer arrives.
func (r *roomView) deleteControls() app.UI {
	d := r.del
	return app.Div().ID("room-delete").Class("leave room-delete").Body(
		app.Button().ID("delete-room").Class("button subtle small").Type("button").
			Hidden(d.asking).Disabled(d.sent).Text("Delete room").OnClick(r.askDeleteRoom),
		app.Div().Class("leave-step").Role("group").Aria("labelledby", "delete-room-ask").Hidden(!d.asking).Body(
			app.P().ID("delete-room-ask").Class("small").Text("Delete #"+r.Room+" and all its messages for everyone?"),
			app.Div().Class("leave-row").Body(
				app.Button().ID("delete-room-confirm").Class("button danger small").Type("button").
					Disabled(d.sent).Text("Delete").OnClick(r.confirmDeleteRoom),
				app.Button().ID("delete-room-cancel").Class("button subtle small").Type("button").
					Disabled(d.sent).Text("Keep").OnClick(r.keepRoom),
			),
		),
		app.Div().Body(formError("delete-room-error", d.err)),
	)
}

func (r *roomView) askDeleteRoom(ctx app.Context, e app.Event) {
	r.del.asking, r.del.err = true, ""
	ctx.Defer(func(app.Context) { focusID("delete-room-confirm") })
}

func (r *roomView) keepRoom(ctx app.Context, e app.Event) {
	r.del.asking = false
	ctx.Defer(func(app.Context) { focusID("delete-room") })
}

func (r *roomView) confirmDeleteRoom(ctx app.Context, e app.Event) {
	if r.del.sent {
		return
	}
	a, room := r.a, r.Room
	r.del.sent, r.del.err = true, ""
	ctx.Async(func() {
		err := a.DeleteRoom(ctx, room)
		if err == nil {
			return // the room shows as deleted: refresh goes on
		}
		ctx.Dispatch(func(ctx app.Context) {
			r.del.sent, r.del.err = false, state.RoomErrorText(apiCode(err))
		})
	})
}
