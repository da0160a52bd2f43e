package hub

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/parleychat/parley/server/store"
	"github.com/parleychat/parley/shared/protocol"
)

type cmdKind int

const (
	cmdSubscribe cmdKind = iota
	cmdUnsubscribe
)

type command struct {
	kind  cmdKind
	sub   Subscriber
	since int64
	reply chan error
}

const (
	pokeCatchUp uint32 = 1 << iota
	pokePresence
)

// inboxSize bounds the payloads waiting for a room actor. Overflow is not
// loss: the actor catches up from the store. It is allocated per active
// room (24 bytes a slot), so it stays small.
const inboxSize = 512

// room is the actor owning one room's local subscribers.
type room struct {
	h    *Hub
	name string
	refs int // guarded by h.mu
	// unsynced: the broker subscription failed; guarded by h.mu.
	unsynced bool

	cmds  chan command
	inbox chan []byte
	pokes atomic.Uint32
	wake  chan struct{}
	quit  chan struct{}
	done  chan struct{}
	once  sync.Once

	// Owned by the actor goroutine.
	subs          map[Subscriber]*subState
	last          int64 // highest offset delivered in sequence; -1 unknown
	epoch         int64
	presenceTimer *time.Timer
}

type subState struct {
	last int64 // highest offset sent to this subscriber
}

func newRoom(h *Hub, name string) *room {
	return &room{
		h:     h,
		name:  name,
		cmds:  make(chan command, 64),
		inbox: make(chan []byte, inboxSize),
		wake:  make(chan struct{}, 1),
		quit:  make(chan struct{}),
		done:  make(chan struct{}),
		subs:  make(map[Subscriber]*subState),
		last:  -1,
	}
}

func (r *room) stop() { r.once.Do(func() { close(r.quit) }) }

// offer queues a broker payload without blocking.
func (r *room) offer(p []byte) {
	select {
	case r.inbox <- p:
	default:
		r.h.stats.overflows.Add(1)
		r.poke(pokeCatchUp | pokePresence)
	}
}

func (r *room) poke(flags uint32) {
	r.pokes.Or(flags)
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

func (r *room) run(ctx context.Context) {
	defer close(r.done)
	r.init(ctx)
	reconcile := time.NewTicker(r.h.cfg.Reconcile)
	defer reconcile.Stop()
	presence := make(chan struct{}, 1)
	r.presenceTimer = time.AfterFunc(time.Hour, func() {
		select {
		case presence <- struct{}{}:
		default:
		}
	})
	r.presenceTimer.Stop()
	defer r.presenceTimer.Stop()

	for {
		select {
		case <-ctx.Done():
			return
		case <-r.quit:
			return
		case c := <-r.cmds:
			r.command(ctx, c)
		case p := <-r.inbox:
			r.payload(ctx, p)
		case <-r.wake:
			flags := r.pokes.Swap(0)
			if flags&pokeCatchUp != 0 {
				r.catchUp(ctx, 0)
			}
			if flags&pokePresence != 0 {
				r.schedulePresence()
			}
		case <-reconcile.C:
			r.reconcile(ctx)
		case <-presence:
			r.sendPresence(ctx, nil)
		}
	}
}

func (r *room) init(ctx context.Context) {
	rm, err := r.h.cfg.Store.Room(ctx, r.name)
	if err != nil {
		r.h.log.Warn("room head", "room", r.name, "err", err)
		return
	}
	r.last, r.epoch = rm.Head, rm.Epoch
}

func (r *room) command(ctx context.Context, c command) {
	switch c.kind {
	case cmdSubscribe:
		c.reply <- r.subscribe(ctx, c.sub, c.since)
	case cmdUnsubscribe:
		delete(r.subs, c.sub)
	}
}

// subscribe sends sub the subscribed frame, its backlog and the presence
// list, then adds it to the live set. Because the actor handles one thing at
// a time, no live message can slip between the backlog and the live set.
func (r *room) subscribe(ctx context.Context, sub Subscriber, since int64) error {
	rm, err := r.h.cfg.Store.Room(ctx, r.name)
	if err != nil {
		return err
	}
	if r.last < 0 {
		r.last, r.epoch = rm.Head, rm.Epoch
	}
	frame, err := protocol.Encode(protocol.Frame{Type: protocol.TypeSubscribed, Room: r.name, Epoch: rm.Epoch, Head: rm.Head, Since: since})
	if err != nil {
		return err
	}
	if !sub.Send(frame, false) {
		return errSlow
	}
	st := &subState{last: since}
	if since == 0 || since > rm.Head {
		// A new client (or one from another epoch) starts live and reads
		// history with history requests.
		st.last = rm.Head
	} else if since < rm.Head {
		if err := r.sendBacklog(ctx, sub, st, rm.Head); err != nil {
			return err
		}
	}
	r.subs[sub] = st
	r.sendPresence(ctx, sub)
	return nil
}

var errSlow = errors.New("subscriber too slow")

func (r *room) sendBacklog(ctx context.Context, sub Subscriber, st *subState, head int64) error {
	page := store.Page{After: st.last, Limit: protocol.MaxBacklog}
	if head-st.last > protocol.MaxBacklog {
		page = store.Page{Newest: true, Limit: protocol.MaxBacklog}
	}
	msgs, err := r.h.cfg.Store.History(ctx, r.name, page)
	if err != nil {
		return err
	}
	for i := range msgs {
		frame, err := protocol.Encode(protocol.Frame{Type: protocol.TypeMsg, Msg: ToProtocol(&msgs[i])})
		if err != nil {
			return err
		}
		if !sub.Send(frame, false) {
			return errSlow
		}
		st.last = msgs[i].Offset
	}
	return nil
}

// payload handles one broker delivery.
func (r *room) payload(ctx context.Context, p []byte) {
	f, err := protocol.Decode(p)
	if err != nil {
		r.h.log.Warn("undecodable broker payload", "room", r.name, "err", err)
		return
	}
	switch f.Type {
	case protocol.TypeMsg:
		if f.Msg == nil || f.Msg.Room != r.name {
			return
		}
		r.message(ctx, f.Msg.Offset, p)
	case protocol.TypeTyping:
		r.fanout(0, p, true)
	case protocol.TypePresence:
		r.schedulePresence()
	}
}

// message delivers the message at offset o in sequence: stale offsets are
// dropped, and a gap before o is filled from the store first.
func (r *room) message(ctx context.Context, o int64, p []byte) {
	switch {
	case r.last >= 0 && o <= r.last:
		return
	case r.last >= 0 && o > r.last+1:
		r.catchUp(ctx, o)
		if o <= r.last {
			return
		}
	}
	r.fanout(o, p, false)
	r.last = o
}

// catchUp delivers stored messages after the last delivered offset, up to
// upTo (0: everything stored).
func (r *room) catchUp(ctx context.Context, upTo int64) {
	if r.last < 0 {
		r.init(ctx)
		return
	}
	for upTo == 0 || r.last < upTo {
		msgs, err := r.h.cfg.Store.History(ctx, r.name, store.Page{After: r.last, Limit: protocol.HistoryPageMax})
		if err != nil {
			r.h.log.Warn("backfill from store", "room", r.name, "err", err)
			r.resyncAll()
			return
		}
		for i := range msgs {
			frame, err := protocol.Encode(protocol.Frame{Type: protocol.TypeMsg, Msg: ToProtocol(&msgs[i])})
			if err != nil {
				continue
			}
			r.fanout(msgs[i].Offset, frame, false)
			r.last = msgs[i].Offset
			r.h.stats.backfilled.Add(1)
		}
		if len(msgs) < protocol.HistoryPageMax {
			return
		}
	}
}

// reconcile compares the store's head with what was delivered, so a lost
// publish is recovered within one reconcile period.
func (r *room) reconcile(ctx context.Context) {
	r.h.mu.Lock()
	unsynced := r.unsynced
	r.h.mu.Unlock()
	if unsynced {
		r.h.syncBroker(ctx, r)
	}
	rm, err := r.h.cfg.Store.Room(ctx, r.name)
	if err != nil {
		return
	}
	if r.epoch != 0 && rm.Epoch != r.epoch {
		r.epoch, r.last = rm.Epoch, rm.Head
		r.resyncAll()
		return
	}
	if rm.Head > r.last {
		r.catchUp(ctx, 0)
	}
}

// resyncAll tells every subscriber to resubscribe from its last offset.
func (r *room) resyncAll() {
	frame, err := protocol.Encode(protocol.Frame{Type: protocol.TypeResync, Room: r.name, Epoch: r.epoch})
	if err != nil {
		return
	}
	r.fanout(0, frame, false)
}

// fanout sends an encoded frame to every subscriber. Messages (o > 0) go
// only to subscribers that have not seen offset o.
func (r *room) fanout(o int64, frame []byte, droppable bool) {
	for sub, st := range r.subs {
		if o > 0 && o <= st.last {
			continue
		}
		if !sub.Send(frame, droppable) {
			if !droppable {
				r.h.stats.slowClosed.Add(1)
				delete(r.subs, sub)
			}
			continue
		}
		if o > 0 {
			st.last = o
		}
	}
}

func (r *room) schedulePresence() {
	r.presenceTimer.Reset(r.h.cfg.PresenceDebounce)
}

// sendPresence sends the room's presence list to one subscriber, or to all
// when sub is nil.
func (r *room) sendPresence(ctx context.Context, sub Subscriber) {
	users, err := r.h.cfg.Presence.Users(ctx, r.name)
	if err != nil {
		r.h.log.Warn("presence list", "room", r.name, "err", err)
		return
	}
	if users == nil {
		users = []string{}
	}
	frame, err := protocol.Encode(protocol.Frame{Type: protocol.TypePresence, Room: r.name, Users: users})
	if err != nil {
		return
	}
	if sub != nil {
		sub.Send(frame, false)
		return
	}
	r.fanout(0, frame, false)
}
