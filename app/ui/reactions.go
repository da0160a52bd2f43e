package ui

import (
	"fmt"
	"strconv"

	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"github.com/parleychat/parley/app/state"
	"github.com/parleychat/parley/shared/client"
	"github.com/parleychat/parley/shared/protocol"
)

// React adds (add) or removes the user's reaction emoji on the message at
// offset in room. The count changes once the node's reaction event
// arrives; a refusal shows as the room's error.
func (a *App) React(room string, offset int64, emoji string, add bool) error {
	if !protocol.IsReaction(emoji) {
		return fmt.Errorf("unknown reaction %q", emoji)
	}
	return a.amend(room, func(cl *client.Client) (string, error) { return cl.React(room, offset, emoji, add) })
}

// reactionNames are the spoken names of protocol.Reactions, in order.
var reactionNames = []string{"thumbs up", "heart", "laughing", "party", "surprised", "sad"}

// reactionName is the spoken name of emoji.
func reactionName(emoji string) string {
	if i := protocol.ReactionIndex(emoji); i >= 0 && i < len(reactionNames) {
		return reactionNames[i]
	}
	return emoji
}

// Element ids of a message's reaction controls, by its offset (off, in
// decimal) and the emoji's place i in protocol.Reactions.
func reactionID(off string, i int) string { return "react-" + off + "-" + strconv.Itoa(i) }
func reactAddID(off string) string        { return "react-add-" + off }
func pickerID(off string) string          { return "react-picker-" + off }
func pickID(off string, i int) string     { return "react-pick-" + off + "-" + strconv.Itoa(i) }

// reactionBar is a stored message's reactions: a toggle button for each
// emoji someone chose, pressed when the user is one of them, with its
// count, then one "Add reaction" button (shown on hover and keyboard
// focus, like the message's actions; always in the tab order) that opens
// the picker of all of protocol.Reactions. Each button carries the
// offset, emoji and state in data attributes, read at the click (see
// actions).
func (r *roomView) reactionBar(row state.Row) app.UI {
	if row.Offset <= 0 || len(row.Reactions) == 0 {
		return nil
	}
	off := strconv.FormatInt(row.Offset, 10)
	open := r.picking == row.Offset
	items := make([]app.UI, 0, len(row.Reactions)+1)
	for i, rr := range row.Reactions {
		if rr.Count == 0 {
			continue
		}
		cls := "reaction"
		if rr.Mine {
			cls += " mine"
		}
		items = append(items, app.Button().ID(reactionID(off, i)).Class(cls).Type("button").
			DataSet("offset", off).DataSet("emoji", rr.Emoji).DataSet("mine", strconv.FormatBool(rr.Mine)).
			Aria("label", reactionLabel(rr)).Aria("pressed", strconv.FormatBool(rr.Mine)).
			Body(
				app.Span().Aria("hidden", "true").Text(rr.Emoji),
				app.Span().Class("reaction-count").Aria("hidden", "true").Text(rr.Count),
			).OnClick(r.toggleReaction))
	}
	cls := "reaction-add"
	if open {
		cls += " open"
	}
	items = append(items, app.Div().Class(cls).Body(
		app.Button().ID(reactAddID(off)).Class("reaction reaction-add-button").Type("button").
			DataSet("offset", off).Title("Add reaction").
			Aria("label", "Add reaction").Aria("haspopup", "menu").
			Aria("expanded", strconv.FormatBool(open)).Aria("controls", pickerID(off)).
			Body(app.Span().Aria("hidden", "true").Text("☺+")).
			OnClick(r.togglePicker),
		app.If(open, func() app.UI { return r.picker(off, row.Reactions) }),
	))
	return app.Div().Class("reactions").Role("group").Aria("label", "Reactions").Body(items...)
}

// reactionLabel is what a screen reader hears for a reaction button:
// "thumbs up, 2 reactions".
func reactionLabel(rr state.RowReaction) string {
	label := reactionName(rr.Emoji) + ", " + strconv.Itoa(rr.Count)
	if rr.Count == 1 {
		return label + " reaction"
	}
	return label + " reactions"
}

// picker is the open "Add reaction" menu of the message off: one item per
// emoji of protocol.Reactions, checked when the user reacted with it
// (choosing it again takes it back). The arrow keys, Home and End move
// between the items (pickerKey), Escape closes it back to its button,
// and focus leaving it (a click or Tab elsewhere) closes it.
func (r *roomView) picker(off string, reactions []state.RowReaction) app.UI {
	items := make([]app.UI, len(reactions))
	for i, rr := range reactions {
		items[i] = app.Button().ID(pickID(off, i)).Class("pick").Type("button").Role("menuitemcheckbox").
			TabIndex(-1).DataSet("offset", off).DataSet("index", i).
			DataSet("emoji", rr.Emoji).DataSet("mine", strconv.FormatBool(rr.Mine)).
			Aria("checked", strconv.FormatBool(rr.Mine)).Aria("label", reactionName(rr.Emoji)).
			Title(reactionName(rr.Emoji)).Text(rr.Emoji).
			OnClick(r.choosePick)
	}
	return app.Div().ID(pickerID(off)).Class("picker").Role("menu").Aria("label", "Add reaction").
		Aria("orientation", "horizontal").DataSet("offset", off).Body(items...).
		OnKeyDown(r.pickerKey).On("focusout", r.pickerLeft)
}

// toggleReaction adds the clicked reaction, or removes it when it is the
// user's.
func (r *roomView) toggleReaction(ctx app.Context, e app.Event) {
	off := clickedOffset(ctx)
	if off <= 0 {
		return
	}
	ds := ctx.JSSrc().Get("dataset")
	if err := r.a.React(r.Room, off, ds.Get("emoji").String(), ds.Get("mine").String() != "true"); err != nil {
		r.a.setRoomError(r.Room, sentence(err))
	}
}

// togglePicker opens the message's picker, focused on its first emoji,
// or closes it when it is open.
func (r *roomView) togglePicker(ctx app.Context, e app.Event) {
	off := clickedOffset(ctx)
	if off <= 0 {
		return
	}
	if r.picking == off {
		r.picking = 0
		return
	}
	r.picking = off
	focusNextFrame(pickID(strconv.FormatInt(off, 10), 0))
}

// choosePick reacts with (or takes back) the chosen emoji and closes the
// picker, the focus back on its button.
func (r *roomView) choosePick(ctx app.Context, e app.Event) {
	r.toggleReaction(ctx, e)
	r.closePicker(true)
}

// closePicker closes the open picker, giving the focus back to its
// button when refocus is set.
func (r *roomView) closePicker(refocus bool) {
	if r.picking == 0 {
		return
	}
	off := strconv.FormatInt(r.picking, 10)
	r.picking = 0
	if refocus {
		focusNextFrame(reactAddID(off))
	}
}

// pickerKey moves between the picker's items and closes it on Escape.
// The guard listener stops the keys' defaults (scrolling the list).
func (r *roomView) pickerKey(ctx app.Context, e app.Event) {
	key := e.Get("key").String()
	if key == "Escape" {
		r.closePicker(true)
		return
	}
	ctx.PreventUpdate()
	i, err := strconv.Atoi(e.Get("target").Get("dataset").Get("index").String())
	n := len(protocol.Reactions)
	if err != nil {
		return
	}
	switch key {
	case "ArrowRight", "ArrowDown":
		i = (i + 1) % n
	case "ArrowLeft", "ArrowUp":
		i = (i + n - 1) % n
	case "Home":
		i = 0
	case "End":
		i = n - 1
	default:
		return
	}
	if el := app.Window().GetElementByID(pickID(ctx.JSSrc().Get("dataset").Get("offset").String(), i)); el.Truthy() {
		el.Call("focus")
	}
}

// pickerLeft closes the picker when the focus has left it for anything
// but its own button (whose click closes it): a click outside, or Tab.
// go-app runs it after the event, when the focus has moved.
func (r *roomView) pickerLeft(ctx app.Context, e app.Event) {
	src := ctx.JSSrc()
	active := app.Window().Get("document").Get("activeElement")
	if active.Truthy() && (src.Call("contains", active).Bool() ||
		active.Get("id").String() == reactAddID(src.Get("dataset").Get("offset").String())) {
		ctx.PreventUpdate()
		return
	}
	r.closePicker(false)
}

// isPickerKey reports whether the guard listener stops the default of key
// in the picker: the arrows and Home/End would scroll the message list.
func isPickerKey(key string) bool {
	switch key {
	case "ArrowRight", "ArrowDown", "ArrowLeft", "ArrowUp", "Home", "End", "Escape":
		return true
	}
	return false
}
