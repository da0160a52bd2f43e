package ui

import (
	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"github.com/parleychat/parley/app/state"
	"github.com/parleychat/parley/shared/protocol"
)

// peoplePanel is the room's side panel: who is here, each (but the user)
// with a one-click "Message" and a "Pick" toggle, a button that starts a
// conversation with the people picked, and a private room's members (a
// public room's member gets only the leave button).
// Direct rooms have neither button: their people already talk there.
func (r *roomView) peoplePanel(cls string) app.UI {
	v := r.view
	return app.Aside().ID("people").Class(cls).Aria("label", "People in this room").Body(
		app.H2().Class("section-title").Text("In this room"),
		app.Ul().Class("people-list").Body(
			app.Range(v.Present).Slice(func(i int) app.UI { return r.person(v.Present[i]) }),
		),
		// Wrapped so that the members panel after it keeps its
		// position (go-app matches children by position).
		app.Div().Body(
			app.If(len(v.Present) == 0 && v.Online, func() app.UI {
				return app.P().Class("muted small").Text("Nobody yet.")
			}).ElseIf(len(v.Present) == 0, func() app.UI {
				return app.P().Class("muted small").Text("Unknown while offline.")
			}),
		),
		app.Div().Class("group-start").Body(
			app.If(r.canPick() && len(v.Present) > 1, func() app.UI { return r.startButton() }),
		),
		app.If(v.Info.Kind == protocol.KindPrivate, func() app.UI {
			return &membersPanel{Room: r.Room, Role: v.Info.Role, Rev: v.Rev}
		}).ElseIf(v.Info.Kind == protocol.KindPublic && v.Info.Role != "" && v.Removed == "", func() app.UI {
			return &membersPanel{Room: r.Room, Role: v.Info.Role, Rev: v.Rev, LeaveOnly: true}
		}),
		app.If(canDelete(v.Info) && v.Removed == "", r.deleteControls),
	)
}

// canPick reports whether the panel offers to message people: in every
// room but a direct one.
func (r *roomView) canPick() bool { return r.view.Info.Kind != protocol.KindDirect }

// person is one row of the panel. Its buttons carry the user in a data
// attribute read at the click: go-app keeps an element's first handler
// when a list shifts under it (closures of one literal compare equal),
// so a closure over the user would act on whoever the row showed first.
func (r *roomView) person(u string) app.UI {
	v := r.view
	picked := r.picks[u]
	return app.Li().Class("person").DataSet("user", u).Body(
		avatar(u),
		app.Bdi().Class("person-name").Text(u),
		app.If(u == v.Me, func() app.UI {
			return app.Span().Class("muted small").Text(" (you)")
		}).ElseIf(r.canPick(), func() app.UI {
			return app.Span().Class("person-actions").Body(
				app.Button().Class("link small dm").Type("button").
					DataSet("user", u).Aria("label", "Message "+u).Text("Message").
					Disabled(r.starting).OnClick(r.messageOne),
				app.Button().Class("link small pick").Type("button").
					DataSet("user", u).Aria("label", "Pick "+u+" for a conversation").
					Aria("pressed", picked).Disabled(r.starting || (!picked && r.picks.Full())).
					Text("Pick").OnClick(r.togglePick),
			)
		}),
	)
}

// startButton starts a conversation with the people picked; it says with
// whom, and is disabled until someone is.
func (r *roomView) startButton() app.UI {
	with := r.picks.Of(r.view.Present, r.view.Me)
	text := "Start conversation"
	if len(with) > 0 {
		text += " with " + state.PeopleLabel(with)
	}
	return app.Button().ID("start-conversation").Class("button small").Type("button").
		Disabled(len(with) == 0 || r.starting).Text(text).OnClick(r.startPicked)
}

// clickedUser is the user named by the clicked button's data-user, ""
// when it names none.
func clickedUser(ctx app.Context) string {
	u := ctx.JSSrc().Get("dataset").Get("user").String()
	if !protocol.ValidUsername(u) {
		return ""
	}
	return u
}

// messageOne opens the direct room with the person of the clicked row.
func (r *roomView) messageOne(ctx app.Context, e app.Event) {
	if u := clickedUser(ctx); u != "" && !r.starting {
		r.start(ctx, []string{u})
	}
}

// togglePick picks or unpicks the person of the clicked row.
func (r *roomView) togglePick(ctx app.Context, e app.Event) {
	u := clickedUser(ctx)
	if u == "" {
		return
	}
	if r.picks == nil {
		r.picks = state.Picks{}
	}
	r.picks.Toggle(u)
}

// startPicked opens the direct room with everyone picked.
func (r *roomView) startPicked(ctx app.Context, e app.Event) {
	if with := r.picks.Of(r.view.Present, r.view.Me); len(with) > 0 && !r.starting {
		r.start(ctx, with)
	}
}

// start opens the direct room with users; the picks are cleared once it
// opened, and kept when it failed (the error shows in the room).
func (r *roomView) start(ctx app.Context, users []string) {
	r.starting = true
	openDirect(ctx, r.a, r.Room, users, func(ok bool) {
		r.starting = false
		if ok {
			r.picks = nil
		}
	})
}
