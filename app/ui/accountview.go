package ui

import (
	"strconv"
	"time"

	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"github.com/parleychat/parley/app/state"
	"github.com/parleychat/parley/shared/protocol"
)

// AccountPath is the page of the account: password, sessions, sign out
// everywhere, delete.
const AccountPath = "/account"

// accountTitleID is the account page's heading, focused when it opens.
const accountTitleID = "account-title"

// accountView is the account page. Every form has labels and works by
// keyboard; results are announced (role status or alert).
type accountView struct {
	app.Compo

	a *App
	// sessions is the account's sessions; listErr why they could not be
	// listed; ending the id of the session being ended.
	sessions []protocol.SessionInfo
	loaded   bool
	listErr  string
	ending   string

	current, next string
	pwBusy        bool
	pwErr, pwDone string
	allBusy       bool
	allErr        string
	confirmDelete bool
	delPassword   string
	delBusy       bool
	delErr        string
}

func (v *accountView) OnMount(ctx app.Context) {
	v.a = current(ctx.LocalStorage())
	v.load(ctx)
	ctx.Defer(func(app.Context) { focusID(accountTitleID) })
}

// load lists the sessions.
func (v *accountView) load(ctx app.Context) {
	a := v.a
	ctx.Async(func() {
		list, err := a.Sessions(ctx)
		ctx.Dispatch(func(ctx app.Context) {
			v.loaded = true
			if err != nil {
				v.listErr = accountError(err)
				return
			}
			v.sessions, v.listErr = list, ""
		})
	})
}

func (v *accountView) Render() app.UI {
	return app.Section().ID("account").Class("account").Aria("labelledby", accountTitleID).Body(
		app.Header().Class("room-header").Body(
			app.A().Class("back").Href("/").Aria("label", "All rooms").Text("‹"),
			app.H1().ID(accountTitleID).Class("room-title").TabIndex(-1).Text("Account"),
		),
		app.Div().Class("account-body").Body(
			v.passwordForm(),
			v.sessionList(),
			v.dangerZone(),
		),
	)
}

func (v *accountView) passwordForm() app.UI {
	label := "Change password"
	if v.pwBusy {
		label = "Changing password…"
	}
	return app.Form().ID("password-form").Class("account-card").OnSubmit(v.changePassword).Body(
		app.H2().Text("Password"),
		app.Label().For("current-password").Text("Current password"),
		app.Input().ID("current-password").Type("password").Required(true).
			MaxLength(protocol.MaxPasswordLen).Attr("autocomplete", "current-password").
			OnInput(v.ValueTo(&v.current)),
		app.Label().For("new-password").Text("New password"),
		app.Input().ID("new-password").Type("password").Required(true).
			MaxLength(protocol.MaxPasswordLen).Attr("autocomplete", "new-password").
			Aria("describedby", "new-password-hint").OnInput(v.ValueTo(&v.next)),
		app.P().ID("new-password-hint").Class("hint").Text("At least 8 characters. Your other sessions will be signed out."),
		slot(
			app.If(v.pwErr != "", func() app.UI {
				return app.P().ID("password-error").Class("error").Role("alert").Text(v.pwErr)
			}),
			app.If(v.pwDone != "", func() app.UI {
				return app.P().ID("password-done").Class("notice").Role("status").Text(v.pwDone)
			}),
		),
		app.Button().ID("password-submit").Class("button primary").Type("submit").Disabled(v.pwBusy).Text(label),
	)
}

func (v *accountView) changePassword(ctx app.Context, e app.Event) {
	if v.pwBusy {
		return
	}
	if v.current == "" || v.next == "" {
		v.pwErr, v.pwDone = "Enter your current password and a new one.", ""
		return
	}
	if err := protocol.CheckPassword(v.next); err != nil {
		v.pwErr, v.pwDone = sentence(err), ""
		return
	}
	v.pwBusy, v.pwErr, v.pwDone = true, "", ""
	a, cur, next := v.a, v.current, v.next
	ctx.Async(func() {
		err := a.ChangePassword(ctx, cur, next)
		ctx.Dispatch(func(ctx app.Context) {
			v.pwBusy = false
			if err != nil {
				v.pwErr = accountError(err)
				return
			}
			v.current, v.next = "", ""
			clearField("current-password")
			clearField("new-password")
			v.pwDone = "Password changed. Your other sessions were signed out."
			v.load(ctx)
		})
	})
}

func (v *accountView) sessionList() app.UI {
	now := time.Now()
	return app.Section().ID("sessions").Class("account-card").Aria("labelledby", "sessions-title").Body(
		app.H2().ID("sessions-title").Text("Where you are signed in"),
		slot(
			app.If(!v.loaded, func() app.UI {
				return app.P().Class("muted").Text("Loading sessions…")
			}),
			app.If(v.listErr != "", func() app.UI {
				return app.P().ID("sessions-error").Class("error").Role("alert").Text(v.listErr)
			}),
		),
		app.Ul().Class("session-list").Body(
			app.Range(v.sessions).Slice(func(i int) app.UI {
				return v.session(v.sessions[i], now)
			}),
		),
		slot(app.If(v.allErr != "", func() app.UI {
			return app.P().ID("sign-out-all-error").Class("error").Role("alert").Text(v.allErr)
		})),
		app.Button().ID("sign-out-all").Class("button").Type("button").Disabled(v.allBusy).
			Text("Sign out everywhere").OnClick(v.signOutEverywhere),
	)
}

func (v *accountView) session(s protocol.SessionInfo, now time.Time) app.UI {
	device := state.DeviceLabel(s.UserAgent)
	seen := state.SeenLabel(s.LastSeen, now, time.Local)
	return app.Li().Class("session").DataSet("session", s.ID).DataSet("current", s.Current).Body(
		app.Div().Class("session-text").Body(
			app.Span().Class("session-device").Title(s.UserAgent).Text(device),
			app.If(s.Current, func() app.UI {
				return app.Span().Class("badge").Text("This device")
			}),
			app.Span().Class("session-seen muted small").Text("Last active "+seen),
		),
		app.If(!s.Current, func() app.UI {
			label := "End"
			if v.ending == s.ID {
				label = "Ending…"
			}
			return app.Button().Class("button small").Type("button").DataSet("end", s.ID).
				Aria("label", "End the session on "+device+", last active "+seen).
				Disabled(v.ending != "").Text(label).
				OnClick(func(ctx app.Context, e app.Event) { v.endSession(ctx, s.ID) })
		}),
	)
}

func (v *accountView) endSession(ctx app.Context, id string) {
	if v.ending != "" {
		return
	}
	v.ending, v.listErr = id, ""
	a := v.a
	ctx.Async(func() {
		err := a.EndSession(ctx, id)
		ctx.Dispatch(func(ctx app.Context) {
			v.ending = ""
			if err != nil {
				v.listErr = accountError(err)
			}
			v.load(ctx)
		})
	})
}

func (v *accountView) signOutEverywhere(ctx app.Context, e app.Event) {
	if v.allBusy {
		return
	}
	v.allBusy, v.allErr = true, ""
	a := v.a
	ctx.Async(func() {
		err := a.SignOutEverywhere(ctx)
		ctx.Dispatch(func(ctx app.Context) {
			v.allBusy = false
			if err != nil {
				v.allErr = accountError(err)
				return
			}
			ctx.Navigate("/")
		})
	})
}

// dangerZone deletes the account, after a second step that asks for the
// password and says what happens to the messages. The first step's
// button stays on the page (aria-expanded), so the focus has a place to
// go back to on Cancel.
func (v *accountView) dangerZone() app.UI {
	return app.Section().ID("delete").Class("account-card").Aria("labelledby", "delete-title").Body(
		app.H2().ID("delete-title").Text("Delete account"),
		app.Button().ID("delete-start").Class("button danger").Type("button").Text("Delete account…").
			Aria("expanded", strconv.FormatBool(v.confirmDelete)).Aria("controls", "delete-form").
			OnClick(func(ctx app.Context, e app.Event) {
				v.confirmDelete, v.delErr = true, ""
				ctx.Defer(func(app.Context) { focusID("delete-password") })
			}),
		app.If(v.confirmDelete, v.deleteForm),
	)
}

func (v *accountView) deleteForm() app.UI {
	label := "Delete my account"
	if v.delBusy {
		label = "Deleting…"
	}
	return app.Form().ID("delete-form").Class("account-form").OnSubmit(v.deleteAccount).Body(
		app.P().ID("delete-warning").Class("warn-text").Text("This ends every session. Your messages stay in their rooms under your name, and the name is never given to anyone else. This cannot be undone."),
		app.Label().For("delete-password").Text("Password"),
		app.Input().ID("delete-password").Type("password").Required(true).
			MaxLength(protocol.MaxPasswordLen).Attr("autocomplete", "current-password").
			Aria("describedby", "delete-warning").OnInput(v.ValueTo(&v.delPassword)),
		slot(app.If(v.delErr != "", func() app.UI {
			return app.P().ID("delete-error").Class("error").Role("alert").Text(v.delErr)
		})),
		app.Div().Class("actions").Body(
			app.Button().ID("delete-confirm").Class("button danger").Type("submit").Disabled(v.delBusy).Text(label),
			app.Button().ID("delete-cancel").Class("button").Type("button").Text("Cancel").
				OnClick(func(ctx app.Context, e app.Event) {
					v.confirmDelete, v.delPassword, v.delErr = false, "", ""
					// The first step's button is on the page: focus it now
					// (a deferred call would be dropped with this button).
					focusID("delete-start")
				}),
		),
	)
}

func (v *accountView) deleteAccount(ctx app.Context, e app.Event) {
	if v.delBusy {
		return
	}
	if v.delPassword == "" {
		v.delErr = "Enter your password to delete the account."
		return
	}
	v.delBusy, v.delErr = true, ""
	a, pw := v.a, v.delPassword
	ctx.Async(func() {
		err := a.DeleteAccount(ctx, pw)
		ctx.Dispatch(func(ctx app.Context) {
			v.delBusy = false
			if err != nil {
				v.delErr = accountError(err)
				return
			}
			ctx.Navigate("/")
		})
	})
}

// accountError is the sentence for a failed account call.
func accountError(err error) string {
	return state.AccountErrorText(apiCode(err))
}

// slot holds what comes and goes (errors, notices) in one element that is
// always there: go-app matches children by position, so an element
// appearing before a button would replace the button, and the focus on it.
func slot(children ...app.UI) app.UI {
	return app.Div().Class("slot").Body(children...)
}

// clearField empties an input: go-app drops an empty value attribute
// instead of clearing the field.
func clearField(id string) { setField(id, "") }

// fieldValue is what a text field renders as its value: what the field
// on the page holds, or draft (the value its input handler last read)
// when it is not on the page yet. go-app handles an input event after
// the browser may have taken more keys, and writes a bound value into
// the field whenever it differs from the one rendered before: binding
// the draft would write back a value older than the field's and lose
// the keys typed in between. Binding what the field holds writes
// nothing new, and a field that go-app recreates (its form moved to
// another position) still gets what the user typed. The app changes a
// field's value only through setField, which writes the page first.
func fieldValue(id, draft string) string {
	if el := app.Window().GetElementByID(id); el.Truthy() {
		return el.Get("value").String()
	}
	return draft
}

// setField puts value in the text field id (see fieldValue).
func setField(id, value string) {
	if el := app.Window().GetElementByID(id); el.Truthy() {
		el.Set("value", value)
	}
}
