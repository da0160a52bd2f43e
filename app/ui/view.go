package ui

import (
	"reflect"
	"time"

	"github.com/parleychat/parley/app/state"
	"github.com/parleychat/parley/shared/protocol"
)

// RoomView is what the room page shows, copied out of the App.
type RoomView struct {
	Name string
	Me   string
	Rows []state.Row
	// Present lists who is in the room, the user first.
	Present []string
	// Typing describes who is typing, "" for nobody.
	Typing string
	// Ready: the newest messages are shown. Loading: a page is being
	// fetched. HasOlder: scrolling up can load more.
	Ready, Loading, HasOlder bool
	// Oldest is the lowest offset shown; Newest the highest.
	Oldest, Newest int64
	// Missing: the room does not exist.
	Missing bool
	// Removed is why the user is no longer a member (a
	// protocol.Removed* code), "" while they are.
	Removed string
	// Info is what the room list says of the room (kind, role, peer).
	Info protocol.Room
	// Err is the last failure in this room.
	Err string
	// Retrying: the node cannot serve the room right now and the client
	// is trying again (its database may be down).
	Retrying bool
	// Pending counts messages waiting for their ack.
	Pending int
	// Online: the connection is up.
	Online bool
	// Rev moves with every room event (a member, role or topic changed).
	Rev int
}

// View returns a snapshot of room for rendering.
func (a *App) View(room string, now time.Time, loc *time.Location) RoomView {
	a.mu.Lock()
	defer a.mu.Unlock()
	v := RoomView{Name: room, Me: a.sess.User, Online: a.conn.State == ConnOnline}
	v.Info, _ = a.roomInfoLocked(room)
	rd := a.rooms[room]
	if rd == nil {
		return v
	}
	tl := &rd.tl
	if rd.held != nil {
		// A new epoch's newest page is on its way: keep showing the old.
		shown := rd.tl.Clone()
		shown.Messages = rd.held
		tl = &shown
	}
	v.Rows = state.Rows(tl, v.Me, now, loc)
	v.Present = append([]string(nil), rd.present...)
	v.Typing = state.TypingLabel(rd.typing.Active(now, v.Me))
	v.Ready, v.Loading, v.HasOlder = rd.ready, rd.loading, rd.tl.HasOlder()
	v.Oldest, v.Newest = rd.tl.Oldest(), rd.tl.Newest()
	v.Missing, v.Err, v.Retrying, v.Removed = rd.missing, rd.err, rd.retrying, rd.removed
	v.Rev = rd.rev
	for _, p := range rd.tl.Pending {
		if p.Failed == "" {
			v.Pending++
		}
	}
	return v
}

// sameView reports whether a and b show the same thing.
func sameView(a, b RoomView) bool { return reflect.DeepEqual(a, b) }
