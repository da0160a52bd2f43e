package ui

import (
	"time"

	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"github.com/parleychat/parley/app/state"
	"github.com/parleychat/parley/shared/protocol"
)

// Scrolling thresholds, in CSS pixels.
const (
	// stickySlack: a list scrolled to within this of its end follows new
	// messages.
	stickySlack = 48
	// loadOlderAt: scrolling within this of the top loads the older page.
	loadOlderAt = 120
)

// Element ids: the scrolling message list, and the room's title.
const (
	messagesID  = "messages"
	roomTitleID = "room-title"
)

// roomView shows one room: messages, presence, typing and the composer.
// CompoID makes a new room mount a new view.
type roomView struct {
	app.Compo

	Room string

	a          *App
	stop       func()
	watch      coalescer
	view       RoomView
	showPeople bool
	// stick keeps the list scrolled to the newest message.
	stick bool
	// height and top are the list's scroll metrics before an update.
	height, top float64
	// clientHeight is the list's visible height when last seen: when it
	// changes (a resized or rotated window, a phone keyboard), a list that
	// was pinned to the end stays pinned.
	clientHeight float64
	// editing is the offset of the message being edited in place (0:
	// none); editErr says why the last save was refused.
	editing int64
	editErr string
	// confirming is the offset of the message whose delete step shows
	// (0: none).
	confirming int64
	// picking is the offset of the message whose "Add reaction" picker
	// is open (0: none).
	picking int64
	// readAt is the user's read marker when the room opened: the "New
	// messages" divider goes above the first message after it. readSet:
	// it was taken.
	readAt  int64
	readSet bool
	// onVisible re-checks the read marker when the tab is shown again.
	onVisible app.Func
	// picks are the people picked for a new conversation; starting is
	// set while it opens.
	picks    state.Picks
	starting bool
	// del is the owner's "Delete room" step (roomdelete.go).
	del roomDeletion
	// hidden counts the oldest rows not rendered: a room opens with its
	// newest pageSize rows (its cache may hold cachedMessages), and
	// scrolling to the top shows the held rows a page at a time before
	// asking the node for older ones. first is the offset of the first
	// message rendered when the list was last laid out.
	hidden int
	first  int64
}

// CompoID makes /room/a → /room/b replace the view instead of reusing it.
func (r *roomView) CompoID() string { return r.Room }

// OnInit takes the room's first snapshot before the first render in the
// browser, so cached messages are in the first frame.
func (r *roomView) OnInit() {
	if app.IsClient {
		r.a = current(localStorage{})
		r.view = r.a.View(r.Room, time.Now(), time.Local)
		r.hidden = pageStart(r.view.Rows, len(r.view.Rows))
	}
}

func (r *roomView) OnMount(ctx app.Context) {
	r.a = current(ctx.LocalStorage())
	r.stick = true
	r.stop = r.a.Watch(func() {
		r.watch.trigger(func() {
			ctx.Dispatch(func(ctx app.Context) {
				r.watch.done()
				r.refresh(ctx)
			})
		})
	})
	// Nothing is scrolled yet: take the snapshot without reading the
	// list's metrics, which would lay the page out in this task.
	r.take(ctx)
	// The focus waits for the first frame: focusing lays the page out too.
	afterPaint(func() {
		ctx.Dispatch(func(ctx app.Context) {
			ctx.PreventUpdate()
			r.focusIn()
		})
	})
	r.onVisible = app.FuncOf(func(app.Value, []app.Value) any {
		ctx.Dispatch(func(app.Context) { r.markRead() })
		return nil
	})
	app.Window().Get("document").Call("addEventListener", "visibilitychange", r.onVisible)
}

// focusIn moves the focus into the room when it opens from the sidebar,
// a link or a sign-in (else it stays on the link, six Tabs away): on the
// composer, except on touch screens (a coarse pointer), where that would
// open the on-screen keyboard: there on the room's title.
// Focus the user put elsewhere in the room view stays.
func (r *roomView) focusIn() {
	doc := app.Window().Get("document")
	active := doc.Get("activeElement")
	if active.Truthy() && !active.Equal(doc.Get("body")) && !active.Call("closest", ".sidebar, .welcome, .missing, .auth-page").Truthy() {
		return
	}
	if app.Window().Call("matchMedia", "(pointer: coarse)").Get("matches").Bool() {
		focusID(roomTitleID)
		return
	}
	focusID(composerID)
}

// OnResize keeps a list pinned to its end pinned when the window changes.
func (r *roomView) OnResize(ctx app.Context) {
	r.keepPinned()
	ctx.PreventUpdate()
}

// keepPinned scrolls a pinned list back to its end after its visible height
// changed, and reports whether it had changed.
func (r *roomView) keepPinned() bool {
	el := app.Window().GetElementByID(messagesID)
	if !el.Truthy() {
		return false
	}
	h := el.Get("clientHeight").Float()
	changed := r.clientHeight != 0 && h != r.clientHeight
	r.clientHeight = h
	if changed && r.stick {
		el.Set("scrollTop", el.Get("scrollHeight").Float())
	}
	return changed
}

func (r *roomView) OnDismount() {
	if r.stop != nil {
		r.stop()
	}
	if r.onVisible != nil {
		app.Window().Get("document").Call("removeEventListener", "visibilitychange", r.onVisible)
		r.onVisible.Release()
	}
}

// refresh takes a new snapshot and, after rendering, restores the scroll
// position: pinned to the end, or kept in place when older messages were
// prepended.
func (r *roomView) refresh(ctx app.Context) {
	if el := app.Window().GetElementByID(messagesID); el.Truthy() {
		r.height, r.top = el.Get("scrollHeight").Float(), el.Get("scrollTop").Float()
	}
	r.take(ctx)
}

// take takes a new snapshot of the room. One that shows what the last did
// (most changes of the app are elsewhere) is not rendered again: a render
// builds every row anew.
func (r *roomView) take(ctx app.Context) {
	old, readSet := r.view, r.readSet
	r.view = r.a.View(r.Room, time.Now(), time.Local)
	if r.del.sent && r.view.Removed == protocol.RemovedDeleted {
		// This view deleted the room: back to the list, whichever
		// came first, the answer or the inbox's event.
		r.del = roomDeletion{}
		ctx.Navigate("/")
		return
	}
	if r.view.Removed == protocol.RemovedLeft && r.a.TakeLeft(r.Room) {
		// The user left it here (the members panel, unmounted by
		// now, asked): back to the list.
		ctx.Navigate("/")
		return
	}
	if !r.readSet && r.view.Ready && r.view.Info.Kind != "" {
		r.readAt, r.readSet = r.view.Info.LastRead, true
	}
	if len(old.Rows) == 0 {
		// The room's first rows (cached, or the newest page): render
		// the newest page of them first.
		r.hidden = pageStart(r.view.Rows, len(r.view.Rows))
	}
	if r.readSet == readSet && sameView(old, r.view) {
		ctx.PreventUpdate()
	}
	ctx.Defer(func(ctx app.Context) { r.afterRender(ctx, old) })
}

// shown returns the rows rendered: all but the hidden oldest.
func (r *roomView) shown() []state.Row {
	r.hidden = min(r.hidden, len(r.view.Rows))
	return r.view.Rows[r.hidden:]
}

// showOlder renders the next page of the held rows that are hidden, or,
// with none left, asks the node for the page before the oldest. el is
// the list, whose position is kept when rows are added above.
func (r *roomView) showOlder(ctx app.Context, el app.Value) {
	if r.hidden == 0 {
		r.a.LoadOlder(r.Room)
		return
	}
	if el.Truthy() {
		r.height, r.top = el.Get("scrollHeight").Float(), el.Get("scrollTop").Float()
	}
	r.hidden = pageStart(r.view.Rows, r.hidden)
	// Render them, then keep the position (a Defer queued from the
	// dispatch runs after the render it asks for).
	ctx.Dispatch(func(ctx app.Context) {
		ctx.Defer(func(ctx app.Context) { r.afterRender(ctx, r.view) })
	})
}

// pageStart returns where the page of rows ending before end starts: at
// the day separator above its pageSize-th message counted back from end,
// or at 0 when there are not that many.
func pageStart(rows []state.Row, end int) int {
	n := 0
	for i := min(end, len(rows)) - 1; i > 0; i-- {
		if rows[i].Kind != state.RowMessage {
			continue
		}
		if n++; n == pageSize {
			if rows[i-1].Kind == state.RowDay {
				i--
			}
			return i
		}
	}
	return 0
}

// firstShown is the offset of the first message rendered, 0 for none.
func (r *roomView) firstShown() int64 {
	for _, row := range r.shown() {
		if row.Kind == state.RowMessage && row.Offset > 0 {
			return row.Offset
		}
	}
	return 0
}

func (r *roomView) afterRender(ctx app.Context, old RoomView) {
	el := app.Window().GetElementByID(messagesID)
	if !el.Truthy() {
		return
	}
	height := el.Get("scrollHeight").Float()
	first := r.firstShown()
	prepended := r.first != 0 && first != 0 && first < r.first
	r.first = first
	switch {
	case r.view.Pending > old.Pending:
		// The user just sent something: show it.
		r.stick = true
		el.Set("scrollTop", height)
	case prepended && !r.stick:
		// Older rows came above (a page from the node, or held rows
		// shown): keep what the user was reading in place.
		el.Set("scrollTop", height-r.height+r.top)
	case r.stick:
		el.Set("scrollTop", height)
	}
	r.clientHeight = el.Get("clientHeight").Float()
	r.markRead()
	// A short first page leaves nothing to scroll: keep loading.
	if height <= el.Get("clientHeight").Float()+1 && (r.hidden > 0 || r.view.Ready && r.view.HasOlder && !r.view.Loading) {
		r.showOlder(ctx, el)
	}
}

func (r *roomView) onScroll(ctx app.Context, e app.Event) {
	if r.keepPinned() {
		// The list was resized, not scrolled by the user.
		ctx.PreventUpdate()
		return
	}
	el := ctx.JSSrc()
	top := el.Get("scrollTop").Float()
	was := r.stick
	r.stick = el.Get("scrollHeight").Float()-top-el.Get("clientHeight").Float() < stickySlack
	if r.stick == was {
		ctx.PreventUpdate() // the jump button stays as it is
	}
	r.markRead()
	if top < loadOlderAt && (r.hidden > 0 || r.view.Ready && r.view.HasOlder && !r.view.Loading) {
		r.showOlder(ctx, el)
	}
}

func (r *roomView) Render() app.UI {
	v := r.view
	peopleCls := "people"
	if r.showPeople {
		peopleCls += " open"
	}
	return app.Section().Class("room").DataSet("room", r.Room).Body(
		app.Header().Class("room-header").Body(
			app.A().Class("back").Href("/").Aria("label", "All rooms").Text("‹"),
			app.H1().ID(roomTitleID).Class("room-title").TabIndex(-1).Body(
				roomMark(r.info()),
				app.Bdi().Text(roomLabel(r.info())),
			),
			app.Button().ID("people-toggle").Class("people-toggle").Type("button").
				Aria("expanded", r.showPeople).Aria("controls", "people").
				Title("Who is here").
				OnClick(func(ctx app.Context, e app.Event) { r.showPeople = !r.showPeople }).
				Body(r.peopleCount()...),
		),
		&topicBar{Room: r.Room, Topic: v.Info.Topic, CanEdit: v.Removed == "" && canSetTopic(v.Info)},
		app.If(v.Removed != "", func() app.UI {
			return removedRoom(v.Removed)
		}).ElseIf(v.Missing, func() app.UI {
			return r.missingRoom()
		}).Else(func() app.UI {
			return app.Div().Class("room-body").Body(
				app.Div().Class("timeline").Body(
					app.Div().ID(messagesID).Class("messages").Role("log").
						Aria("live", "polite").Aria("label", "Messages in "+r.ref()).
						OnScroll(r.onScroll).Body(r.messages()...),
					app.If(!r.stick && v.Ready && len(v.Rows) > 0, func() app.UI {
						return app.Button().ID("jump-newest").Class("jump-newest button small").Type("button").
							Text("Jump to newest").OnClick(r.jumpNewest)
					}),
					app.Div().ID("typing").Class("typing").Aria("live", "polite").Text(v.Typing),
					app.If(v.Retrying && v.Online, func() app.UI {
						return app.P().ID("room-retrying").Class("notice room-retrying").Role("status").
							Text("Reconnecting this room… Messages will appear as soon as the server can send them.")
					}),
					app.If(v.Err != "", func() app.UI {
						return app.P().ID("room-error").Class("error room-error").Role("alert").Text(v.Err)
					}),
					&composer{Room: r.Room, Label: r.ref()},
				),
				r.peoplePanel(peopleCls),
			)
		}),
	)
}

// canSetTopic reports whether the user may set the room's topic:
// owners and moderators, and either member of a direct room.
func canSetTopic(r protocol.Room) bool {
	switch r.Role {
	case protocol.RoleOwner, protocol.RoleModerator:
		return true
	case protocol.RoleMember:
		return r.Kind == protocol.KindDirect
	}
	return false
}

// info is what the room list says of the room, at least its name.
func (r *roomView) info() protocol.Room {
	info := r.view.Info
	if info.Name == "" {
		info.Name = r.Room
	}
	return info
}

// ref names the room in running text: "@peer" for a direct room,
// "#name" otherwise (also while the room list has not said which).
func (r *roomView) ref() string { return roomRef(r.info()) }

// historyEdge is the top of the list: a loader, a button for older
// messages, or the start of the room.
func (r *roomView) historyEdge() app.UI {
	v := r.view
	older := app.Button().ID("load-older").Class("edge button subtle small").Type("button").
		Text("Load older messages").
		OnClick(func(ctx app.Context, e app.Event) {
			r.showOlder(ctx, app.Window().GetElementByID(messagesID))
		})
	switch {
	case r.hidden > 0:
		return older
	case v.Loading:
		return app.P().Class("edge muted").Text("Loading messages…")
	case !v.Ready:
		return app.P().Class("edge muted").Text("Waiting for the connection…")
	case v.HasOlder:
		return older
	case len(v.Rows) == 0:
		// The empty room says so once, below.
		return nil
	default:
		return app.P().Class("edge muted").Text("This is the start of " + r.ref() + ".")
	}
}

func (r *roomView) row(row state.Row) app.UI {
	if row.Kind == state.RowDay {
		return app.Div().Class("day").Role("separator").Body(app.Span().Text(row.Day))
	}
	cls := "msg"
	if row.Own {
		cls += " own"
	}
	if row.Continued {
		cls += " cont"
	}
	if row.Pending {
		cls += " pending"
	}
	if row.Failed != "" {
		cls += " failed"
	}
	return app.Div().Class(cls).DataSet("offset", row.Offset).DataSet("author", row.Author).Body(
		app.If(!row.Own && !row.Continued, func() app.UI {
			return avatar(row.Author)
		}).ElseIf(!row.Own, func() app.UI {
			return app.Span().Class("avatar-space")
		}),
		app.Div().Class("bubble").Title(row.Title).Body(
			app.If(!row.Continued, func() app.UI {
				return app.Div().Class("meta").Body(
					app.If(!row.Own, func() app.UI {
						return app.Bdi().Class("author").Text(row.Author)
					}),
					msgTime(row),
				)
			}),
			// Bodies are text nodes: markup in a message is shown, never run.
			// dir=auto lays out each in its own script's direction.
			app.If(row.Deleted, func() app.UI {
				return app.Div().Class("body deleted").Text("Message deleted")
			}).ElseIf(row.Offset > 0 && row.Offset == r.editing, func() app.UI {
				return r.editor(row)
			}).Else(func() app.UI {
				return app.Div().Class("body").Dir("auto").Text(row.Body)
			}),
			app.If(row.Edited && !row.Deleted, func() app.UI {
				return app.Span().Class("edited").Text("(edited)")
			}),
			app.If(row.Continued, func() app.UI {
				// A continued message keeps its time, at its end.
				return msgTime(row)
			}),
			app.If(row.Pending, func() app.UI {
				return app.Div().Class("status").Text("Sending…")
			}),
			app.If(row.Failed != "", func() app.UI {
				return r.failed(row)
			}),
			r.reactionBar(row),
		),
		r.actions(row),
	)
}

func msgTime(row state.Row) app.UI {
	return app.Time().Class("time").DateTime(time.UnixMilli(row.TS).UTC().Format(time.RFC3339)).Text(row.Clock)
}

// peopleCount is the header's presence button: how many are here, or that
// it is unknown while offline (not a green dot and "0").
func (r *roomView) peopleCount() []app.UI {
	v := r.view
	if !v.Online {
		return []app.UI{
			app.Span().Class("dot offline").Aria("hidden", "true"),
			app.Span().ID("people-count").Aria("hidden", "true").Text("–"),
			app.Span().Class("people-toggle-label").Text(" offline"),
		}
	}
	return []app.UI{
		app.Span().Class("dot online").Aria("hidden", "true"),
		app.Span().ID("people-count").Text(len(v.Present)),
		app.Span().Class("people-toggle-label").Text(" here"),
	}
}

func (r *roomView) failed(row state.Row) app.UI {
	cid := row.CID
	return app.Div().Class("status failed").Body(
		app.Span().Text("Not sent: "+row.Failed+" "),
		app.Button().Class("link").Type("button").Text("Retry").
			OnClick(func(ctx app.Context, e app.Event) { r.a.Retry(r.Room, cid) }),
		app.Text(" · "),
		app.Button().Class("link").Type("button").Text("Discard").
			OnClick(func(ctx app.Context, e app.Event) { r.a.Discard(r.Room, cid) }),
	)
}

// removedRoom replaces a room the user is no longer a member of.
func removedRoom(why string) app.UI {
	return app.Div().ID("room-removed").Class("missing").Role("alert").Body(
		app.H2().Text(removedTitle(why)),
		app.P().Class("muted").Text(removedText(why)),
		app.Div().Class("actions").Body(
			app.A().Class("button").Href("/").Text("All rooms"),
		),
	)
}

// removedTitle heads the view of a room the user lost.
func removedTitle(why string) string {
	if why == protocol.RemovedDeleted {
		return "This room was deleted"
	}
	return "You were removed from this room"
}

// removedText says why the user lost a room (a protocol.Removed* code).
func removedText(why string) string {
	switch why {
	case protocol.RemovedKicked:
		return "An owner or moderator removed you. Its messages are no longer available to you."
	case protocol.RemovedBanned:
		return "An owner or moderator removed you and you cannot join again."
	case protocol.RemovedLeft:
		return "You left this room, here or on another device."
	case protocol.RemovedDeleted:
		return "An owner deleted it, with its messages and members."
	default:
		return "You are no longer a member of this room."
	}
}

// missingRoom offers to create a room that does not exist.
func (r *roomView) missingRoom() app.UI {
	return app.Div().Class("missing").Body(
		app.H2().Text("#"+r.Room+" does not exist"),
		app.P().Class("muted").Text("Create it, or pick another room."),
		app.If(r.view.Err != "", func() app.UI {
			return app.P().Class("error").Role("alert").Text(r.view.Err)
		}),
		app.Div().Class("actions").Body(
			app.Button().ID("create-missing").Class("button primary").Type("button").
				Text("Create #"+r.Room).OnClick(r.createMissing),
			app.A().Class("button").Href("/").Text("All rooms"),
		),
	)
}

func (r *roomView) createMissing(ctx app.Context, e app.Event) {
	a, room := r.a, r.Room
	ctx.Async(func() {
		err := a.CreateRoom(ctx, room, protocol.KindPublic)
		code, msg := "", ""
		if err != nil {
			code, msg = apiCode(err)
		}
		if err == nil || code == protocol.ErrConflict {
			a.Reopen(room)
			return
		}
		a.setRoomError(room, state.RoomErrorText(code, msg))
	})
}

// markRead moves the read marker to the newest message when the user can
// see it: the room is ready, the tab visible and the list scrolled to its
// end.
func (r *roomView) markRead() {
	v := r.view
	if r.a == nil || !v.Ready || !r.stick || v.Newest <= 0 || pageHidden() {
		return
	}
	r.a.MarkRead(r.Room, v.Newest)
}

// jumpNewest scrolls to the newest message (and marks it read).
func (r *roomView) jumpNewest(ctx app.Context, e app.Event) {
	r.stick = true
	if el := app.Window().GetElementByID(messagesID); el.Truthy() {
		el.Set("scrollTop", el.Get("scrollHeight").Float())
	}
	focusID(composerID)
	r.markRead()
}

// messages is the list's content: the history edge, the rows with the
// "New messages" divider above the first unread one, or a word for an
// empty room.
func (r *roomView) messages() []app.UI {
	v := r.view
	rows := r.shown()
	at := r.dividerRow(rows)
	out := make([]app.UI, 0, len(rows)+3)
	out = append(out, r.historyEdge())
	for i, row := range rows {
		if i == at {
			out = append(out, unreadDivider())
		}
		out = append(out, r.row(row))
	}
	if v.Ready && !v.HasOlder && len(v.Rows) == 0 {
		out = append(out, app.P().Class("empty muted").Text("No messages in "+r.ref()+" yet. Say hello!"))
	}
	return out
}

// dividerRow is the index in rows of the row the "New messages" divider
// goes above: the first stored message after the marker the room opened
// with that someone else wrote; -1 for none.
func (r *roomView) dividerRow(rows []state.Row) int {
	if !r.readSet {
		return -1
	}
	for i, row := range rows {
		if row.Kind == state.RowMessage && row.Offset > r.readAt && !row.Own && !row.Pending {
			return i
		}
	}
	return -1
}

// unreadDivider marks where the unread messages start.
func unreadDivider() app.UI {
	return app.Div().ID("unread-divider").Class("unread-divider").Role("separator").Text("New messages")
}
