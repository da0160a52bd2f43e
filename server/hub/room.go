package hub

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/parleychat/parley/server/stages"
	"github.com/parleychat/parley/server/store"
	"github.com/parleychat/parley/shared/protocol"
)

type cmdKind int

const (
	cmdSubscribe cmdKind = iota
	cmdUnsubscribe
	// cmdResubscribe restarts a subscription the room still has; one
	// the room dropped meanwhile (a removal) is not brought back.
	cmdResubscribe
	cmdPresence
	// cmdWatch adds a watcher (see Hub.Watch).
	cmdWatch
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
	inbox chan inbound
	pokes atomic.Uint32
	wake  chan struct{}
	quit  chan struct{}
	done  chan struct{}
	once  sync.Once

	// Owned by the actor goroutine.
	subs          map[Subscriber]*subState
	last          int64 // highest offset delivered in sequence; -1 unknown
	epoch         int64
	roster        int64 // the store's roster counter last checked; -1 unknown
	presenceTimer *time.Timer
	// reconcileWait is the wait before the next reconcile; busy is set by
	// traffic since the last one (see nextReconcile).
	reconcileWait time.Duration
	busy          bool
	// shown is the presence list last read (sorted): every subscriber
	// not marked stale was sent it, as a full list or as deltas.
	shown []string
	// stalled: a backfill failed (the store is unreachable), so the room
	// delivers nothing past last until a retry fills the gap; stalls counts
	// the failed tries for the backoff, and retryTimer fires the next one.
	stalled    bool
	stalls     int
	retryTimer *time.Timer
	// pend holds live messages gathered while the room is busy
	// (Config.Coalesce), in offset order, all at or below last; sent
	// marks when the room last sent live messages on, and flushTimer
	// fires when pend is due. share is one subscriber's frames of a
	// flush, reused. window is the gathering window (zero:
	// Config.Coalesce), widened while the room is busy (widen).
	pend   []pending
	sent   time.Time
	window time.Duration
	// ahead holds messages past a gap, in arrival order, while the
	// room waits for the gap's offsets from the broker (since gapAt).
	ahead      []pending
	gapAt      time.Time
	gapStamp   int64 // gapAt as a stages stamp (zero: not measured)
	flushTimer *time.Timer
	share      [][]byte
}

// pending is a stored message or event waiting in room.pend.
type pending struct {
	offset int64
	frame  []byte
	kind   byte
	at     int64 // when it came from the broker (a stages stamp; zero: not measured)
}

type subState struct {
	last int64 // highest offset sent to this subscriber
	// since is the lowest since this subscription was (re)started from:
	// a resubscribe replays a backlog only when its since is below it.
	since int64
	// delta: the subscriber takes presence_delta frames
	// (protocol.FeaturePresenceDelta).
	delta bool
	// edits: the subscriber takes edit and delete events
	// (protocol.FeatureEdits); others skip them.
	edits bool
	// reactions: the subscriber takes reaction events
	// (protocol.FeatureReactions); others skip them.
	reactions bool
	// changes: the subscriber takes room events
	// (protocol.FeatureRoomEvents); others skip them.
	changes bool
	// watch: a watcher (Hub.Watch): it takes new messages only, and none
	// while owner, the connection it watches for, is subscribed here.
	watch bool
	owner Subscriber
	// stale: the subscriber was not sent the room's presence list (the
	// presence read failed); the next read sends it the full list.
	stale bool
}

func newRoom(h *Hub, name string) *room {
	return &room{
		h:      h,
		name:   name,
		cmds:   make(chan command, 64),
		inbox:  make(chan inbound, inboxSize),
		wake:   make(chan struct{}, 1),
		quit:   make(chan struct{}),
		done:   make(chan struct{}),
		subs:   make(map[Subscriber]*subState),
		last:   -1,
		roster: -1,
	}
}

func (r *room) stop() { r.once.Do(func() { close(r.quit) }) }

// inbound is a broker payload in a room's inbox, and when it came (a
// stages stamp; zero when not measured).
type inbound struct {
	p  []byte
	at int64
}

// offer queues a broker payload without blocking.
func (r *room) offer(p inbound) {
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
	if err := r.init(ctx); err != nil {
		r.h.log.Warn("room head", "room", r.name, "err", err)
	}
	r.reconcileWait = r.h.cfg.Reconcile
	reconcile := time.NewTimer(r.reconcileWait)
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
	retry := make(chan struct{}, 1)
	r.retryTimer = time.AfterFunc(time.Hour, func() {
		select {
		case retry <- struct{}{}:
		default:
		}
	})
	r.retryTimer.Stop()
	defer r.retryTimer.Stop()
	r.flushTimer = time.NewTimer(time.Hour)
	r.flushTimer.Stop()
	defer r.flushTimer.Stop()

	for {
		select {
		case <-ctx.Done():
			return
		case <-r.quit:
			return
		case p := <-r.inbox:
			r.busy = true
			r.payload(ctx, p.p, p.at)
		case <-r.flushTimer.C:
			r.tick(ctx)
		// Everything else sends what waits first (flush), so it runs
		// as if every message had gone out on arrival.
		case c := <-r.cmds:
			r.flush()
			r.busy = r.busy || c.kind == cmdSubscribe
			r.command(ctx, c)
		case <-r.wake:
			r.flush()
			flags := r.pokes.Swap(0)
			r.busy = r.busy || flags&pokeCatchUp != 0
			if flags&pokeCatchUp != 0 && !r.stalled {
				r.backfill(ctx)
				r.checkRoster(ctx, nil) // a removal may be lost with the rest
			}
			if flags&pokePresence != 0 {
				r.schedulePresence()
			}
		case <-retry:
			r.flush()
			r.backfill(ctx)
		case <-reconcile.C:
			r.flush()
			r.reconcile(ctx)
			r.reconcileWait = nextReconcile(r.reconcileWait, r.h.cfg.Reconcile, r.h.cfg.ReconcileIdle, r.busy || r.stalled || r.isUnsynced())
			r.busy = false
			reconcile.Reset(r.reconcileWait)
		case <-presence:
			r.flush()
			r.sendPresence(ctx, nil)
		}
	}
}

// init reads the room's head and epoch: the actor starts delivering live
// from there.
func (r *room) init(ctx context.Context) error {
	rm, err := r.h.cfg.Store.Room(ctx, r.name)
	if err != nil {
		return fmt.Errorf("read head of %s: %w", r.name, err)
	}
	r.last, r.epoch = rm.Head, rm.Epoch
	if r.roster < 0 {
		r.roster = rm.Roster
	}
	return nil
}

func (r *room) command(ctx context.Context, c command) {
	switch c.kind {
	case cmdSubscribe:
		c.reply <- r.subscribe(ctx, c.sub, c.since)
	case cmdResubscribe:
		if r.subs[c.sub] == nil {
			c.reply <- errNotSubscribed
			return
		}
		c.reply <- r.subscribe(ctx, c.sub, c.since)
	case cmdUnsubscribe:
		delete(r.subs, c.sub)
	case cmdWatch:
		c.reply <- r.watch(ctx, c.sub)
	case cmdPresence:
		if r.subs[c.sub] == nil {
			c.reply <- errNotSubscribed
			return
		}
		r.sendPresence(ctx, c.sub)
		c.reply <- nil
	}
}

// subscribe sends sub the subscribed frame, its backlog and the presence
// list, then adds it to the live set. Because the actor handles one thing at
// a time, no live message can slip between the backlog and the live set.
//
// Everything it needs from the store is read before the first frame is
// sent, so a store failure leaves sub with nothing half sent: a new
// subscriber is not added, and one already in the room (a resubscribe)
// keeps the state it had.
func (r *room) subscribe(ctx context.Context, sub Subscriber, since int64) error {
	rm, err := r.h.cfg.Store.Room(ctx, r.name)
	if err != nil {
		return err
	}
	if r.epoch != 0 && rm.Epoch != r.epoch {
		// The room this actor served was deleted and another made
		// under its name (the announcement was lost): its subscribers
		// go, sub too if it was one of them.
		_, had := r.subs[sub]
		r.endAll()
		if had {
			return fmt.Errorf("subscribe %s: the room was deleted: %w", r.name, store.ErrNotFound)
		}
	}
	moved := r.roster >= 0 && rm.Roster != r.roster
	if moved {
		// Someone lost access since this actor last looked: sub's user
		// may be one of them (its authorisation raced the change).
		a, err := r.h.cfg.Store.Access(ctx, r.name, sub.User())
		if err != nil {
			return err
		}
		if a.Role == "" {
			return fmt.Errorf("subscribe %s: not a member: %w", r.name, store.ErrNotFound)
		}
	}
	old := r.subs[sub]
	st := &subState{last: since, since: since, delta: wantsDeltas(sub), edits: wantsEdits(sub), reactions: wantsReactions(sub), changes: wantsRoomEvents(sub)}
	if old != nil && since >= old.since && rm.Epoch == r.epoch {
		// A resubscribe whose since did not move back: replay only what
		// this subscriber has not been sent, so repeating a subscribe
		// costs one frame, not a backlog.
		st.last = max(since, old.last)
		st.since = old.since
	}
	var backlog []store.Message
	if st.last == 0 || st.last > rm.Head {
		// A new client (or one from another epoch) starts live and reads
		// history with history requests.
		st.last = rm.Head
	} else if st.last < rm.Head {
		if backlog, err = r.readBacklog(ctx, st.last, rm.Head); err != nil {
			return err
		}
	}
	if r.last < 0 || r.epoch == 0 {
		r.last, r.epoch = rm.Head, rm.Epoch
	}
	frame, err := protocol.Encode(protocol.Frame{Type: protocol.TypeSubscribed, Room: r.name, Epoch: rm.Epoch, Head: rm.Head, Since: since})
	if err != nil {
		return err
	}
	if !sub.Send(frame, false) {
		return errSlow
	}
	if err := r.sendBacklog(sub, st, backlog); err != nil {
		return err
	}
	r.subs[sub] = st
	if old == nil {
		if !presenceless(r.name) {
			r.sendPresence(ctx, sub) // a resubscriber has the list already
		}
	} else {
		st.stale = old.stale
	}
	if moved || r.roster < 0 {
		r.roster = rm.Roster
		if moved {
			r.recheck(ctx, protocol.RemovedNotMember, func(u string) bool { return u != sub.User() })
		}
	}
	return nil
}

var (
	errSlow          = errors.New("subscriber too slow")
	errNotSubscribed = errors.New("not subscribed to the room")
)

// readBacklog reads the messages after since, at most protocol.MaxBacklog
// and protocol.MaxBacklogBytes (the newest ones when there are more).
func (r *room) readBacklog(ctx context.Context, since, head int64) ([]store.Message, error) {
	page := store.Page{After: since, Limit: protocol.MaxBacklog}
	if head-since > protocol.MaxBacklog {
		page = store.Page{Newest: true, Limit: protocol.MaxBacklog}
	}
	msgs, err := r.h.cfg.Store.History(ctx, r.name, page)
	if err != nil {
		return nil, err
	}
	msgs, _ = NewestWithin(msgs, protocol.MaxBacklogBytes)
	return msgs, nil
}

func (r *room) sendBacklog(sub Subscriber, st *subState, msgs []store.Message) error {
	for i := range msgs {
		if !st.takes(kindOf(msgs[i].Kind)) {
			st.last = msgs[i].Offset
			continue
		}
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

// payload handles one broker delivery: its header says what it is, and
// the frame after it goes to subscribers as it is, never decoded.
func (r *room) payload(ctx context.Context, p []byte, at int64) {
	kind, offset, frame, ok := route(r.name, p)
	if !ok {
		r.h.log.Warn("unroutable broker payload", "room", r.name, "bytes", len(p))
		return
	}
	switch kind {
	case kindMsg, kindEvent, kindChange:
		r.h.brokerHop(r.name, offset, at)
		r.message(ctx, offset, frame, kind, at)
	case kindTyping:
		r.flush()
		r.fanout(0, frame, true, 0)
	case kindPresence:
		r.schedulePresence()
	case kindRemoved:
		r.flush()
		// Rare: decoded, unlike the hot kinds above.
		f, err := protocol.Decode(frame)
		if err != nil {
			r.h.log.Warn("undecodable removal", "room", r.name, "err", err)
			return
		}
		switch {
		case f.Type != protocol.TypeRemoved || f.Room != r.name:
		case f.User != "":
			r.removed(ctx, f.User, f.Code)
		case f.Code == protocol.RemovedDeleted:
			r.deleted(ctx)
		}
	}
}

// message delivers the message at offset o in sequence: stale offsets are
// dropped, and a gap before o is filled from the store first. Nothing past
// a gap that could not be filled is delivered: a stalled room drops o (it
// is in the store) and its retry delivers it in order later.
//
// A message past a gap waits in ahead first, for at most Config.GapWait:
// with several nodes appending, the broker often brings offsets out of
// order, and the missing one is on its way. It is read from the store
// only when it has not come by then (tick).
func (r *room) message(ctx context.Context, o int64, p []byte, kind byte, at int64) {
	switch {
	case r.last >= 0 && o <= r.last:
		return
	case r.last >= 0 && o > r.last+1:
		if r.stalled {
			return
		}
		if r.h.cfg.GapWait > 0 && len(r.ahead) < maxPending {
			if len(r.ahead) == 0 {
				r.gapAt = time.Now()
				r.gapStamp = r.h.cfg.Stages.Now()
			}
			r.ahead = append(r.ahead, pending{offset: o, frame: p, kind: kind, at: at})
			r.arm()
			return
		}
		r.fillGap(ctx, o)
		return
	}
	r.pend = append(r.pend, pending{offset: o, frame: p, kind: kind, at: at})
	r.last = o
	if len(r.ahead) > 0 {
		r.takeAhead() // in sequence now: they join pend
	}
	r.hold()
}

// fillGap reads the messages up to o from the store (catchUp) and
// delivers them.
func (r *room) fillGap(ctx context.Context, o int64) {
	r.ahead = r.ahead[:0] // the store has what they hold, or they are forged
	if err := r.catchUp(ctx, o); err != nil {
		r.stall(ctx, err)
		return
	}
	if o <= r.last {
		return
	}
	// The store, read after the payload arrived, ends before o:
	// nobody stored o (a node appends before it publishes), so the
	// payload is forged or corrupt. Delivering it would move every
	// client's last offset past messages still to come.
	r.h.stats.beyondHead.Add(1)
	r.h.beyondHeadFaults.Fail(errBeyondHead, "room", r.name, "offset", o, "head", r.last)
}

// takeAhead moves the messages in ahead that are now in sequence to pend
// and drops those at or below last.
func (r *room) takeAhead() {
	for {
		next := -1
		for i, m := range r.ahead {
			if m.offset == r.last+1 {
				next = i
				break
			}
		}
		if next < 0 {
			break
		}
		m := r.ahead[next]
		r.pend = append(r.pend, m)
		r.last = m.offset
	}
	r.ahead = slices.DeleteFunc(r.ahead, func(m pending) bool { return m.offset <= r.last })
	if len(r.ahead) == 0 {
		clear(r.ahead[:cap(r.ahead)])
	}
}

// tick runs when flushTimer fires: a gap that outlived GapWait is read
// from the store, and pend is sent when due.
func (r *room) tick(ctx context.Context) {
	now := time.Now()
	if len(r.ahead) > 0 && !now.Before(r.gapAt.Add(r.h.cfg.GapWait)) {
		top := r.last
		for _, m := range r.ahead {
			top = max(top, m.offset)
		}
		r.fillGap(ctx, top) // flushes pend first
		r.h.cfg.Stages.Observe(stages.RoomGap, r.gapStamp)
	}
	if len(r.pend) > 0 && !now.Before(r.sent.Add(r.gather())) {
		r.flush()
	}
	r.arm()
}

// arm sets flushTimer to the earlier of pend's and the gap's deadline.
func (r *room) arm() {
	var due time.Time
	if len(r.pend) > 0 {
		due = r.sent.Add(r.gather())
	}
	if len(r.ahead) > 0 {
		if gap := r.gapAt.Add(r.h.cfg.GapWait); due.IsZero() || gap.Before(due) {
			due = gap
		}
	}
	if !due.IsZero() {
		r.flushTimer.Reset(max(time.Until(due), 0))
	}
}

// maxPending bounds the messages a room gathers before it sends them on
// (Config.Coalesce): far below a connection's queue, which takes them all
// at once.
const maxPending = 64

// hold sends the live messages in pend on, or keeps them there while the
// room is busy: a message that finds the room quiet for its gathering
// window (gather) goes at once, with any that waited in ahead for it; the
// others wait until the window after the last send has passed, and go
// together, so each subscriber gets them in one hand-off (SendAll: one
// writer wake and one write) instead of one each. Messages that waited in
// ahead for a gap join pend when it fills and go with it: sent on at once
// when the window has passed, else at its end, like any other.
func (r *room) hold() {
	w := r.gather()
	if w <= 0 || len(r.pend) >= maxPending || !time.Now().Before(r.sent.Add(w)) {
		r.flush()
	}
	r.arm()
}

// flush sends every message in pend to the subscribers, in order, as
// fanout would have one by one: each subscriber's share (the offsets it
// has not seen, of kinds it takes) in one SendAll.
func (r *room) flush() {
	if len(r.pend) == 0 {
		return
	}
	start := r.h.cfg.Stages.Now()
	for _, m := range r.pend {
		if m.at != 0 {
			r.h.cfg.Stages.Set(stages.RoomHold, m.at, start)
		}
	}
	for sub, st := range r.subs {
		share, top := r.share[:0], st.last
		for _, m := range r.pend {
			switch {
			case m.offset <= st.last:
				continue
			case st.watch && r.subs[st.owner] != nil, !st.takes(m.kind):
				// Skipped, but seen: its offset is passed.
			default:
				share = append(share, m.frame)
			}
			top = m.offset
		}
		r.share = share
		if len(share) > 0 && !sendAll(sub, share) {
			r.h.stats.slowClosed.Add(1)
			delete(r.subs, sub)
			continue
		}
		st.last = max(st.last, top)
	}
	r.h.cfg.Stages.Observe(stages.RoomHandoff, start)
	clear(r.share[:cap(r.share)])
	now := time.Now()
	r.window = widen(r.gather(), r.h.cfg.Coalesce, r.h.cfg.CoalesceMax, len(r.pend), now.Sub(r.sent))
	clear(r.pend)
	r.pend = r.pend[:0]
	r.sent = now
}

// gather is the room's gathering window: Config.Coalesce, or wider while
// the room is busy.
func (r *room) gather() time.Duration {
	if r.window == 0 {
		return r.h.cfg.Coalesce
	}
	return r.window
}

// busyRate is how many messages per Config.Coalesce make a room busy
// enough to gather longer (Config.CoalesceMax): at the default 10 ms, 200
// messages a second, each sent to every subscriber.
const busyRate = 2

// widen is the gathering window after a flush of n messages gathered over
// elapsed (since the flush before) with window w: twice w, up to top, when
// they came at busyRate or more per base; else base. Each window costs
// every subscriber a write, so a busy room's larger windows cut writes
// while a room with fewer messages is not held longer than base.
func widen(w, base, top time.Duration, n int, elapsed time.Duration) time.Duration {
	if base <= 0 || top <= base || n < busyRate || time.Duration(n)*base < busyRate*elapsed {
		return base
	}
	return min(2*w, top)
}

var errBeyondHead = errors.New("broker payload's offset is above the store's head; dropped")

// backfill delivers everything stored after last; a failure stalls the
// room (or keeps it stalled) and schedules the next try.
func (r *room) backfill(ctx context.Context) {
	if err := r.catchUp(ctx, 0); err != nil {
		r.stall(ctx, err)
		return
	}
	if r.stalled {
		r.h.log.Info("backfill recovered; room delivering again", "room", r.name, "failed_tries", r.stalls)
		r.stalled, r.stalls = false, 0
	}
}

// Stall retry bounds: the first retry after stallRetryMin, doubling up to
// stallRetryMax, each with jitter so the rooms of many nodes do not all
// query a recovering database at once.
const (
	stallRetryMin = 100 * time.Millisecond
	stallRetryMax = 5 * time.Second
)

// stall holds the room after a failed backfill: it keeps its state and
// subscribers (no resync: resubscribing into a store outage fails too)
// and retries with backoff until the store answers.
func (r *room) stall(ctx context.Context, err error) {
	if ctx.Err() != nil {
		return // the hub is stopping
	}
	r.h.stats.backfillFailures.Add(1)
	if !r.stalled {
		r.h.log.Warn("backfill from store failed; holding the room until it answers", "room", r.name, "last", r.last, "err", err)
	} else {
		r.h.log.Debug("backfill from store failed again", "room", r.name, "tries", r.stalls+1, "err", err)
	}
	r.stalled = true
	d := stallRetryMin << min(r.stalls, 6)
	d = min(d, stallRetryMax)
	d = d/2 + time.Duration(rand.Int64N(int64(d/2)+1))
	r.stalls++
	r.retryTimer.Reset(d)
}

// catchUp delivers stored messages after the last delivered offset, up to
// upTo (0: everything stored). It returns the store's error, leaving last
// at the last offset delivered.
func (r *room) catchUp(ctx context.Context, upTo int64) error {
	r.flush() // it sends past pend
	if r.last < 0 {
		return r.init(ctx)
	}
	for upTo == 0 || r.last < upTo {
		msgs, err := r.h.cfg.Store.History(ctx, r.name, store.Page{After: r.last, Limit: protocol.HistoryPageMax})
		if err != nil {
			return fmt.Errorf("backfill %s after %d: %w", r.name, r.last, err)
		}
		for i := range msgs {
			frame, err := protocol.Encode(protocol.Frame{Type: protocol.TypeMsg, Msg: ToProtocol(&msgs[i])})
			if err != nil {
				continue
			}
			r.fanout(msgs[i].Offset, frame, false, kindOf(msgs[i].Kind))
			r.last = msgs[i].Offset
			r.h.stats.backfilled.Add(1)
			r.busy = true
		}
		if len(msgs) < protocol.HistoryPageMax {
			return nil
		}
	}
	return nil
}

// nextReconcile is the wait before a room's next reconcile: base after
// traffic (busy: messages, typing, a subscribe, a catch-up poke, a stall
// or a broker subscription still failing), else twice the last wait, up
// to idle. A room with traffic checks every base; a quiet one less and
// less often, so thousands of idle rooms do not query the store every
// base each. A lost publish is then seen within base in a room that had
// traffic in the last check, and within idle in any room; the next
// message reveals it at once anyway (its offset leaves a gap).
func nextReconcile(last, base, idle time.Duration, busy bool) time.Duration {
	if busy {
		return base
	}
	return min(2*last, idle)
}

func (r *room) isUnsynced() bool {
	r.h.mu.Lock()
	defer r.h.mu.Unlock()
	return r.unsynced
}

// reconcile compares the store's head with what was delivered, so a lost
// publish is recovered within one reconcile period.
func (r *room) reconcile(ctx context.Context) {
	r.h.stats.reconciles.Add(1)
	if r.isUnsynced() {
		r.h.syncBroker(ctx, r)
	}
	if r.stalled {
		return // the stall retry is already asking the store
	}
	rm, err := r.h.cfg.Store.Room(ctx, r.name)
	if errors.Is(err, store.ErrNotFound) || (err == nil && r.epoch != 0 && rm.Epoch != r.epoch) {
		// Deleted (and maybe made again under its name): whoever was
		// here was in a room that is gone.
		r.endAll()
		return
	}
	if err != nil {
		return // not caught up: unknown; the next tick asks again
	}
	r.checkRoster(ctx, &rm)
	if rm.Head > r.last {
		r.backfill(ctx)
	}
}

// fanout sends an encoded frame to every subscriber. Messages (o > 0, of
// header kind) go only to subscribers that have not seen offset o; an
// event only to those that take its kind, the others skip its offset.
// Watchers take only messages, and none while their connection is
// subscribed here.
func (r *room) fanout(o int64, frame []byte, droppable bool, kind byte) {
	for sub, st := range r.subs {
		if o > 0 && o <= st.last {
			continue
		}
		if st.watch && (o == 0 || r.subs[st.owner] != nil) {
			st.last = max(st.last, o)
			continue
		}
		if o > 0 && !st.takes(kind) {
			st.last = o
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

// sendPresence reads the room's presence list and brings every
// subscriber up to date: those that take deltas get who joined and left
// since the list last read, the others the full list, both only when it
// changed. sub, when not nil, gets the full list whatever changed (it
// subscribed, or asked).
func (r *room) sendPresence(ctx context.Context, sub Subscriber) {
	users, err := r.h.cfg.Presence.Users(ctx, r.name)
	if err != nil {
		r.h.log.Warn("presence list", "room", r.name, "err", err)
		if st := r.subs[sub]; st != nil {
			st.stale = true
			r.schedulePresence() // try again: sub has no list
		}
		return
	}
	joined, left := diffSorted(r.shown, users)
	r.shown = users
	pf := presenceFrames{room: r.name, users: users, joined: joined, left: left}
	for s, st := range r.subs {
		var frame []byte
		switch {
		case st.watch:
			continue
		case s == sub || st.stale:
			frame = pf.full()
		case len(joined)+len(left) == 0:
			continue
		case st.delta && len(joined)+len(left) <= protocol.MaxPresenceUsers:
			frame = pf.delta()
		default:
			frame = pf.full()
		}
		if frame == nil {
			return // cannot encode: nothing to send anyone
		}
		st.stale = false
		if !s.Send(frame, false) {
			r.h.stats.slowClosed.Add(1)
			delete(r.subs, s)
		}
	}
}

// wantsDeltas reports whether sub takes presence_delta frames.
func wantsDeltas(sub Subscriber) bool {
	d, ok := sub.(DeltaSubscriber)
	return ok && d.PresenceDeltas()
}

// takes reports whether the subscriber is sent a stored message or event
// of header kind (kindMsg, kindEvent, kindChange, kindReaction).
func (st *subState) takes(kind byte) bool {
	switch kind {
	case kindEvent:
		return st.edits && !st.watch
	case kindChange:
		return st.changes && !st.watch
	case kindReaction:
		return st.reactions && !st.watch
	}
	return true
}

// watch adds w as a watcher: from the room's head on, it is sent every
// new message (and nothing else) while its owner is not subscribed. It
// answers watching {room, head}; a watch the room has already restarts
// from the head.
func (r *room) watch(ctx context.Context, w Subscriber) error {
	rm, err := r.h.cfg.Store.Room(ctx, r.name)
	if err != nil {
		return err
	}
	if r.epoch != 0 && rm.Epoch != r.epoch {
		r.endAll() // see subscribe
	}
	if r.last < 0 || r.epoch == 0 {
		r.last, r.epoch = rm.Head, rm.Epoch
	}
	head := max(r.last, rm.Head)
	frame, err := protocol.Encode(protocol.Frame{Type: protocol.TypeWatching, Room: r.name, Head: head})
	if err != nil {
		return err
	}
	if !w.Send(frame, false) {
		return errSlow
	}
	r.subs[w] = &subState{last: head, since: head, watch: true, owner: ownerOf(w)}
	return nil
}
