package ui

import (
	"errors"
	"strings"

	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"github.com/parleychat/parley/app/state"
	"github.com/parleychat/parley/shared/protocol"
)

// authPage is the sign-in / sign-up screen.
type authPage struct {
	app.Compo

	// Notice explains why the user was signed out, if they were.
	Notice string
	// Prerender: this is the server's copy, marked data-prerender. The
	// page script shows it before app.wasm runs when nobody is signed in
	// (its controls inert), and the app replaces it when it mounts.
	Prerender bool

	mode     state.AuthAction
	username string
	password string
	err      string
	busy     bool
}

func (p *authPage) OnInit() { p.mode = state.SignIn }

func (p *authPage) Render() app.UI {
	signUp := p.mode == state.SignUp
	submit, busy, pwComplete := "Sign in", "Signing in…", "current-password"
	if signUp {
		submit, busy, pwComplete = "Create account", "Creating account…", "new-password"
	}
	if p.busy {
		submit = busy
	}
	page := app.Main().Class("auth-page")
	if p.Prerender {
		page = page.DataSet("prerender", true)
	}
	return page.Body(
		app.Div().Class("auth-card").Body(
			logo("auth-icon"),
			app.H1().Text("Parley"),
			app.P().Class("muted tagline").Text("Realtime chat rooms."),
			app.Div().Class("tabs").Role("tablist").Body(
				p.tab("tab-signin", "Sign in", !signUp, state.SignIn),
				p.tab("tab-signup", "Create account", signUp, state.SignUp),
			),
			app.If(p.Notice != "" && p.err == "", func() app.UI {
				return app.P().Class("notice").Role("status").Text(p.Notice)
			}),
			app.Form().ID("auth-form").Class("auth-form").OnSubmit(p.submit).Body(
				app.Label().For("auth-username").Text("Username"),
				app.Input().ID("auth-username").Name("username").Type("text").
					AutoFocus(!p.Prerender).Required(true).MaxLength(protocol.MaxUsernameLen).
					Attr("autocomplete", "username").Attr("autocapitalize", "none").Spellcheck(false).
					Value(fieldValue("auth-username", p.username)).OnInput(p.ValueTo(&p.username)),
				app.Label().For("auth-password").Text("Password"),
				app.Input().ID("auth-password").Name("password").Type("password").
					Required(true).MaxLength(protocol.MaxPasswordLen).
					Attr("autocomplete", pwComplete).
					Value(fieldValue("auth-password", p.password)).OnInput(p.ValueTo(&p.password)),
				app.If(signUp, func() app.UI {
					return app.P().Class("hint").Text("Usernames have 3–32 letters, digits, '.', '-' or '_'. Passwords have at least 8 characters.")
				}),
				app.If(p.err != "", func() app.UI {
					return app.P().ID("auth-error").Class("error").Role("alert").Text(p.err)
				}),
				app.Button().ID("auth-submit").Class("button primary wide").Type("submit").
					Disabled(p.busy).Text(submit),
			),
		),
	)
}

func (p *authPage) tab(id, label string, selected bool, mode state.AuthAction) app.UI {
	cls := "tab"
	if selected {
		cls += " selected"
	}
	return app.Button().ID(id).Class(cls).Type("button").Role("tab").
		Aria("selected", selected).Text(label).
		OnClick(func(ctx app.Context, e app.Event) {
			p.mode, p.err = mode, ""
		})
}

func (p *authPage) submit(ctx app.Context, e app.Event) {
	if p.busy {
		return
	}
	user, pw, mode := strings.TrimSpace(p.username), p.password, p.mode
	if err := checkCredentials(mode, user, pw); err != "" {
		p.err = err
		return
	}
	p.busy, p.err = true, ""
	a := current(ctx.LocalStorage())
	ctx.Async(func() {
		err := a.SignIn(ctx, mode, user, pw)
		ctx.Dispatch(func(ctx app.Context) {
			p.busy = false
			if err != nil {
				code, msg := apiCode(err)
				p.err = state.AuthErrorText(mode, code, msg)
			}
		})
	})
}

// checkCredentials validates the form before calling the API; sign-in only
// needs both fields, sign-up follows the protocol's rules.
func checkCredentials(mode state.AuthAction, user, pw string) string {
	if user == "" || pw == "" {
		return "Enter a username and a password."
	}
	if mode != state.SignUp {
		return ""
	}
	if err := protocol.CheckUsername(user); err != nil {
		return sentence(err)
	}
	if err := protocol.CheckPassword(pw); err != nil {
		return sentence(err)
	}
	return ""
}

// sentence turns a protocol validation error into a sentence.
func sentence(err error) string {
	var de *protocol.DecodeError
	msg := err.Error()
	if errors.As(err, &de) {
		msg = de.Msg
	}
	if msg == "" {
		return ""
	}
	return strings.ToUpper(msg[:1]) + msg[1:] + "."
}
