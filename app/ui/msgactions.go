package ui

import (
	"strconv"
	"strings"

	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"github.com/parleychat/parley/app/state"
)

// editInputID is the element id of the in-place edit box.
const editInputID = "edit-input"

// actions are a stored message's buttons: Edit and Delete on the user's
// own, Delete on anyone's for owners and moderators. They show on hover
// and on keyboard focus (CSS), and are always in the tab order.
func (r *roomView) actions(row state.Row) app.UI {
	if row.Offset <= 0 || row.Deleted || row.Offset == r.editing || (!row.Own && !canModerate(r.info())) {
		return nil
	}
	off := row.Offset
	return app.Div().Class("msg-actions").Body(
		app.If(row.Own, func() app.UI {
			return app.Button().ID("edit-" + strconv.FormatInt(off, 10)).Class("link small msg-edit").Type("button").
				Title("Edit this message").Text("Edit").
				OnClick(func(ctx app.Context, e app.Event) { r.startEdit(ctx, off) })
		}),
		app.Button().Class("link small msg-delete").Type("button").
			Title("Delete this message").Text("Delete").
			OnClick(func(ctx app.Context, e app.Event) { r.deleteMsg(ctx, off) }),
	)
}

// editor is the in-place edit box of a message: Enter or Save stores the
// new text, Escape or Cancel leaves it as it was.
func (r *roomView) editor(row state.Row) app.UI {
	return app.Form().Class("msg-editor").OnSubmit(func(ctx app.Context, e app.Event) { r.saveEdit(ctx) }).Body(
		app.Textarea().ID(editInputID).Class("edit-input").Rows(2).Dir("auto").
			Aria("label", "Edit message").Text(row.Body).
			OnKeyDown(r.onEditKey),
		app.Div().Class("edit-buttons").Body(
			app.Button().Class("button small").Type("button").Text("Cancel").
				OnClick(func(ctx app.Context, e app.Event) { r.endEdit(ctx) }),
			app.Button().ID("edit-save").Class("button primary small").Type("submit").Text("Save"),
		),
		app.If(r.editErr != "", func() app.UI {
			return app.P().Class("error small").Role("alert").Text(r.editErr)
		}),
	)
}

func (r *roomView) startEdit(ctx app.Context, off int64) {
	r.editing, r.editErr = off, ""
	focusNextFrame(editInputID)
}

func (r *roomView) onEditKey(ctx app.Context, e app.Event) {
	switch {
	case e.Get("key").String() == "Escape":
		r.endEdit(ctx)
	case isSendKey(e.Value):
		// The new line was stopped by the guard listener.
		r.saveEdit(ctx)
	default:
		ctx.PreventUpdate()
	}
}

func (r *roomView) saveEdit(ctx app.Context) {
	el := app.Window().GetElementByID(editInputID)
	if !el.Truthy() || r.editing == 0 {
		return
	}
	body := strings.Trim(el.Get("value").String(), " \t\r\n")
	if old, ok := r.rowBody(r.editing); ok && old == body {
		r.endEdit(ctx) // nothing changed
		return
	}
	if err := r.a.Edit(r.Room, r.editing, body); err != nil {
		r.editErr = sentence(err)
		return
	}
	r.endEdit(ctx)
}

// endEdit closes the edit box and gives the focus back to the message's
// Edit button.
func (r *roomView) endEdit(ctx app.Context) {
	off := r.editing
	r.editing, r.editErr = 0, ""
	focusNextFrame("edit-" + strconv.FormatInt(off, 10))
}

func (r *roomView) deleteMsg(ctx app.Context, off int64) {
	if err := r.a.Delete(r.Room, off); err != nil {
		r.a.setRoomError(r.Room, sentence(err))
		return
	}
	focusNextFrame(composerID)
}

// rowBody is the shown body of the message at off.
func (r *roomView) rowBody(off int64) (string, bool) {
	for _, row := range r.view.Rows {
		if row.Kind == state.RowMessage && row.Offset == off {
			return row.Body, true
		}
	}
	return "", false
}

// focusNextFrame focuses the element id (the caret at the end of a text
// box) as soon as it exists: go-app renders what the current handler
// changed after it returns, within a few animation frames. It gives up
// after about two seconds of frames.
func focusNextFrame(id string) {
	frames := 0
	var f app.Func
	f = app.FuncOf(func(this app.Value, args []app.Value) any {
		el := app.Window().GetElementByID(id)
		if !el.Truthy() {
			if frames++; frames < 120 {
				app.Window().Call("requestAnimationFrame", f)
			} else {
				f.Release()
			}
			return nil
		}
		f.Release()
		el.Call("focus")
		if el.Get("tagName").String() == "TEXTAREA" {
			el.Call("setSelectionRange", 1<<30, 1<<30) // clamped to the end
		}
		return nil
	})
	app.Window().Call("requestAnimationFrame", f)
}
