package hub

import (
	"context"
	"errors"
	"fmt"

	"github.com/parleychat/parley/server/store"
	"github.com/parleychat/parley/shared/protocol"
)

// Remover is a Subscriber the hub can tell that it was removed from a
// room (kicked, banned, or it left on another device). The room has
// already dropped it and sent it the removed frame; Removed must not
// block, and must eventually call Hub.Unsubscribe(sub, room) once, as
// for any subscription it ends, so that references and presence are
// released. A Subscriber that is not a Remover is only dropped.
type Remover interface {
	Removed(room string)
}

// PublishRemoved announces that user lost their membership of room
// (reason is a protocol.Removed* code). Call it after the store records
// the change: every node's room actor that serves user checks the store
// and ends user's subscriptions there. A lost announcement is caught by
// the room's next reconcile, which sees the room's roster counter move.
func (h *Hub) PublishRemoved(ctx context.Context, roomName, user, reason string) error {
	payload, err := protocol.Encode(protocol.Frame{Type: protocol.TypeRemoved, Room: roomName, User: user, Code: reason})
	if err != nil {
		return fmt.Errorf("publish removal from %s: %w", roomName, err)
	}
	h.publish(ctx, roomName, headed(kindRemoved, 0, payload))
	return nil
}

// PublishDeleted announces that room was deleted. Call it after the
// store deleted it: every node's room actor of it ends every local
// subscription (removed, code protocol.RemovedDeleted) and watch. A
// lost announcement is caught by the room's next reconcile, which finds
// the room gone (or another under its name, with a new epoch).
func (h *Hub) PublishDeleted(ctx context.Context, roomName string) error {
	payload, err := protocol.Encode(protocol.Frame{Type: protocol.TypeRemoved, Room: roomName, Code: protocol.RemovedDeleted})
	if err != nil {
		return fmt.Errorf("publish deletion of %s: %w", roomName, err)
	}
	h.publish(ctx, roomName, headed(kindRemoved, 0, payload))
	return nil
}

// deleted handles a deletion announcement: unless the store still has
// the room this actor serves (the same epoch: the announcement is
// stale), every subscription and watch here ends. When the store
// cannot be asked, they end too (fail closed, as recheck does).
func (r *room) deleted(ctx context.Context) {
	rm, err := r.h.cfg.Store.Room(ctx, r.name)
	if ctx.Err() != nil {
		return // the hub is stopping
	}
	if err == nil && r.epoch != 0 && rm.Epoch == r.epoch {
		return
	}
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		r.h.log.Warn("room check after a deletion failed; ending its subscriptions", "room", r.name, "err", err)
	}
	r.endAll()
}

// endAll ends every local subscription and watch of a room that is gone
// (deleted, or replaced by another of the same name), and forgets what
// the actor knew of it: a later subscribe starts from the store again.
func (r *room) endAll() {
	for sub := range r.subs {
		r.evict(sub, protocol.RemovedDeleted)
	}
	r.last, r.epoch, r.roster = -1, 0, -1
}

// removed handles a removal announcement: user's subscriptions here end
// unless the store says user is a member again (re-invited since).
func (r *room) removed(ctx context.Context, user, reason string) {
	r.recheck(ctx, reason, func(u string) bool { return u == user })
}

// recheck ends the subscriptions of every local user (that match picks)
// whom the store no longer counts as a member. When the store cannot be
// asked, the subscription ends too: a removal was announced or the
// roster moved, and staying open could show a removed user the room.
func (r *room) recheck(ctx context.Context, reason string, match func(string) bool) {
	verdict := make(map[string]bool) // user → stays
	for sub := range r.subs {
		u := sub.User()
		if !match(u) {
			continue
		}
		stays, ok := verdict[u]
		if !ok {
			a, err := r.h.cfg.Store.Access(ctx, r.name, u)
			if ctx.Err() != nil {
				return // the hub is stopping: that says nothing about membership
			}
			stays = err == nil && a.Role != ""
			if err != nil {
				r.h.log.Warn("membership check failed; ending the subscription", "room", r.name, "user", u, "err", err)
			}
			verdict[u] = stays
		}
		if !stays {
			r.evict(sub, reason)
		}
	}
}

// evict drops sub from the room, sends it the removed frame (not to a
// watcher: a watch ends silently) and tells it.
func (r *room) evict(sub Subscriber, reason string) {
	st := r.subs[sub]
	delete(r.subs, sub)
	r.h.stats.removed.Add(1)
	if st == nil || !st.watch {
		if frame, err := protocol.Encode(protocol.Frame{Type: protocol.TypeRemoved, Room: r.name, Code: reason}); err == nil {
			sub.Send(frame, false)
		}
	}
	if rm, ok := sub.(Remover); ok {
		rm.Removed(r.name)
	}
}

// checkRoster re-checks every local subscriber when the room's roster
// counter moved since the actor last looked: a removal it was not told
// of (a lost publish). rm is the room as just read, or nil to read it.
func (r *room) checkRoster(ctx context.Context, rm *store.Room) {
	if r.roster < 0 {
		return
	}
	if rm == nil {
		got, err := r.h.cfg.Store.Room(ctx, r.name)
		if err != nil {
			return // the reconcile asks again
		}
		rm = &got
	}
	if rm.Roster != r.roster {
		r.roster = rm.Roster
		r.recheck(ctx, protocol.RemovedNotMember, func(string) bool { return true })
	}
}
