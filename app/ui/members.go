package ui

import (
	"context"
	"strings"

	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"github.com/parleychat/parley/app/state"
	"github.com/parleychat/parley/shared/protocol"
)

// membersPanel lists a private room's members with their roles: owners
// and moderators invite by name and remove members; everyone may leave.
// It loads the list when it mounts and after every change it makes.
type membersPanel struct {
	app.Compo

	Room string
	// Role is the user's role in the room (protocol.Role*).
	Role string

	a       *App
	members []protocol.Member
	loaded  bool
	invitee string
	err     string
	note    string
	busy    bool
}

func (m *membersPanel) OnMount(ctx app.Context) {
	m.a = current(ctx.LocalStorage())
	m.load(ctx)
}

// moderates reports whether the user may invite and remove.
func (m *membersPanel) moderates() bool {
	return m.Role == protocol.RoleOwner || m.Role == protocol.RoleModerator
}

func (m *membersPanel) load(ctx app.Context) {
	a, room := m.a, m.Room
	ctx.Async(func() {
		list, err := a.Members(ctx, room)
		ctx.Dispatch(func(ctx app.Context) {
			if err != nil {
				m.err = state.RoomErrorText(apiCode(err))
				return
			}
			m.members, m.loaded = list, true
		})
	})
}

func (m *membersPanel) Render() app.UI {
	status := m.note
	if !m.loaded && m.err == "" {
		status = "Loading members…"
	}
	// Every child keeps its position whatever shows: go-app matches
	// children by position, and a shift would rebuild the invite form
	// under the user's fingers.
	return app.Section().ID("members").Class("members").Aria("label", "Members").Body(
		app.H2().Class("section-title").Text("Members"),
		app.Ul().Class("people-list").Body(
			app.Range(m.members).Slice(func(i int) app.UI { return m.member(m.members[i]) }),
		),
		app.Div().Class("members-form").Body(
			app.If(m.moderates(), func() app.UI { return m.inviteForm() }),
		),
		app.P().ID("members-note").Class("muted small").Role("status").Text(status),
		app.Div().Body(formError("members-error", m.err)),
		app.Button().ID("leave-room").Class("button subtle small").Type("button").
			Disabled(m.busy).Text("Leave room").OnClick(m.leave),
	)
}

func (m *membersPanel) member(mb protocol.Member) app.UI {
	me := m.a != nil && mb.User == m.a.User()
	kickable := m.moderates() && !me && (m.Role == protocol.RoleOwner || mb.Role == protocol.RoleMember)
	user := mb.User
	return app.Li().Class("person member").DataSet("user", mb.User).DataSet("role", mb.Role).Body(
		avatar(mb.User),
		app.Bdi().Class("person-name").Text(mb.User),
		app.Span().Class("muted small role").Text(" "+mb.Role),
		app.If(kickable, func() app.UI {
			return app.Button().ID("kick-"+user).Class("link small").Type("button").
				Aria("label", "Remove "+user+" from the room").Disabled(m.busy).Text("Remove").
				OnClick(func(ctx app.Context, e app.Event) { m.kick(ctx, user) })
		}),
	)
}

func (m *membersPanel) inviteForm() app.UI {
	return app.Form().ID("invite-form").Class("invite").OnSubmit(m.invite).Body(
		app.Label().For("invite-user").Class("small").Text("Invite someone"),
		submitRow(nameField("invite-user", "user name", protocol.MaxUsernameLen, m.invitee, m.ValueTo(&m.invitee)),
			"invite-submit", "Invite", m.busy),
	)
}

func (m *membersPanel) invite(ctx app.Context, e app.Event) {
	user := strings.TrimSpace(m.invitee)
	if m.busy {
		return
	}
	if !protocol.ValidUsername(user) {
		m.err, m.note = badUserText, ""
		return
	}
	m.run(ctx, func(c context.Context) error { return m.a.Invite(c, m.Room, user) }, func(err error) string {
		return userErrorText(user, err)
	}, func() {
		m.invitee, m.note = "", user+" was invited."
		clearField("invite-user")
	})
}

func (m *membersPanel) kick(ctx app.Context, user string) {
	m.run(ctx, func(c context.Context) error { return m.a.Remove(c, m.Room, user) }, nil, func() {
		m.note = user + " was removed."
	})
}

func (m *membersPanel) leave(ctx app.Context, e app.Event) {
	a, room := m.a, m.Room
	m.run(ctx, func(c context.Context) error { return a.Remove(c, room, a.User()) }, nil, func() {
		ctx.Navigate("/")
	})
}

// run does one change in the background, then reloads the list (done
// runs first on success); explain may word a failure, else the generic
// text is shown.
func (m *membersPanel) run(ctx app.Context, do func(context.Context) error, explain func(error) string, done func()) {
	m.busy, m.err, m.note = true, "", ""
	ctx.Async(func() {
		err := do(ctx)
		ctx.Dispatch(func(ctx app.Context) {
			m.busy = false
			if err != nil {
				if explain != nil {
					m.err = explain(err)
				}
				if m.err == "" {
					m.err = state.RoomErrorText(apiCode(err))
				}
				return
			}
			done()
			m.load(ctx)
		})
	})
}
