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
// and on keyboard focus (CSS), and are always in the tab order. Delete
// asks first: it turns into "Delete?" with Delete and Keep. Each button
// carries the message's offset in data-offset, read at the click: go-app
// keeps an element's first handler when the list shifts under it (older
// messages load above), so a closure over the offset would act on the
// message the row showed first.
func (r *roomView) actions(row state.Row) app.UI {
	if row.Offset <= 0 || row.Deleted || row.Offset == r.editing || (!row.Own && !canModerate(r.info())) {
		return nil
	}
	off := strconv.FormatInt(row.Offset, 10)
	if row.Offset == r.confirming {
		return app.Div().Class("msg-actions confirming").Role("group").Aria("labelledby", "delete-ask-"+off).Body(
			app.Span().ID("delete-ask-"+off).Class("delete-ask").Text("Delete?"),
			app.Button().ID("delete-confirm-"+off).Class("link small msg-delete-confirm").Type("button").
				DataSet("offset", off).Title("Delete this message for everyone").Text("Delete").OnClick(r.confirmDelete),
			app.Button().ID("delete-cancel-"+off).Class("link small msg-delete-cancel").Type("button").
				DataSet("offset", off).Title("Keep this message").Text("Keep").OnClick(r.cancelDelete),
		)
	}
	return app.Div().Class("msg-actions").Body(
		app.If(row.Own, func() app.UI {
			return app.Button().ID("edit-"+off).Class("link small msg-edit").Type("button").
				DataSet("offset", off).Title("Edit this message").Text("Edit").OnClick(r.startEdit)
		}),
		app.Button().ID("delete-"+off).Class("link small msg-delete").Type("button").
			DataSet("offset", off).Title("Delete this message").Text("Delete").OnClick(r.askDelete),
	)
}

// clickedOffset is the offset in the clicked button's data-offset, 0
// when it holds none.
func clickedOffset(ctx app.Context) int64 {
	off, err := strconv.ParseInt(ctx.JSSrc().Get("dataset").Get("offset").String(), 10, 64)
	if err != nil || off <= 0 {
		return 0
	}
	return off
}

// askDelete shows the message's delete step, focused on its Delete.
func (r *roomView) askDelete(ctx app.Context, e app.Event) {
	if off := clickedOffset(ctx); off > 0 {
		r.confirming = off
		focusNextFrame("delete-confirm-" + strconv.FormatInt(off, 10))
	}
}

// cancelDelete closes the delete step and gives the focus back to the
// message's Delete.
func (r *roomView) cancelDelete(ctx app.Context, e app.Event) {
	off := clickedOffset(ctx)
	r.confirming = 0
	if off > 0 {
		focusNextFrame("delete-" + strconv.FormatInt(off, 10))
	}
}

// confirmDelete deletes the message of the step.
func (r *roomView) confirmDelete(ctx app.Context, e app.Event) {
	r.confirming = 0
	if off := clickedOffset(ctx); off > 0 {
		r.deleteMsg(ctx, off)
	}
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

func (r *roomView) startEdit(ctx app.Context, e app.Event) {
	if off := clickedOffset(ctx); off > 0 {
		r.editing, r.editErr, r.confirming = off, "", 0
		focusNextFrame(editInputID)
	}
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
