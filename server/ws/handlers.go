package ws

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/parleychat/parley/server/hub"
	"github.com/parleychat/parley/server/stages"
	"github.com/parleychat/parley/server/store"
	"github.com/parleychat/parley/shared/protocol"
	"golang.org/x/text/unicode/norm"
	"golang.org/x/time/rate"
)

// handle acts on one valid frame from an authenticated client.
func (c *conn) handle(ctx context.Context, f protocol.Frame) {
	switch f.Type {
	case protocol.TypePing:
		c.reply(protocol.Frame{Type: protocol.TypePong, ID: f.ID})
	case protocol.TypeSubscribe:
		c.subscribe(ctx, f)
	case protocol.TypeUnsubscribe:
		if c.takeRoom(f.Room) {
			c.s.cfg.Hub.Unsubscribe(c, f.Room)
		}
		c.release(f.Room)
	case protocol.TypeSend, protocol.TypeEdit, protocol.TypeDelete, protocol.TypeReact, protocol.TypeUnreact:
		c.send(ctx, f)
	case protocol.TypeHistory:
		c.history(ctx, f)
	case protocol.TypeTyping:
		c.typing(ctx, f)
	case protocol.TypeToken:
		c.refreshToken(ctx, f)
	case protocol.TypePresence:
		c.presence(ctx, f)
	case protocol.TypeRead:
		c.read(ctx, f)
	case protocol.TypeWatch:
		c.watch(ctx, f)
	case protocol.TypeUnwatch:
		c.unwatch(f.Room)
	case protocol.TypeAuth:
		c.replyError(protocol.ErrBadRequest, "", "already authenticated")
	}
}

// subscribe subscribes the connection to a room, or restarts a
// subscription it has from since. When the node cannot serve it now (the
// store is unreachable), the client is told unavailable and retries; the
// user is held present in the room meanwhile (Hub.Hold), because it is
// connected and trying.
func (c *conn) subscribe(ctx context.Context, f protocol.Frame) {
	if c.inRoom(f.Room) {
		// Already in the room (a resync, or a retry): restart from since
		// without leaving it, so presence does not flicker and membership
		// is not written again. A failure keeps the subscription as it
		// was, unless the user may no longer read the room.
		err := c.authorize(ctx, f.Room, false)
		if err == nil {
			err = c.s.cfg.Hub.Resubscribe(ctx, c, f.Room, f.Since)
		}
		if denied(err) && c.takeRoom(f.Room) {
			c.s.cfg.Hub.Unsubscribe(c, f.Room)
		}
		if err != nil {
			c.storeError(f.Room, "subscribe", err)
		}
		return
	}
	if c.subscriptions()+len(c.held) >= protocol.MaxSubscriptions && !c.held[f.Room] {
		c.replyError(protocol.ErrBadRequest, f.Room, "too many subscriptions")
		return
	}
	c.awaitRemoval(f.Room)
	var err error
	switch f.Room {
	case protocol.InboxRoom(c.user):
		_, err = store.EnsureInbox(ctx, c.s.cfg.Store, c.user) // subscribing makes it
	case protocol.RoomFeed:
		err = store.EnsureFeed(ctx, c.s.cfg.Store)
	}
	// Join is the membership check: it joins a public room (unless
	// banned), refuses a private or direct room the user is not in, and
	// lets anyone follow the room feed (no membership, no presence).
	var joined bool
	if err == nil {
		joined, err = c.s.cfg.Store.Join(ctx, f.Room, c.user)
	}
	if joined {
		c.announceJoin(ctx, f.Room)
	}
	if err == nil {
		c.markRoom(f.Room)
		if err = c.s.cfg.Hub.Subscribe(ctx, c, f.Room, f.Since); err != nil {
			c.takeRoom(f.Room)
		}
	}
	if err != nil {
		if retryable(err) && !c.held[f.Room] {
			c.held = putIn(c.held, f.Room, true)
			c.s.cfg.Hub.Hold(ctx, f.Room, c.user)
		} else if !retryable(err) {
			c.release(f.Room)
		}
		c.storeError(f.Room, "subscribe", err)
		return
	}
	c.release(f.Room) // the subscription now keeps the user present
}

// presence answers a client's request for a room's full presence list.
func (c *conn) presence(ctx context.Context, f protocol.Frame) {
	if f.Room == protocol.RoomFeed {
		c.replyError(protocol.ErrBadRequest, f.Room, "the room feed has no presence")
		return
	}
	if !c.inRoom(f.Room) {
		c.replyError(protocol.ErrBadRequest, f.Room, "not subscribed to the room")
		return
	}
	err := c.s.cfg.Hub.SendPresence(ctx, c, f.Room)
	switch {
	case errors.Is(err, hub.ErrNotSubscribed):
		c.replyError(protocol.ErrBadRequest, f.Room, "not subscribed to the room")
	case err != nil:
		c.storeError(f.Room, "presence", err)
	}
}

// release ends the presence hold of a room the client no longer retries.
func (c *conn) release(room string) {
	if c.held[room] {
		delete(c.held, room)
		c.s.cfg.Hub.Release(room, c.user)
	}
}

// sendGateGrace is how long, beyond its retry_after, a refused send holds
// the connection's later sends back: long enough for every send that was
// already on its way to arrive, however slow the link.
const sendGateGrace = 5 * time.Second

// sendGate remembers the last send refused for now: until the client sends
// that cid again (or the gate lapses), every other send of the connection
// is refused the same way, so a client that resends from the refused
// message keeps its order even when later messages were already on their
// way. Owned by the reader goroutine.
type sendGate struct {
	cid     string
	code    string
	until   time.Time
	retryAt time.Time // rate_limited: when the refusing limit has room
}

func (c *conn) send(ctx context.Context, f protocol.Frame) {
	now := c.s.cfg.Now()
	if g := c.gate; g.cid != "" {
		if f.CID != g.cid && now.Before(g.until) {
			// retry_after: when the limit that refused it has room again.
			c.refuseSend(f.CID, g.code, "an earlier message was refused; send it again first", g.retryAt.Sub(now))
			return
		}
		c.gate = sendGate{}
	}
	r := c.sendLim.ReserveN(now, 1)
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		c.refuseRate(f.CID, "sending too fast", d, now)
		return
	}
	body := f.Body // a reaction's body is one of protocol.Reactions (validated)
	switch f.Type {
	case protocol.TypeDelete:
		body = ""
	case protocol.TypeSend, protocol.TypeEdit:
		body = norm.NFC.String(f.Body)
		if err := protocol.CheckBody(body); err != nil {
			r.CancelAt(now)
			c.reject(f, err) // NFC can lengthen a body past the limit
			return
		}
	}
	t := c.takeSendRead()
	a, taken, wait, err := c.checkSend(ctx, f.Room, []int{len(body)}, &t)
	if err != nil {
		if retryable(err) {
			c.gate = sendGate{cid: f.CID, code: protocol.ErrUnavailable, until: now.Add(sendGateGrace)}
		}
		c.storeError(f.CID, "check membership", err)
		return
	}
	if taken == 0 {
		r.CancelAt(now) // refused: it costs the connection nothing
		c.refuseRate(f.CID, "your account is sending too fast", wait, now)
		return
	}
	m, dup, err := c.store(ctx, f, body, a)
	c.stage(stages.SendStore, &t)
	if err == nil && dup && (m.Room != f.Room || m.Kind != "" && f.Type == protocol.TypeSend) {
		// The cid names a message in another room (or an event):
		// acknowledging that one would tell the client its message for
		// f.Room is stored.
		c.replyError(protocol.ErrConflict, f.CID, fmt.Sprintf("cid already names a message in room %q; use a fresh cid", m.Room))
		return
	}
	if f.Type != protocol.TypeSend && amendRefused(err) {
		c.refuseAmend(f, err)
		return
	}
	if err != nil {
		if retryable(err) {
			c.gate = sendGate{cid: f.CID, code: protocol.ErrUnavailable, until: now.Add(sendGateGrace)}
		}
		c.storeError(f.CID, "append message", err)
		return
	}
	if !dup {
		if err := c.s.cfg.Hub.PublishMessage(ctx, m); err != nil {
			c.s.log.Error("publish message", "room", m.Room, "err", err)
		}
		c.stage(stages.SendPublish, &t)
	}
	c.reply(protocol.Frame{Type: protocol.TypeAck, CID: m.CID, Room: m.Room, Offset: m.Offset, TS: m.TS.UnixMilli()})
}

// pendingSend is a send of a batch that passed the connection's own
// checks: it holds its reservation of the connection's send rate and its
// body in NFC.
type pendingSend struct {
	f    protocol.Frame
	body string
	r    *rate.Reservation
}

// sends handles send frames to one room that the client sent back to
// back, with the outcome send would give each in turn: the same
// answers, in the same order, the same refusals and the same sendGate.
// Those that pass the connection's own checks (admit) go together
// (storeRun: one membership check, one budget take, one store
// transaction, one publish, then their acks); one that does not is
// handed to send, which answers it as ever, and the next ones start a
// new run. One frame is simply send.
func (c *conn) sends(ctx context.Context, frames []protocol.Frame) {
	if len(frames) == 1 {
		c.send(ctx, frames[0])
		return
	}
	now := c.s.cfg.Now()
	run := make([]pendingSend, 0, len(frames))
	for i := 0; i < len(frames); {
		run = run[:0]
		for i < len(frames) {
			p, ok := c.admit(frames[i], now)
			if !ok {
				break
			}
			run = append(run, p)
			i++
		}
		if len(run) == 0 {
			c.send(ctx, frames[i]) // refused (or sent alone) as ever
			i++
			continue
		}
		done := c.storeRun(ctx, run, now)
		// What storeRun did not answer comes after a send it refused:
		// it goes again (the gate refuses it now), its reservation
		// given back as if it had never been made.
		for j := len(run) - 1; j >= done; j-- {
			run[j].r.CancelAt(now)
		}
		i -= len(run) - done
	}
}

// admit runs the checks of send that need nothing but the connection
// (the gate, the connection's send rate, the body) and reports whether f
// passed them; when it did not, nothing changed (send answers it).
func (c *conn) admit(f protocol.Frame, now time.Time) (pendingSend, bool) {
	if c.gate.cid != "" {
		return pendingSend{}, false
	}
	r := c.sendLim.ReserveN(now, 1)
	if r.DelayFrom(now) > 0 {
		r.CancelAt(now)
		return pendingSend{}, false
	}
	body := norm.NFC.String(f.Body)
	if protocol.CheckBody(body) != nil {
		r.CancelAt(now)
		return pendingSend{}, false
	}
	return pendingSend{f: f, body: body, r: r}, true
}

// storeRun stores admitted sends of one room together and answers them
// in order, and returns how many it answered: all of them, or up to
// the first it refused (when the membership check, the account's budget
// or the store refuses it), whose refusal is send's (a refusal for now
// sets the gate). The caller hands the rest to send again.
func (c *conn) storeRun(ctx context.Context, run []pendingSend, now time.Time) int {
	first := run[0].f
	t := c.takeSendRead()
	sizes := make([]int, len(run))
	for i := range run {
		sizes[i] = len(run[i].body)
	}
	_, n, wait, err := c.checkSend(ctx, first.Room, sizes, &t)
	if err != nil {
		if retryable(err) {
			c.gate = sendGate{cid: first.CID, code: protocol.ErrUnavailable, until: now.Add(sendGateGrace)}
		}
		c.storeError(first.CID, "check membership", err)
		return 1
	}
	if n > 0 && !c.appendRun(ctx, run[:n], now, t) {
		// One at a time, the first send's failure would have taken
		// only its own budget: the others' goes back.
		c.returnBudget(ctx, sizes[1:n])
		return 1
	}
	if n < len(run) {
		run[n].r.CancelAt(now) // refused: it costs the connection nothing
		c.refuseRate(run[n].f.CID, "your account is sending too fast", wait, now)
		return n + 1
	}
	return n
}

// checkSend asks the store whether the user may send to room
// (c.access) and, at the same time, takes messages of sizes from the
// account's budget (takeBudget): one round trip's wait instead of two. It
// returns access's answer and, when that lets the sends through, how many
// the budget took and the wait of the first it did not. When access
// refuses, its error is the answer whatever the budget said, and what the
// budget took is given back (budget.Budget.Return), so a send the check
// refuses costs nothing, as when the budget was taken after it. Without
// UserBudgetReturn the budget is taken after the check, as before.
//
// The budget's goroutine is checkSend's: it runs under ctx (the
// connection's) and checkSend waits for it before it returns, also when
// access refused (cancelling it would leave unknown whether Redis took
// the sends). *t is the first send's read stamp: send_access and
// send_budget are each timed from there, and *t moves to when both are
// done.
func (c *conn) checkSend(ctx context.Context, room string, sizes []int, t *int64) (a store.Access, taken int, wait time.Duration, err error) {
	start := *t
	if c.s.cfg.UserBudgetReturn == nil || c.s.cfg.UserBudget == nil && c.s.cfg.UserBudgetAll == nil {
		if a, err = c.access(ctx, room, true); err != nil {
			return a, 0, 0, err
		}
		c.stage(stages.SendAccess, t)
		taken, wait = c.takeBudget(ctx, sizes)
		c.stage(stages.SendBudget, t)
		return a, taken, wait, nil
	}
	type took struct {
		n    int
		wait time.Duration
		at   int64
	}
	done := make(chan took, 1)
	go func() {
		n, w := c.takeBudget(ctx, sizes)
		done <- took{n, w, c.s.cfg.Stages.Now()}
	}()
	a, err = c.access(ctx, room, true)
	if err == nil {
		c.stage(stages.SendAccess, t)
	}
	b := <-done
	if err != nil {
		c.returnBudget(ctx, sizes[:b.n])
		return a, 0, 0, err
	}
	c.s.cfg.Stages.Set(stages.SendBudget, start, b.at)
	if *t != 0 {
		*t = c.s.cfg.Stages.Now()
	}
	return a, b.n, b.wait, nil
}

// returnBudget gives sends of sizes, taken but not sent, back to the
// account's budget: also when the connection is closing (ctx ended),
// since the budget is the account's.
func (c *conn) returnBudget(ctx context.Context, sizes []int) {
	if give := c.s.cfg.UserBudgetReturn; give != nil && len(sizes) > 0 {
		give(context.WithoutCancel(ctx), c.user, sizes)
	}
}

// takeBudget takes messages of sizes from the account's budget in order,
// up to the first that does not fit: how many it took, and that one's
// wait.
func (c *conn) takeBudget(ctx context.Context, sizes []int) (int, time.Duration) {
	if take := c.s.cfg.UserBudget; take != nil && (len(sizes) == 1 || c.s.cfg.UserBudgetAll == nil) {
		for i, n := range sizes {
			if d := take(ctx, c.user, n); d > 0 {
				return i, d
			}
		}
		return len(sizes), 0
	}
	if all := c.s.cfg.UserBudgetAll; all != nil {
		return all(ctx, c.user, sizes)
	}
	return len(sizes), 0
}

// appendRun stores run in one transaction, publishes what is new and
// answers each send in order, as send does; false when the store failed
// (run[0] is answered, and the gate set when the client retries).
func (c *conn) appendRun(ctx context.Context, run []pendingSend, now time.Time, t int64) bool {
	ms := make([]store.Message, len(run))
	for i, p := range run {
		ms[i] = store.Message{Room: p.f.Room, Author: c.user, Body: p.body, CID: p.f.CID}
	}
	stored, err := c.s.cfg.Store.AppendAll(ctx, ms)
	c.stage(stages.SendStore, &t)
	if err != nil {
		if retryable(err) {
			c.gate = sendGate{cid: run[0].f.CID, code: protocol.ErrUnavailable, until: now.Add(sendGateGrace)}
		}
		c.storeError(run[0].f.CID, "append message", err)
		return false
	}
	fresh := ms[:0]
	for _, a := range stored {
		if !a.Dup {
			fresh = append(fresh, a.Message)
		}
	}
	if len(fresh) > 0 {
		if err := c.s.cfg.Hub.PublishMessages(ctx, fresh); err != nil {
			c.s.log.Error("publish messages", "room", run[0].f.Room, "err", err)
		}
		c.stage(stages.SendPublish, &t)
	}
	// The answers go into the queue at once (one writer start).
	replies := make([][]byte, 0, len(stored))
	for i, a := range stored {
		f, m := run[i].f, a.Message
		reply := protocol.Frame{Type: protocol.TypeAck, CID: m.CID, Room: m.Room, Offset: m.Offset, TS: m.TS.UnixMilli()}
		if a.Dup && (m.Room != f.Room || m.Kind != "") {
			reply = protocol.ErrorFrame(protocol.ErrConflict, f.CID, fmt.Sprintf("cid already names a message in room %q; use a fresh cid", m.Room))
		}
		b, err := protocol.Encode(reply)
		if err != nil {
			c.s.log.Error("encode reply", "type", reply.Type, "err", err)
			continue
		}
		replies = append(replies, b)
	}
	c.SendAll(replies)
	return true
}

// takeSendRead returns when the reader read the first of the sends it
// is handling, once: the sends after a refusal start a new run, whose
// time is not measured from there (zero: nothing is).
func (c *conn) takeSendRead() int64 {
	t := c.sendRead
	c.sendRead = 0
	return t
}

// stage records stage st from *t to now and moves *t there; nothing when
// *t is zero (no stages, or this run is not measured).
func (c *conn) stage(st stages.Stage, t *int64) {
	*t = c.s.cfg.Stages.Observe(st, *t)
}

// store stores a send, edit, delete, react or unreact; a in the room
// decides whether the user may delete others' messages.
func (c *conn) store(ctx context.Context, f protocol.Frame, body string, a store.Access) (store.Message, bool, error) {
	switch f.Type {
	case protocol.TypeSend:
		return c.s.cfg.Store.Append(ctx, store.Message{Room: f.Room, Author: c.user, Body: body, CID: f.CID})
	case protocol.TypeReact, protocol.TypeUnreact:
		kind := protocol.MsgReact
		if f.Type == protocol.TypeUnreact {
			kind = protocol.MsgUnreact
		}
		return c.s.cfg.Store.React(ctx, store.Message{Room: f.Room, Author: c.user, CID: f.CID, Kind: kind, Target: f.Target, Body: body})
	}
	kind := protocol.MsgEdit
	if f.Type == protocol.TypeDelete {
		kind = protocol.MsgDelete
	}
	e := store.Message{Room: f.Room, Author: c.user, CID: f.CID, Kind: kind, Target: f.Target, Body: body}
	return c.s.cfg.Store.Amend(ctx, e, a.CanModerate())
}

// amendRefused reports whether err is the store's final verdict on an
// edit, delete or reaction (as opposed to a failure the client retries). The
// room's existence and the user's access were checked before, so
// ErrNotFound is about the target.
func amendRefused(err error) bool {
	return errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrForbidden) ||
		errors.Is(err, store.ErrGone) || errors.Is(err, store.ErrConflict)
}

// refuseAmend answers an edit, delete or reaction the store refused for
// good.
func (c *conn) refuseAmend(f protocol.Frame, err error) {
	switch {
	case errors.Is(err, store.ErrForbidden) && f.Type == protocol.TypeEdit:
		c.replyError(protocol.ErrForbidden, f.CID, "only its author may edit a message")
	case errors.Is(err, store.ErrForbidden):
		c.replyError(protocol.ErrForbidden, f.CID, "only its author, an owner or a moderator may delete a message")
	case errors.Is(err, store.ErrGone):
		c.replyError(protocol.ErrConflict, f.CID, "the message was deleted")
	case errors.Is(err, store.ErrConflict):
		c.replyError(protocol.ErrConflict, f.CID, "cid already names another message; use a fresh cid")
	default:
		c.replyError(protocol.ErrNotFound, f.CID, fmt.Sprintf("no message at offset %d", f.Target))
	}
}

// refuseRate refuses a send over a rate limit for wait, and holds the
// connection's later sends back until this one is sent again (sendGate).
func (c *conn) refuseRate(cid, msg string, wait time.Duration, now time.Time) {
	c.gate = sendGate{cid: cid, code: protocol.ErrRateLimited, until: now.Add(wait + sendGateGrace), retryAt: now.Add(wait)}
	c.refuseSend(cid, protocol.ErrRateLimited, msg, wait)
}

// refuseSend answers a send the node cannot take now (the client resends
// it): rate_limited with retry_after, or unavailable.
func (c *conn) refuseSend(cid, code, msg string, retry time.Duration) {
	f := protocol.Frame{Type: protocol.TypeError, Code: code, Ref: cid, Message: msg}
	if code == protocol.ErrRateLimited {
		f.RetryAfter = max(retry.Milliseconds(), 1)
	}
	c.reply(f)
}

func (c *conn) history(ctx context.Context, f protocol.Frame) {
	limit := f.Limit
	if limit == 0 {
		limit = protocol.HistoryPageDefault
	}
	if err := c.authorize(ctx, f.Room, false); err != nil {
		c.storeError(f.ID, "check membership", err)
		return
	}
	page := store.Page{Before: f.Before, Newest: f.Before == 0, Limit: limit}
	msgs, err := c.s.cfg.Store.History(ctx, f.Room, page)
	if err != nil {
		c.storeError(f.ID, "read history", err)
		return
	}
	more := len(msgs) == limit && msgs[0].Offset > 1
	msgs, trimmed := hub.NewestWithin(msgs, protocol.HistoryPageMaxBytes)
	more = more || (trimmed && msgs[0].Offset > 1)
	out := make([]protocol.Message, 0, len(msgs))
	for i := range msgs {
		if !c.takesKind(msgs[i].Kind) {
			continue // a client never sees an event of a feature it did not ask for
		}
		out = append(out, *hub.ToProtocol(&msgs[i]))
	}
	c.reply(protocol.Frame{Type: protocol.TypeHistory, ID: f.ID, Room: f.Room, Messages: out, More: more})
}

// typingEvery throttles typing frames per room per connection.
const typingEvery = time.Second

func (c *conn) typing(ctx context.Context, f protocol.Frame) {
	if f.Room == protocol.RoomFeed {
		c.replyError(protocol.ErrBadRequest, f.Room, "nobody types in the room feed")
		return
	}
	if !c.inRoom(f.Room) {
		c.replyError(protocol.ErrForbidden, f.Room, "subscribe to the room first")
		return
	}
	now := c.s.cfg.Now()
	if now.Sub(c.typingLim[f.Room]) < typingEvery {
		return
	}
	c.typingLim = putIn(c.typingLim, f.Room, now)
	c.s.cfg.Hub.PublishTyping(ctx, f.Room, c.user)
}

func (c *conn) refreshToken(ctx context.Context, f protocol.Frame) {
	id, err := c.s.cfg.Verify(ctx, f.Token)
	if err != nil && c.s.cfg.Ended(err) {
		c.endSession()
		return
	}
	if err != nil || id.User != c.user {
		c.replyError(protocol.ErrUnauthorized, "", "token rejected")
		return
	}
	exp := id.Expires
	c.sid.Store(&id.Session)
	if exp.UnixNano() > c.expires.Load() {
		c.expires.Store(exp.UnixNano())
		c.rearmTimer()
	}
}

// storeError answers a failed store or hub call with the matching code:
// not_found for a room that does not exist, else unavailable (the client
// retries).
func (c *conn) storeError(ref, what string, err error) {
	switch {
	case errors.Is(err, store.ErrNotFound):
		// Also a private or direct room the user is not in: the same
		// answer, so nobody learns it exists.
		c.replyError(protocol.ErrNotFound, ref, "no such room")
	case errors.Is(err, store.ErrBanned):
		c.replyError(protocol.ErrForbidden, ref, "banned from this room")
	case errors.Is(err, errReadOnly):
		c.replyError(protocol.ErrForbidden, ref, errReadOnly.Error())
	case errors.Is(err, context.Canceled):
	default:
		c.s.log.Warn(what+" failed; the client will retry", "user", c.user, "ref", ref, "err", err)
		c.replyError(protocol.ErrUnavailable, ref, what+" failed; try again")
	}
}

// retryable reports whether storeError answers err with unavailable.
func retryable(err error) bool {
	return !denied(err) && !errors.Is(err, context.Canceled)
}

// takesKind reports whether the connection is sent stored messages or
// events of kind: events only of the features it asked for.
func (c *conn) takesKind(kind string) bool {
	switch kind {
	case "":
		return true
	case protocol.MsgRoom:
		return c.changes.Load()
	case protocol.MsgReact, protocol.MsgUnreact:
		return c.reacts.Load()
	}
	return c.edits.Load()
}
