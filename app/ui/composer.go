package ui

import (
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"github.com/parleychat/parley/shared/protocol"
)

// composerID is the element id of the message textarea.
const composerID = "composer"

// Composer sizing.
const (
	// maxComposerHeight bounds the auto-growing textarea, in CSS pixels.
	maxComposerHeight = 200
	// warnRunesLeft: below this many characters left, a counter shows.
	warnRunesLeft = 300
)

// composer is the message box: Enter sends, Shift+Enter adds a line.
type composer struct {
	app.Compo

	Room string
	// Label names the room in the placeholder ("#room", "@peer"; empty:
	// "#" and Room).
	Label string

	runes int
	err   string
}

func (c *composer) Render() app.UI {
	left := protocol.MaxBodyRunes - c.runes
	return app.Form().ID("composer-form").Class("composer").OnSubmit(c.onSubmit).Body(
		app.Div().Class("composer-row").Body(
			app.Textarea().ID(composerID).Class("composer-input").Rows(1).
				Placeholder("Message "+c.label()).Aria("label", "Message "+c.label()).Dir("auto").
				OnInput(c.onInput).OnKeyDown(c.onKeyDown),
			app.Button().ID("send").Class("button primary send").Type("submit").
				Disabled(c.runes == 0 || left < 0).Text("Send"),
		),
		app.If(left < warnRunesLeft, func() app.UI {
			cls := "counter muted small"
			if left < 0 {
				cls = "counter error small"
			}
			return app.P().Class(cls).Text(strconv.Itoa(left) + " characters left")
		}),
		app.If(c.err != "", func() app.UI {
			return app.P().Class("error small").Role("alert").Text(c.err)
		}),
	)
}

func (c *composer) onInput(ctx app.Context, e app.Event) {
	el := ctx.JSSrc()
	value := el.Get("value").String()
	c.runes = utf8.RuneCountInString(strings.TrimSpace(value))
	c.err = ""
	autoGrow(el)
	if c.runes > 0 {
		current(ctx.LocalStorage()).Typing(c.Room)
	}
}

func (c *composer) onKeyDown(ctx app.Context, e app.Event) {
	if !isSendKey(e.Value) {
		ctx.PreventUpdate()
		return
	}
	// The default (a new line) was stopped by the guard listener.
	c.send(ctx)
}

func (c *composer) onSubmit(ctx app.Context, e app.Event) {
	c.send(ctx)
}

func (c *composer) send(ctx app.Context) {
	el := app.Window().GetElementByID(composerID)
	if !el.Truthy() {
		return
	}
	body := strings.TrimRight(el.Get("value").String(), " \t\r\n")
	body = strings.TrimLeft(body, "\r\n")
	if strings.TrimSpace(body) == "" {
		return
	}
	if err := current(ctx.LocalStorage()).Send(c.Room, body); err != nil {
		c.err = sentence(err)
		return
	}
	el.Set("value", "")
	c.runes, c.err = 0, ""
	autoGrow(el)
	el.Call("focus")
}

// autoGrow fits the textarea to its content, up to maxComposerHeight.
func autoGrow(el app.Value) {
	style := el.Get("style")
	style.Set("height", "auto")
	h := min(el.Get("scrollHeight").Int(), maxComposerHeight)
	style.Set("height", strconv.Itoa(h)+"px")
}

// label is how the placeholder names the room.
func (c *composer) label() string {
	if c.Label != "" {
		return c.Label
	}
	return "#" + c.Room
}
