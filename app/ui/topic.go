package ui

import (
	"strings"

	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"github.com/parleychat/parley/app/state"
	"github.com/parleychat/parley/shared/protocol"
)

// topicBar shows a room's topic under its title and lets those who may
// set it (owners and moderators; either member of a direct room) edit it
// in place.
type topicBar struct {
	app.Compo

	Room  string
	Topic string
	// CanEdit: the user may set the topic.
	CanEdit bool

	editing bool
	draft   string
	err     string
	busy    bool
}

func (t *topicBar) Render() app.UI {
	// The line and the form are both always there, one hidden: go-app
	// drops a deferred focus call with the element that asked for it.
	return app.Div().ID("topic-bar").Class("room-topic").Body(
		t.line(),
		app.If(t.CanEdit, func() app.UI { return t.form() }),
	)
}

// line is the topic as text, with an edit button for those who may.
func (t *topicBar) line() app.UI {
	label := "Edit topic"
	if t.Topic == "" {
		label = "Set a topic"
	}
	return app.Div().Class("topic-line").Hidden(t.editing).Body(
		app.P().ID("room-topic").Class("topic small").Dir("auto").Text(t.Topic),
		app.If(t.CanEdit, func() app.UI {
			return app.Button().ID("topic-edit").Class("link small").Type("button").Text(label).OnClick(t.edit)
		}),
	)
}

func (t *topicBar) form() app.UI {
	return app.Form().ID("topic-form").Class("topic-form").Hidden(!t.editing).OnSubmit(t.save).Body(
		app.Label().For("topic-input").Class("sr-only").Text("Topic of the room"),
		app.Input().ID("topic-input").Type("text").Dir("auto").Placeholder("What is this room about?").
			MaxLength(protocol.MaxTopicRunes).Value(fieldValue("topic-input", t.draft)).OnInput(t.ValueTo(&t.draft)),
		app.Button().ID("topic-save").Class("button small").Type("submit").Disabled(t.busy).Text("Save"),
		app.Button().ID("topic-cancel").Class("button subtle small").Type("button").Text("Cancel").OnClick(t.cancel),
		formError("topic-error", t.err),
	)
}

func (t *topicBar) edit(ctx app.Context, e app.Event) {
	t.editing, t.draft, t.err = true, t.Topic, ""
	setField("topic-input", t.draft)
	ctx.Defer(func(app.Context) { focusID("topic-input") })
}

func (t *topicBar) cancel(ctx app.Context, e app.Event) {
	t.editing, t.err = false, ""
	ctx.Defer(func(app.Context) { focusID("topic-edit") })
}

func (t *topicBar) save(ctx app.Context, e app.Event) {
	if t.busy {
		return
	}
	topic := strings.TrimSpace(t.draft)
	if err := protocol.CheckTopic(topic); err != nil {
		t.err = sentence(err)
		return
	}
	t.busy, t.err = true, ""
	a, room := current(ctx.LocalStorage()), t.Room
	ctx.Async(func() {
		err := a.SetTopic(ctx, room, topic)
		ctx.Dispatch(func(ctx app.Context) {
			t.busy = false
			if err != nil {
				t.err = state.RoomErrorText(apiCode(err))
				return
			}
			t.editing = false
			ctx.Defer(func(app.Context) { focusID("topic-edit") })
		})
	})
}
