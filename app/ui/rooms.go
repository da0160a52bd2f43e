package ui

import (
	"context"
	"errors"
	"slices"
	"sort"
	"time"

	"github.com/parleychat/parley/app/state"
	"github.com/parleychat/parley/shared/client"
	"github.com/parleychat/parley/shared/protocol"
)

// Rooms returns the room list, whether it was loaded (from the node or the
// cache) and the last error loading it.
func (a *App) Rooms() (rooms []protocol.Room, loaded bool, errText string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Clone(a.roomList), a.roomsLoaded, a.roomsErr
}

// splitRooms parts the room list into the user's rooms (every room the
// user has a role in, and any room without a kind, from an older
// version's cache) and the public rooms the user is not a member of,
// which opening joins. Both keep the list's order.
func splitRooms(rooms []protocol.Room) (mine, open []protocol.Room) {
	for _, r := range rooms {
		if r.Role == "" && r.Kind == protocol.KindPublic {
			open = append(open, r)
		} else {
			mine = append(mine, r)
		}
	}
	return mine, open
}

// RefreshRooms reloads the room list from the API. It blocks: call it on
// its own goroutine.
func (a *App) RefreshRooms() {
	gen := a.generation()
	ctx, cancel := context.WithTimeout(context.Background(), requestTimeout)
	defer cancel()
	var rooms []protocol.Room
	err := a.withToken(ctx, gen, func(tok string) (err error) {
		rooms, err = a.api.Rooms(ctx, tok)
		return err
	})
	a.mu.Lock()
	if a.gen != gen {
		a.mu.Unlock()
		return
	}
	if err != nil {
		a.roomsErr = state.RoomErrorText(apiCode(err))
		a.mu.Unlock()
		a.notify()
		return
	}
	sortRooms(rooms)
	keepReads(a.roomList, rooms)
	a.roomList, a.roomsLoaded, a.roomsErr = rooms, true, ""
	a.saveRoomsLocked()
	a.syncWatchesLocked()
	a.mu.Unlock()
	a.notify()
}

// sortRooms puts the default room first, then the rest by name.
func sortRooms(rooms []protocol.Room) {
	// sort.Sort, not slices.SortFunc: the generic sort would be compiled
	// again for protocol.Room's shape (about 20 KB of app.wasm), while
	// sort's own is linked anyway.
	sort.Sort(byRoomOrder(rooms))
}

// byRoomOrder sorts rooms for sortRooms.
type byRoomOrder []protocol.Room

func (r byRoomOrder) Len() int      { return len(r) }
func (r byRoomOrder) Swap(i, j int) { r[i], r[j] = r[j], r[i] }
func (r byRoomOrder) Less(i, j int) bool {
	x, y := r[i].Name, r[j].Name
	switch {
	case x == y:
		return false
	case x == protocol.DefaultRoom:
		return true
	case y == protocol.DefaultRoom:
		return false
	}
	return x < y
}

// CreateRoom creates a room of kind (protocol.KindPublic or KindPrivate)
// through the API and adds it to the list. It blocks: run it from
// ctx.Async.
func (a *App) CreateRoom(ctx context.Context, name, kind string) error {
	ctx, cancel := context.WithTimeout(ctx, requestTimeout)
	defer cancel()
	var room protocol.Room
	err := a.withToken(ctx, a.generation(), func(tok string) (err error) {
		room, err = a.api.CreateRoomOf(ctx, tok, name, kind)
		return err
	})
	if err != nil {
		return err
	}
	a.addRoom(room)
	return nil
}

// addRoom puts room in the list (replacing what the list said of it),
// saves the list and re-renders.
func (a *App) addRoom(room protocol.Room) {
	a.mu.Lock()
	i := slices.IndexFunc(a.roomList, func(r protocol.Room) bool { return r.Name == room.Name })
	if i >= 0 {
		a.roomList[i] = room
	} else {
		a.roomList = append(a.roomList, room)
		sortRooms(a.roomList)
	}
	back := false
	if rd := a.rooms[room.Name]; rd != nil && rd.removed != "" {
		// Invited again: the room opens anew.
		rd.removed, rd.missing, rd.subscribed, rd.leftHere, back = "", false, false, false, true
	}
	a.saveRoomsLocked()
	a.mu.Unlock()
	if back {
		a.open(room.Name) // only if it is on screen
	}
	a.notify()
}

// Select makes room the one on screen ("" for none): the previous room is
// unsubscribed (so the user leaves its presence list) and room is opened.
func (a *App) Select(room string) {
	a.mu.Lock()
	if room == a.current {
		a.mu.Unlock()
		return
	}
	prev, cl := a.current, a.cl
	a.current = room
	if rd := a.rooms[prev]; rd != nil && prev != "" {
		rd.subscribed, rd.present = false, nil
		rd.people.Reset()
	}
	if rd := a.rooms[room]; rd != nil && rd.removed != "" {
		rd.forget()
	}
	a.mu.Unlock()
	if cl != nil && prev != "" {
		cl.Unsubscribe(prev)
	}
	if room != "" {
		a.open(room)
	}
	a.notify()
}

// open subscribes the current room: from its newest offset when its
// timeline is ready, else after fetching the newest page (a subscription
// from 0 would replay up to a whole backlog). It is called again on every
// connect, so a fetch that failed offline is retried.
func (a *App) open(room string) {
	a.mu.Lock()
	if room == "" || room != a.current || a.cl == nil {
		a.mu.Unlock()
		return
	}
	rd, cl := a.room(room), a.cl
	// Subscribed but not ready: a new epoch emptied the room and its
	// newest page is still to come.
	if (rd.subscribed && rd.ready) || rd.missing || rd.removed != "" {
		a.mu.Unlock()
		return
	}
	if rd.ready && !rd.subscribed {
		rd.subscribed = true
		epoch, since := rd.tl.Epoch, rd.tl.Newest()
		a.mu.Unlock()
		if err := cl.SubscribeEpoch(room, epoch, since); err != nil {
			a.withRoom(room, false, func(rd *roomData, _ string) { rd.err = err.Error() })
		}
		return
	}
	if rd.loading {
		a.mu.Unlock()
		return
	}
	rd.loading = true
	gen := a.gen
	a.mu.Unlock()
	go a.fetchPage(gen, cl, room, 0)
}

// forget makes a room the user lost (left, removed, deleted) new again,
// as a reload finds it: no rows, no reason, nothing missing; opening it
// asks the node, which shows a public room (subscribing joins it again)
// and answers a private one as missing. A view open on it keeps saying
// why until the room is opened again (Select).
func (rd *roomData) forget() {
	rd.removed, rd.leftHere, rd.missing, rd.err = "", false, false, ""
	rd.tl.Reset(0)
	rd.held, rd.ready, rd.subscribed = nil, false, false
}

// Reopen opens room again after it was missing or failed (it was just
// created, say).
func (a *App) Reopen(room string) {
	a.withRoom(room, false, func(rd *roomData, _ string) {
		rd.missing, rd.err, rd.subscribed = false, "", false
	})
	a.open(room)
	a.notify()
}

// setRoomError shows err in room.
func (a *App) setRoomError(room, err string) {
	a.withRoom(room, false, func(rd *roomData, _ string) { rd.err = err })
	a.notify()
}

// LoadOlder fetches the page before the oldest message held for room.
func (a *App) LoadOlder(room string) {
	a.mu.Lock()
	rd, cl := a.rooms[room], a.cl
	if cl == nil || rd == nil || rd.loading || !rd.ready || !rd.tl.HasOlder() || rd.tl.Oldest() == 0 {
		a.mu.Unlock()
		return
	}
	rd.loading = true
	gen, before := a.gen, rd.tl.Oldest()
	a.mu.Unlock()
	a.notify()
	go a.fetchPage(gen, cl, room, before)
}

// fetchPage requests the page of room before offset before (0: newest)
// and merges it. The newest page makes the room ready and subscribes it.
func (a *App) fetchPage(gen uint64, cl *client.Client, room string, before int64) {
	ctx, cancel := context.WithTimeout(context.Background(), requestTimeout)
	defer cancel()
	msgs, more, err := cl.History(ctx, room, before, pageSize)
	a.pageArrived(gen, cl, room, before, msgs, more, err)
}

// pageArrived merges the page of room before offset before that session
// gen asked for (or handles why it did not come). The newest page ends
// what a new epoch held on screen (roomData.held).
func (a *App) pageArrived(gen uint64, cl *client.Client, room string, before int64, msgs []protocol.Message, more bool, err error) {
	a.mu.Lock()
	if a.gen != gen {
		a.mu.Unlock()
		return
	}
	rd := a.room(room)
	rd.loading = false
	// An older page asked for before a new epoch emptied the room holds
	// the old epoch's offsets: it is dropped, and the newest page asked for.
	outdated := before != 0 && !rd.ready
	switch {
	case err == nil && outdated:
	case err == nil:
		rd.tl.AddPage(a.sess.User, msgs, more)
		rd.err, rd.retrying, rd.pageRetries = "", false, 0
		if before == 0 {
			rd.ready, rd.held = true, nil
		}
		a.persistSoonLocked(room)
	case errors.Is(err, client.ErrNotConnected):
		// Retried on the next connect.
	default:
		code, msg := apiCode(err)
		switch {
		case code == protocol.ErrNotFound:
			rd.missing = true
		case retryable(code, err):
			// The node cannot serve it now (its database may be down):
			// the room says it is reconnecting and asks again later.
			rd.retrying = true
			rd.loading = true
			d := client.Backoff(rd.pageRetries, pageRetryMin, pageRetryMax)
			rd.pageRetries++
			time.AfterFunc(d, func() { a.retryPage(gen, cl, room, before) })
		default:
			rd.err = state.RoomErrorText(code, msg)
		}
	}
	a.mu.Unlock()
	if err == nil && (before == 0 || outdated) {
		a.open(room)
	}
	a.notify()
}

// retryPage fetches again a page the node could not serve, unless the
// user has left the room meanwhile (opening it again starts over).
func (a *App) retryPage(gen uint64, cl *client.Client, room string, before int64) {
	a.mu.Lock()
	if a.gen != gen || room != a.current {
		if rd := a.rooms[room]; rd != nil && a.gen == gen {
			rd.loading, rd.retrying, rd.pageRetries = false, false, 0
		}
		a.mu.Unlock()
		return
	}
	a.mu.Unlock()
	a.fetchPage(gen, cl, room, before)
}

// Send queues body for room: it shows at once as pending, is saved in the
// outbox so it survives a reload, and is sent whenever a connection is up
// by the tab that holds the outbox lock (this one, or another that hears
// of it once it is saved).
func (a *App) Send(room, body string) error {
	if err := protocol.CheckBody(body); err != nil {
		return err
	}
	cid := client.NewCID()
	a.mu.Lock()
	cl := a.cl
	if cl == nil {
		a.mu.Unlock()
		return client.ErrUnauthorized
	}
	a.room(room).tl.Queue(cid, body, time.Now().UnixMilli())
	owner := a.owner
	a.outboxWriteLocked(room, cid, !owner)
	a.mu.Unlock()
	if owner {
		if err := cl.SendWithCID(room, cid, body); err != nil {
			a.failSend(room, cid, err)
		}
	}
	a.notify()
	return nil
}

// Retry sends a failed message again under its original cid.
func (a *App) Retry(room, cid string) {
	a.mu.Lock()
	cl, owner := a.cl, a.owner
	rd := a.rooms[room]
	var body string
	if rd != nil {
		for i := range rd.tl.Pending {
			if p := &rd.tl.Pending[i]; p.CID == cid {
				p.Failed, body = "", p.Body
			}
		}
	}
	if body != "" {
		a.outboxWriteLocked(room, cid, !owner)
	}
	a.mu.Unlock()
	if cl == nil || body == "" || !owner {
		a.notify()
		return
	}
	if err := cl.SendWithCID(room, cid, body); err != nil {
		a.failSend(room, cid, err)
	}
	a.notify()
}

// Discard drops a failed message.
func (a *App) Discard(room, cid string) {
	a.withRoom(room, true, func(rd *roomData, _ string) { rd.tl.Discard(cid) })
	a.mu.Lock()
	a.outboxWriteLocked(room, cid, false)
	a.mu.Unlock()
	a.notify()
}

// Typing tells the room that the user is typing (throttled by the client).
func (a *App) Typing(room string) {
	a.mu.Lock()
	cl := a.cl
	a.mu.Unlock()
	if cl != nil {
		cl.Typing(room)
	}
}

func (a *App) failSend(room, cid string, err error) {
	a.withRoom(room, true, func(rd *roomData, _ string) {
		rd.tl.Fail(cid, sendErrorText(err))
	})
	a.mu.Lock()
	a.outboxWriteLocked(room, cid, false)
	a.mu.Unlock()
}

func sendErrorText(err error) string {
	switch {
	case errors.Is(err, client.ErrOutboxFull):
		return "Too many messages wait to be sent."
	default:
		return state.RoomErrorText(apiCode(err))
	}
}

// apiCode extracts the protocol error code and message of an API or node
// error; the code is "" for a network failure.
// retryable reports whether a failed request may work when asked again:
// the node said so (unavailable, rate_limited, internal_error) or it did
// not answer in time.
func retryable(code string, err error) bool {
	switch code {
	case protocol.ErrUnavailable, protocol.ErrRateLimited, protocol.ErrInternal:
		return true
	}
	return errors.Is(err, context.DeadlineExceeded)
}

func apiCode(err error) (code, message string) {
	var ae *client.APIError
	if errors.As(err, &ae) {
		return ae.Code, ae.Message
	}
	var se *client.ServerError
	if errors.As(err, &se) {
		return se.Code, se.Message
	}
	var de *protocol.DecodeError
	if errors.As(err, &de) {
		return de.Code, de.Msg
	}
	return "", err.Error()
}
