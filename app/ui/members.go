package ui

import (
	"context"
	"strings"

	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"github.com/parleychat/parley/app/state"
	"github.com/parleychat/parley/shared/protocol"
)

// membersPanel lists a private room's members with their roles: owners
// and moderators invite by name, remove and ban members and lift bans
// (moderators act on plain members only); owners make and unmake
// moderators; everyone may leave, the last owner after seeing who takes
// the room over. It loads the list when it mounts and after every change
// it makes.
type membersPanel struct {
	app.Compo

	Room string
	// Role is the user's role in the room (protocol.Role*).
	Role string
	// Rev moves when someone changed the room's members (a room event):
	// the panel reads them again.
	Rev int
	// LeaveOnly shows only the leave controls (a public room: its members
	// are whoever opened it). An owner's panel still reads the members, to
	// say who takes the room over.
	LeaveOnly bool

	a       *App
	members []protocol.Member
	bans    []protocol.Ban
	loaded  bool
	invitee string
	err     string
	note    string
	busy    bool
	// leaving: the last owner asked to leave and is shown what follows.
	leaving bool
}

func (m *membersPanel) OnMount(ctx app.Context) {
	m.a = current(ctx.LocalStorage())
	m.load(ctx)
}

// moderates reports whether the user may invite, remove and ban.
func (m *membersPanel) moderates() bool {
	return m.Role == protocol.RoleOwner || m.Role == protocol.RoleModerator
}

func (m *membersPanel) load(ctx app.Context) {
	if m.LeaveOnly && m.Role != protocol.RoleOwner {
		m.loaded = true // only an owner's leave needs the list
		return
	}
	a, room, mod := m.a, m.Room, m.moderates() && !m.LeaveOnly
	ctx.Async(func() {
		list, err := a.Members(ctx, room)
		var bans []protocol.Ban
		if err == nil && mod {
			bans, err = a.Bans(ctx, room)
		}
		ctx.Dispatch(func(ctx app.Context) {
			if err != nil {
				m.err = state.RoomErrorText(apiCode(err))
				return
			}
			m.members, m.bans, m.loaded = list, bans, true
		})
	})
}

func (m *membersPanel) Render() app.UI {
	if m.LeaveOnly {
		return app.Section().ID("leave").Class("members").Aria("label", "Leave").Body(
			app.Div().Body(formError("members-error", m.err)),
			m.leaveControls(),
		)
	}
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
		app.Div().Class("bans").Body(
			app.If(m.moderates() && m.loaded, func() app.UI { return m.banList() }),
		),
		app.P().ID("members-note").Class("muted small").Role("status").Text(status),
		app.Div().Body(formError("members-error", m.err)),
		m.leaveControls(),
	)
}

func (m *membersPanel) member(mb protocol.Member) app.UI {
	me := m.a != nil && mb.User == m.a.User()
	acts := m.moderates() && !me && (m.Role == protocol.RoleOwner || mb.Role == protocol.RoleMember)
	return app.Li().Class("person member").DataSet("user", mb.User).DataSet("role", mb.Role).Body(
		avatar(mb.User),
		app.Bdi().Class("person-name").Text(mb.User),
		app.Span().Class("muted small role").Text(" "+mb.Role),
		app.If(acts, func() app.UI { return m.actions(mb) }),
	)
}

// actions are the buttons beside a member the user may act on: a role
// change (owners, not on owners), remove and ban.
func (m *membersPanel) actions(mb protocol.Member) app.UI {
	user := mb.User
	return app.Div().Class("member-actions").Body(
		app.If(m.Role == protocol.RoleOwner && mb.Role == protocol.RoleMember, func() app.UI {
			return m.button(actPromote, user, "Make moderator", "Make "+user+" a moderator")
		}).ElseIf(m.Role == protocol.RoleOwner && mb.Role == protocol.RoleModerator, func() app.UI {
			return m.button(actDemote, user, "Make member", "Make "+user+" a member, not a moderator")
		}).Else(func() app.UI { return app.Span() }),
		m.button(actKick, user, "Remove", "Remove "+user+" from the room"),
		m.button(actBan, user, "Ban", "Ban "+user+" from the room"),
	)
}

// What the panel's buttons do; each button's id is the action, "-" and
// the user's name.
const (
	actPromote = "promote"
	actDemote  = "demote"
	actKick    = "kick"
	actBan     = "ban"
	actUnban   = "unban"
)

// button is one of the panel's small link-like buttons: action on user.
// The action and the user travel in data attributes read at the click:
// go-app keeps an element's first handler when a list shifts under it
// (closures of one literal compare equal), so a closure over them would
// act on whoever and whatever the row showed first.
func (m *membersPanel) button(action, user, text, label string) app.UI {
	return app.Button().ID(action+"-"+user).Class("link small").Type("button").
		DataSet("action", action).DataSet("user", user).
		Aria("label", label).Disabled(m.busy).Text(text).OnClick(m.act)
}

// act runs the action of the clicked button.
func (m *membersPanel) act(ctx app.Context, e app.Event) {
	ds := ctx.JSSrc().Get("dataset")
	action, user := ds.Get("action").String(), ds.Get("user").String()
	if m.busy || !protocol.ValidUsername(user) {
		return
	}
	switch action {
	case actPromote:
		m.setRole(ctx, user, protocol.RoleModerator, user+" is now a moderator.")
	case actDemote:
		m.setRole(ctx, user, protocol.RoleMember, user+" is now a member.")
	case actKick:
		m.kick(ctx, user)
	case actBan:
		m.ban(ctx, user)
	case actUnban:
		m.unban(ctx, user)
	}
}

// banList shows who is banned, each with a button to lift it.
func (m *membersPanel) banList() app.UI {
	return app.Div().ID("ban-list").Body(
		app.H3().Class("section-title").Text("Banned"),
		app.Div().Body(app.If(len(m.bans) == 0, func() app.UI {
			return app.P().Class("muted small").Text("Nobody is banned.")
		})),
		app.Ul().Class("people-list").Body(
			app.Range(m.bans).Slice(func(i int) app.UI {
				user := m.bans[i].User
				return app.Li().Class("person banned").DataSet("user", user).Body(
					avatar(user),
					app.Bdi().Class("person-name").Text(user),
					m.button(actUnban, user, "Unban", "Lift "+user+"’s ban"),
				)
			}),
		),
	)
}

// leaveControls is the leave button and, for the last owner, what
// leaving does to the room and a second step. Both are always there, one
// hidden: go-app drops a deferred focus call with the element that asked
// for it.
func (m *membersPanel) leaveControls() app.UI {
	heir := ""
	if m.a != nil {
		heir, _ = state.Heir(m.members, m.a.User())
	}
	return app.Div().Class("leave").Body(
		app.Button().ID("leave-room").Class("button subtle small").Type("button").
			Hidden(m.leaving).Disabled(m.busy || !m.loaded && m.Role == protocol.RoleOwner).
			Text("Leave room").OnClick(m.askLeave),
		app.Div().Class("leave-step").Role("group").Aria("labelledby", "leave-warning").Hidden(!m.leaving).Body(
			app.P().ID("leave-warning").Class("small").Text(state.LeaveText(heir)),
			app.Div().Class("leave-row").Body(
				app.Button().ID("leave-confirm").Class("button small").Type("button").
					Disabled(m.busy).Text("Leave anyway").OnClick(m.leave),
				app.Button().ID("leave-cancel").Class("button subtle small").Type("button").
					Text("Stay").OnClick(func(ctx app.Context, e app.Event) {
					m.leaving = false
					ctx.Defer(func(app.Context) { focusID("leave-room") })
				}),
			),
		),
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
		if code, _ := apiCode(err); code == protocol.ErrForbidden {
			return user + " is banned from this room: lift the ban first."
		}
		return userErrorText(user, err)
	}, func() {
		m.invitee, m.note = "", user+" was invited."
		clearField("invite-user")
	})
}

func (m *membersPanel) setRole(ctx app.Context, user, role, done string) {
	m.run(ctx, func(c context.Context) error { return m.a.SetRole(c, m.Room, user, role) }, nil, func() {
		m.note = done
	})
}

func (m *membersPanel) kick(ctx app.Context, user string) {
	m.run(ctx, func(c context.Context) error { return m.a.Remove(c, m.Room, user) }, nil, func() {
		m.note = user + " was removed."
	})
}

func (m *membersPanel) ban(ctx app.Context, user string) {
	m.run(ctx, func(c context.Context) error { return m.a.Ban(c, m.Room, user) }, nil, func() {
		m.note = user + " was banned."
	})
}

func (m *membersPanel) unban(ctx app.Context, user string) {
	m.run(ctx, func(c context.Context) error { return m.a.Unban(c, m.Room, user) }, nil, func() {
		m.note = user + " may be invited again."
	})
}

// askLeave leaves at once, unless the user is the room's last owner:
// then it first says who takes the room over.
func (m *membersPanel) askLeave(ctx app.Context, e app.Event) {
	if _, last := state.Heir(m.members, m.a.User()); last {
		m.leaving = true
		ctx.Defer(func(app.Context) { focusID("leave-confirm") })
		return
	}
	m.leave(ctx, e)
}

func (m *membersPanel) leave(ctx app.Context, e app.Event) {
	a, room := m.a, m.Room
	// Success unmounts the panel (the room leaves the list) before its
	// done could run: the room view goes back to the list (TakeLeft).
	m.run(ctx, func(c context.Context) error { return a.Remove(c, room, a.User()) }, nil, func() {})
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

// OnUpdate reloads the lists when the room view passes a new role or
// revision (the user was made a moderator, someone else changed the
// members).
func (m *membersPanel) OnUpdate(ctx app.Context) {
	if m.a != nil {
		m.load(ctx)
	}
}
