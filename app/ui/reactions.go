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

// reactionBar is a stored message's reactions: a toggle button per emoji
// of protocol.Reactions, pressed when the user reacted with it, with its
// count. Emoji nobody chose show on hover and keyboard focus (CSS), like
// the message's actions, and are always in the tab order. Each button
// carries the offset, emoji and state in data attributes, read at the
// click (see actions).
func (r *roomView) reactionBar(row state.Row) app.UI {
	if row.Offset <= 0 || len(row.Reactions) == 0 {
		return nil
	}
	off := strconv.FormatInt(row.Offset, 10)
	buttons := make([]app.UI, len(row.Reactions))
	for i, rr := range row.Reactions {
		cls := "reaction"
		if rr.Count == 0 {
			cls += " none"
		}
		if rr.Mine {
			cls += " mine"
		}
		label := reactionName(rr.Emoji) + ", " + strconv.Itoa(rr.Count)
		if rr.Count == 1 {
			label += " reaction"
		} else {
			label += " reactions"
		}
		buttons[i] = app.Button().ID("react-"+off+"-"+strconv.Itoa(i)).Class(cls).Type("button").
			DataSet("offset", off).DataSet("emoji", rr.Emoji).DataSet("mine", strconv.FormatBool(rr.Mine)).
			Aria("label", label).Aria("pressed", strconv.FormatBool(rr.Mine)).
			Body(
				app.Span().Aria("hidden", "true").Text(rr.Emoji),
				app.If(rr.Count > 0, func() app.UI {
					return app.Span().Class("reaction-count").Aria("hidden", "true").Text(rr.Count)
				}),
			).OnClick(r.toggleReaction)
	}
	return app.Div().Class("reactions").Role("group").Aria("label", "Reactions").Body(buttons...)
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
