// Package hub fans room events out to the subscribers connected to this
// node. Every event travels through the broker, including those this node
// publishes itself, so one node and many nodes behave the same.
//
// Each room with local subscribers has one goroutine (a room actor) that
// owns its subscriber set and sequences its messages by offset: a message
// arriving after a gap waits for the missing offsets from the broker (for
// at most Config.GapWait), then the gap is backfilled from the store, so
// subscribers see every message exactly once, in offset order. The same
// mechanism recovers from broker interruptions (Redis restarts) and from a
// periodic reconcile against the store's head, which bounds how long any
// missed message can stay missing. When the store cannot be read, the room
// holds: it delivers nothing past the gap and retries with backoff until
// the store answers (it never skips the gap, and never asks its clients to
// resubscribe into the outage).
package hub

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"sync"
	"time"

	"github.com/parleychat/parley/server/broker"
	"github.com/parleychat/parley/server/faultlog"
	"github.com/parleychat/parley/server/presence"
	"github.com/parleychat/parley/server/stages"
	"github.com/parleychat/parley/server/store"
	"github.com/parleychat/parley/shared/protocol"
)

// Subscriber is one client connection as the hub sees it.
type Subscriber interface {
	// User is the authenticated username.
	User() string
	// Send offers an encoded frame without blocking. A droppable frame
	// (typing) may be dropped when the queue is filling up; a
	// frame that does not fit makes the subscriber close itself as slow.
	// Send reports whether the frame was queued.
	Send(frame []byte, droppable bool) bool
}

// BatchSubscriber is a Subscriber that takes several frames in one call:
// a room sends the messages it gathered (Config.Coalesce) to each
// subscriber that way, so they cost it one hand-off (one wake of its
// writer, one write) instead of one each.
type BatchSubscriber interface {
	Subscriber
	// SendAll offers frames, in order, as Send(frame, false) would each,
	// without blocking; all are queued or none is (and the subscriber
	// closes itself as slow). It reports whether they were queued, and
	// must not keep frames (the slice) after it returns.
	SendAll(frames [][]byte) bool
}

// sendAll offers frames to sub: in one call when it takes them so, else
// one by one.
func sendAll(sub Subscriber, frames [][]byte) bool {
	if b, ok := sub.(BatchSubscriber); ok {
		return b.SendAll(frames)
	}
	for _, f := range frames {
		if !sub.Send(f, false) {
			return false
		}
	}
	return true
}

// DeltaSubscriber is a Subscriber that may be sent presence_delta frames
// (it negotiated protocol.FeaturePresenceDelta); other subscribers get
// the full presence list after every change.
type DeltaSubscriber interface {
	Subscriber
	// PresenceDeltas reports whether the subscriber takes deltas; it must
	// not change while the subscriber is in a room.
	PresenceDeltas() bool
}

// EditsSubscriber is a Subscriber that may be sent edit and delete events
// (it negotiated protocol.FeatureEdits); other subscribers are sent
// neither, and skip their offsets.
type EditsSubscriber interface {
	Subscriber
	// Edits reports whether the subscriber takes edit and delete events;
	// it must not change while the subscriber is in a room.
	Edits() bool
}

// RoomEventsSubscriber is a Subscriber that may be sent room events
// (it negotiated protocol.FeatureRoomEvents); other subscribers are sent
// none, and skip their offsets.
type RoomEventsSubscriber interface {
	Subscriber
	// RoomEvents reports whether the subscriber takes room events; it
	// must not change while the subscriber is in a room.
	RoomEvents() bool
}

func wantsRoomEvents(sub Subscriber) bool {
	e, ok := sub.(RoomEventsSubscriber)
	return ok && e.RoomEvents()
}

// Watcher is a Subscriber that watches a room for a connection (see
// Hub.Watch): Owner is that connection's Subscriber, whose subscription
// to the same room, while it has one, delivers instead.
type Watcher interface {
	Subscriber
	Owner() Subscriber
}

func ownerOf(w Subscriber) Subscriber {
	if o, ok := w.(Watcher); ok {
		return o.Owner()
	}
	return nil
}

// ReactionsSubscriber is a Subscriber that may be sent reaction events
// (it negotiated protocol.FeatureReactions); other subscribers are sent
// none, and skip their offsets.
type ReactionsSubscriber interface {
	Subscriber
	// Reactions reports whether the subscriber takes reaction events; it
	// must not change while the subscriber is in a room.
	Reactions() bool
}

// wantsReactions reports whether sub takes reaction events.
func wantsReactions(sub Subscriber) bool {
	e, ok := sub.(ReactionsSubscriber)
	return ok && e.Reactions()
}

// wantsEdits reports whether sub takes edit and delete events.
func wantsEdits(sub Subscriber) bool {
	e, ok := sub.(EditsSubscriber)
	return ok && e.Edits()
}

// Config configures a Hub.
type Config struct {
	Store    store.Store
	Broker   broker.Broker
	Presence presence.Presence
	Logger   *slog.Logger
	// Reconcile is how often a room with traffic compares its last
	// delivered offset with the store's head (default 5s).
	Reconcile time.Duration
	// ReconcileIdle is the longest a room without traffic waits between
	// those checks (default 8 × Reconcile): each quiet check doubles the
	// wait up to it, and any traffic or sign of a missed publish brings
	// it back to Reconcile.
	ReconcileIdle time.Duration
	// PresenceDebounce batches presence recomputation (default 100ms).
	PresenceDebounce time.Duration
	// Coalesce is how long a busy room gathers live messages before it
	// sends them on together (default 10ms; negative: never): a message
	// that finds the room quiet for that long goes at once, the next
	// ones wait until Coalesce after it. Each subscriber then gets the
	// gathered messages in one hand-off, so its connection writes once
	// for them all. A busy room's window widens up to CoalesceMax; a
	// message waits at most the larger of the two.
	Coalesce time.Duration
	// CoalesceMax is the widest a busy room's gathering window grows
	// (default DefaultCoalesceMax; at or below Coalesce, or negative: it
	// never widens). A room whose last window gathered messages at
	// busyRate or more per Coalesce waits twice as long for the next
	// one, up to CoalesceMax; any other window starts again from
	// Coalesce. Each window costs every subscriber one write, so a busy
	// room writes less often; a quiet or moderate room keeps Coalesce.
	CoalesceMax time.Duration
	// GapWait is how long a room waits for a missing offset from the
	// broker, once a later one came, before it reads the gap from the
	// store (default DefaultGapWait; negative: it reads at once). Two
	// nodes that append at once publish in either order, so the missing
	// one is usually on its way; a publish the broker lost is read from
	// the store GapWait after the next offset shows the gap.
	GapWait time.Duration
	// Stages, when set, times a message's way through the hub: the
	// broker hop of what this node publishes (stages.BrokerHop), the
	// room's hold (RoomHold) and each hand-off (RoomHandoff).
	Stages *stages.Stages
	// FaultLogEvery is how often a failing broker or presence backend is
	// summarised in the log after its first failure (default 1m).
	FaultLogEvery time.Duration
}

// DefaultCoalesce is Config.Coalesce's default.
const DefaultCoalesce = 10 * time.Millisecond

// DefaultCoalesceMax is Config.CoalesceMax's default (README.md, issue
// 10's eighth pass: measured against a fixed 10 ms window).
const DefaultCoalesceMax = 25 * time.Millisecond

// DefaultGapWait is Config.GapWait's default: against the former 10 ms
// it read 5–8 times fewer messages from the store in fan-out 200, with a
// lower p99 (README.md, "Where fan-out 200's latency goes").
const DefaultGapWait = 25 * time.Millisecond

// Hub routes room events between the broker and local subscribers.
type Hub struct {
	cfg Config
	log *slog.Logger

	// mu guards rooms, members, ctx and each room's refs and unsynced.
	// It is never held while calling the broker, presence, the store or a
	// subscriber. Lock order: brokerMu → mu.
	mu      sync.Mutex
	rooms   map[string]*room
	members map[memberKey]int // local subscriptions per (room, user)
	ctx     context.Context   // set by Run; parent of room actors
	wg      sync.WaitGroup    // room actors

	// memberLocks order each (room, user)'s presence Join and Leave; a
	// stripe is held across the members count and the presence call.
	// Lock order: memberLocks → mu.
	memberLocks [64]sync.Mutex

	// brokerMu serialises broker Subscribe/Unsubscribe calls. It is never
	// taken while holding mu, and Deliver never takes it: a broker may
	// wait for its reader (which calls Deliver) to confirm a
	// subscription, so holding mu across that wait would deadlock.
	brokerMu sync.Mutex

	stats Stats

	// stampMu guards stamps: when this node started publishing the
	// message at (room, offset), in slot offset%len(stamps), so that its
	// receipt back from the broker times the hop (stages.BrokerHop). A
	// leaf lock; only taken when Config.Stages is set.
	stampMu sync.Mutex
	stamps  [256]pubStamp

	// publishFaults and presenceFaults log a failing broker or presence
	// backend once, then a summary a minute, not a line per message.
	publishFaults    *faultlog.Log
	presenceFaults   *faultlog.Log
	beyondHeadFaults *faultlog.Log
}

type memberKey struct{ room, user string }

// pubStamp is one slot of Hub.stamps.
type pubStamp struct {
	room   string
	offset int64
	at     int64 // a stages stamp
}

// stampPublish notes that this node starts publishing ms now.
func (h *Hub) stampPublish(ms []store.Message) {
	at := h.cfg.Stages.Now()
	if at == 0 {
		return
	}
	h.stampMu.Lock()
	defer h.stampMu.Unlock()
	for i := range ms {
		h.stamps[ms[i].Offset%int64(len(h.stamps))] = pubStamp{room: ms[i].Room, offset: ms[i].Offset, at: at}
	}
}

// brokerHop records the broker hop of the message at (room, offset),
// received at at, if this node published it (and its slot was not
// taken since).
func (h *Hub) brokerHop(room string, offset, at int64) {
	if at == 0 || offset <= 0 {
		return
	}
	h.stampMu.Lock()
	s := &h.stamps[offset%int64(len(h.stamps))]
	sent := s.at
	if s.offset != offset || s.room != room {
		sent = 0
	}
	s.at = 0 // a message the broker brings twice is timed once
	h.stampMu.Unlock()
	if sent != 0 {
		h.cfg.Stages.Set(stages.BrokerHop, sent, at)
	}
}

// ErrNotRunning is returned before Run has started or after it stopped.
var ErrNotRunning = errors.New("hub not running")

// New returns a Hub; call Run before using it.
func New(cfg Config) *Hub {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Reconcile <= 0 {
		cfg.Reconcile = 5 * time.Second
	}
	if cfg.ReconcileIdle < cfg.Reconcile {
		cfg.ReconcileIdle = 8 * cfg.Reconcile
	}
	if cfg.PresenceDebounce <= 0 {
		cfg.PresenceDebounce = 100 * time.Millisecond
	}
	if cfg.Coalesce == 0 {
		cfg.Coalesce = DefaultCoalesce
	}
	if cfg.GapWait == 0 {
		cfg.GapWait = DefaultGapWait
	}
	if cfg.CoalesceMax == 0 {
		cfg.CoalesceMax = DefaultCoalesceMax
	}
	return &Hub{
		cfg:              cfg,
		log:              cfg.Logger,
		rooms:            make(map[string]*room),
		members:          make(map[memberKey]int),
		publishFaults:    faultlog.New(cfg.Logger, "broker publish (delivering locally)", cfg.FaultLogEvery, nil),
		presenceFaults:   faultlog.New(cfg.Logger, "presence update", cfg.FaultLogEvery, nil),
		beyondHeadFaults: faultlog.New(cfg.Logger, "broker message beyond the store's head", cfg.FaultLogEvery, nil),
	}
}

// Run drives the broker and presence until ctx is cancelled, then stops
// every room actor and returns.
func (h *Hub) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	h.mu.Lock()
	h.ctx = ctx
	h.mu.Unlock()

	errc := make(chan error, 2)
	go func() { errc <- h.cfg.Broker.Run(ctx, h) }()
	go func() { errc <- h.cfg.Presence.Run(ctx, h.presenceExpired) }()

	var first error
	for i := 0; i < 2; i++ {
		err := <-errc
		if err != nil && first == nil && ctx.Err() == nil {
			first = err
		}
		cancel()
	}
	h.mu.Lock()
	h.ctx = nil
	for name, r := range h.rooms {
		r.stop()
		delete(h.rooms, name)
	}
	h.mu.Unlock()
	h.wg.Wait()
	if first != nil {
		return fmt.Errorf("run hub: %w", first)
	}
	return nil
}

// Subscribe adds sub to room and sends it, in order: a subscribed frame,
// the stored messages after since (at most protocol.MaxBacklog, the newest
// ones), the room's presence (none in the room feed, see presenceless),
// then live events. The room must exist.
func (h *Hub) Subscribe(ctx context.Context, sub Subscriber, roomName string, since int64) error {
	r, err := h.acquire(ctx, roomName)
	if err != nil {
		return err
	}
	h.memberJoin(ctx, roomName, sub.User())
	if err := r.ask(context.Background(), command{kind: cmdSubscribe, sub: sub, since: since}); err != nil {
		h.Unsubscribe(sub, roomName)
		return fmt.Errorf("subscribe %s: %w", roomName, err)
	}
	return nil
}

// Watch adds w to room as a watcher: w is sent watching {room, head},
// then every message stored after head, and nothing else (no backlog,
// presence, typing or events) while ownerOf(w) is not subscribed to the
// room. A watcher is not present in the room: it costs the room a frame
// per message and nothing more. The room must exist, and the caller has
// checked that w's user may read it; a removal ends the watch like a
// subscription (without a removed frame). End it with Unwatch.
func (h *Hub) Watch(ctx context.Context, w Subscriber, roomName string) error {
	r, err := h.acquire(ctx, roomName)
	if err != nil {
		return err
	}
	if err := r.ask(context.Background(), command{kind: cmdWatch, sub: w}); err != nil {
		h.Unwatch(w, roomName)
		return fmt.Errorf("watch %s: %w", roomName, err)
	}
	return nil
}

// Unwatch ends w's watch of room; a no-op if w does not watch it.
func (h *Hub) Unwatch(w Subscriber, roomName string) { h.drop(w, roomName) }

// Unsubscribe removes sub from room; it is a no-op if sub is not in it.
func (h *Hub) Unsubscribe(sub Subscriber, roomName string) {
	if h.drop(sub, roomName) {
		h.memberLeave(roomName, sub.User())
	}
}

// drop removes sub from room and releases its reference to the room
// actor, stopping it when it was the last.
func (h *Hub) drop(sub Subscriber, roomName string) bool {
	h.mu.Lock()
	r := h.rooms[roomName]
	if r == nil {
		h.mu.Unlock()
		return false
	}
	r.refs--
	emptied := r.refs <= 0
	if emptied {
		delete(h.rooms, roomName)
		r.stop()
	}
	h.mu.Unlock()
	if emptied {
		h.unsubscribeBroker(roomName)
	} else {
		select {
		case r.cmds <- command{kind: cmdUnsubscribe, sub: sub}:
		case <-r.done:
		}
	}
	return true
}

// memberJoin counts one more subscription (or hold) of user in room; the
// first one joins the room's presence. memberJoin and memberLeave of one
// (room, user) are serialised by its member lock, decision and presence
// call together, so presence sees them in the order the counts changed:
// a Leave can never overtake the Join that follows it.
func (h *Hub) memberJoin(ctx context.Context, roomName, user string) {
	if presenceless(roomName) {
		return
	}
	key := memberKey{roomName, user}
	l := h.memberLock(key)
	l.Lock()
	defer l.Unlock()
	h.mu.Lock()
	h.members[key]++
	first := h.members[key] == 1
	h.mu.Unlock()
	if first {
		h.presenceJoin(ctx, roomName, user)
	}
}

// memberLeave counts one subscription (or hold) of user in room less; the
// last one leaves the room's presence.
func (h *Hub) memberLeave(roomName, user string) {
	if presenceless(roomName) {
		return
	}
	key := memberKey{roomName, user}
	l := h.memberLock(key)
	l.Lock()
	defer l.Unlock()
	h.mu.Lock()
	last := h.dropMemberLocked(key)
	h.mu.Unlock()
	if last {
		h.presenceLeave(roomName, user)
	}
}

// presenceless reports whether room has no presence: the room feed
// (protocol.RoomFeed), which every user follows. Its subscribers join
// no presence list and are sent none, so a connect or disconnect costs
// it nothing and nobody learns who is online from it.
func presenceless(room string) bool { return room == protocol.RoomFeed }

// memberLock returns the lock of key's stripe.
func (h *Hub) memberLock(key memberKey) *sync.Mutex {
	f := fnv.New32a()
	f.Write([]byte(key.room))
	f.Write([]byte{0})
	f.Write([]byte(key.user))
	return &h.memberLocks[f.Sum32()%uint32(len(h.memberLocks))]
}

// dropMemberLocked counts one subscription (or hold) of key less and
// reports whether it was the last. Callers hold mu.
func (h *Hub) dropMemberLocked(key memberKey) (last bool) {
	if n := h.members[key]; n > 1 {
		h.members[key] = n - 1
		return false
	}
	delete(h.members, key)
	return true
}

// Resubscribe restarts sub's subscription to room from since (after a
// resync, or a retry by the client): the subscribed frame, the backlog
// after since, then live. sub never leaves the room meanwhile, so
// presence does not change; if the restart fails (the store is
// unreachable), sub keeps the subscription it had and nothing was sent.
func (h *Hub) Resubscribe(ctx context.Context, sub Subscriber, roomName string, since int64) error {
	h.mu.Lock()
	r := h.rooms[roomName]
	h.mu.Unlock()
	if r == nil {
		return fmt.Errorf("resubscribe %s: %w", roomName, ErrNotRunning)
	}
	if err := r.ask(context.Background(), command{kind: cmdResubscribe, sub: sub, since: since}); err != nil {
		return fmt.Errorf("resubscribe %s: %w", roomName, err)
	}
	return nil
}

// SendPresence sends sub, which is subscribed to room, the room's full
// presence list (a client asked for it).
func (h *Hub) SendPresence(ctx context.Context, sub Subscriber, roomName string) error {
	h.mu.Lock()
	r := h.rooms[roomName]
	h.mu.Unlock()
	if r == nil {
		return fmt.Errorf("presence of %s: %w", roomName, errNotSubscribed)
	}
	if err := r.ask(ctx, command{kind: cmdPresence, sub: sub}); err != nil {
		return fmt.Errorf("presence of %s: %w", roomName, err)
	}
	return nil
}

// ask hands c to the room's actor and waits for its answer. A room that
// stops first answers ErrNotRunning; ctx gives up only before the actor
// took c, never after (the actor then finishes what it began).
func (r *room) ask(ctx context.Context, c command) error {
	c.reply = make(chan error, 1)
	select {
	case r.cmds <- c:
	case <-r.done:
		return ErrNotRunning
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-c.reply:
		return err
	case <-r.done:
		return ErrNotRunning
	}
}

// ErrNotSubscribed is returned by SendPresence for a room the subscriber
// is not in.
var ErrNotSubscribed = errNotSubscribed

// Hold counts user as present in room without a subscription: a client
// whose subscribe this node could not serve (its store is unreachable)
// retries it, and is present meanwhile, because it is connected and
// trying. Release ends one Hold; a Hold and a subscription of the same
// user count alike, so moving from one to the other changes nothing.
func (h *Hub) Hold(ctx context.Context, roomName, user string) {
	h.memberJoin(ctx, roomName, user)
}

// Release ends one Hold of user in room.
func (h *Hub) Release(roomName, user string) {
	h.memberLeave(roomName, user)
}

// acquire returns the room actor for name, starting it (after subscribing
// the broker) if needed, and counts one more reference to it.
func (h *Hub) acquire(ctx context.Context, name string) (*room, error) {
	h.mu.Lock()
	if h.ctx == nil {
		h.mu.Unlock()
		return nil, ErrNotRunning
	}
	r := h.rooms[name]
	created := r == nil
	runCtx := h.ctx
	if created {
		r = newRoom(h, name)
		h.rooms[name] = r
		h.wg.Add(1)
	}
	r.refs++
	h.mu.Unlock()

	if created {
		// Subscribe before the actor reads the store's head, so no
		// message can fall between the two. Other subscribers of the
		// room queue their commands meanwhile.
		h.syncBroker(ctx, r)
		go func() {
			defer h.wg.Done()
			r.run(runCtx)
		}()
	}
	return r, nil
}

// syncBroker subscribes the broker to r's room if r is still the room's
// actor. On failure the room is served locally and marked unsynced; its
// actor retries on every reconcile tick.
func (h *Hub) syncBroker(ctx context.Context, r *room) {
	h.brokerMu.Lock()
	defer h.brokerMu.Unlock()
	h.mu.Lock()
	current := h.rooms[r.name] == r
	h.mu.Unlock()
	if !current {
		return
	}
	err := h.cfg.Broker.Subscribe(ctx, r.name)
	h.mu.Lock()
	wasUnsynced := r.unsynced
	r.unsynced = err != nil
	h.mu.Unlock()
	switch {
	case err != nil && !wasUnsynced:
		h.log.Warn("broker subscribe failed; serving room locally until it recovers", "room", r.name, "err", err)
	case err == nil && wasUnsynced:
		h.log.Info("broker subscription recovered", "room", r.name)
	}
}

// unsubscribeBroker unsubscribes the broker from a room whose last local
// subscriber left, unless a new actor for it started meanwhile.
func (h *Hub) unsubscribeBroker(name string) {
	h.brokerMu.Lock()
	defer h.brokerMu.Unlock()
	h.mu.Lock()
	restarted := h.rooms[name] != nil
	h.mu.Unlock()
	if restarted {
		return
	}
	if err := h.cfg.Broker.Unsubscribe(context.Background(), name); err != nil {
		h.log.Warn("broker unsubscribe", "room", name, "err", err)
	}
}

// PublishMessage announces a stored message to every node. When the broker
// fails, the message is still delivered to this node's subscribers; other
// nodes pick it up from the store when they reconcile.
func (h *Hub) PublishMessage(ctx context.Context, m store.Message) error {
	pm := ToProtocol(&m)
	frame, err := protocol.Encode(protocol.Frame{Type: protocol.TypeMsg, Msg: pm})
	if err != nil {
		return err
	}
	h.stampPublish([]store.Message{m})
	h.publish(ctx, m.Room, headed(msgKind(pm), m.Offset, frame))
	return nil
}

// PublishMessages publishes stored messages of one room, in order, with
// one broker round trip (Broker.PublishAll): what PublishMessage does for
// each. When the broker fails they are delivered locally, as there.
func (h *Hub) PublishMessages(ctx context.Context, ms []store.Message) error {
	if len(ms) == 0 {
		return nil
	}
	payloads := make([][]byte, len(ms))
	for i := range ms {
		if ms[i].Room != ms[0].Room {
			return fmt.Errorf("publish messages: rooms %q and %q in one call", ms[0].Room, ms[i].Room)
		}
		pm := ToProtocol(&ms[i])
		frame, err := protocol.Encode(protocol.Frame{Type: protocol.TypeMsg, Msg: pm})
		if err != nil {
			return err
		}
		payloads[i] = headed(msgKind(pm), ms[i].Offset, frame)
	}
	room := ms[0].Room
	h.stampPublish(ms)
	if err := h.cfg.Broker.PublishAll(ctx, room, payloads); err != nil {
		h.stats.publishFailures.Add(1)
		h.publishFaults.Fail(err, "room", room)
		for _, p := range payloads {
			h.Deliver(room, p)
		}
		return nil
	}
	h.publishFaults.OK()
	return nil
}

// PublishTyping announces that user is typing in room. Typing is never
// stored and may be dropped anywhere along the way.
func (h *Hub) PublishTyping(ctx context.Context, roomName, user string) {
	frame, err := protocol.Encode(protocol.Frame{Type: protocol.TypeTyping, Room: roomName, User: user})
	if err != nil {
		return
	}
	h.publish(ctx, roomName, headed(kindTyping, 0, frame))
}

func (h *Hub) publish(ctx context.Context, roomName string, payload []byte) {
	if err := h.cfg.Broker.Publish(ctx, roomName, payload); err != nil {
		h.stats.publishFailures.Add(1)
		h.publishFaults.Fail(err, "room", roomName)
		h.Deliver(roomName, payload)
		return
	}
	h.publishFaults.OK()
}

// Deliver implements broker.Handler.
func (h *Hub) Deliver(roomName string, payload []byte) {
	h.mu.Lock()
	r := h.rooms[roomName]
	h.mu.Unlock()
	if r != nil {
		r.offer(inbound{p: payload, at: h.cfg.Stages.Now()})
	}
}

// Interrupted implements broker.Handler: every listed room catches up from
// the store.
func (h *Hub) Interrupted(rooms []string) {
	h.stats.interruptions.Add(1)
	h.log.Warn("broker delivery interrupted; backfilling from store", "rooms", len(rooms))
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, name := range rooms {
		if r := h.rooms[name]; r != nil {
			r.poke(pokeCatchUp)
		}
	}
}

// presenceExpired announces to every node that the presence of rooms
// changed without a Join or Leave: another node's users expired, or this
// node's entries came back after Redis lost them. Every node's room actor
// re-reads the list (an announcement reaches this node too, or is
// delivered locally when the broker fails).
func (h *Hub) presenceExpired(rooms []string) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	for _, name := range rooms {
		h.announcePresence(ctx, name)
	}
}

func (h *Hub) presenceJoin(ctx context.Context, roomName, user string) {
	if err := h.cfg.Presence.Join(ctx, roomName, user); err != nil {
		h.presenceFaults.Fail(err, "room", roomName, "op", "join")
	} else {
		h.presenceFaults.OK()
	}
	h.announcePresence(ctx, roomName)
}

func (h *Hub) presenceLeave(roomName, user string) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := h.cfg.Presence.Leave(ctx, roomName, user); err != nil {
		h.presenceFaults.Fail(err, "room", roomName, "op", "leave")
	} else {
		h.presenceFaults.OK()
	}
	h.announcePresence(ctx, roomName)
}

// announcePresence tells every node that room's presence changed; each
// node's room actor re-reads the list and sends it to its subscribers.
func (h *Hub) announcePresence(ctx context.Context, roomName string) {
	h.publish(ctx, roomName, presenceAnnouncement)
}

// presenceAnnouncement is the payload that says a room's presence
// changed; the frame after the header is never sent to clients.
var presenceAnnouncement = headed(kindPresence, 0, []byte(`{"v":1,"type":"presence"}`))

// Rooms returns how many rooms have local subscribers.
func (h *Hub) Rooms() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.rooms)
}

// ToProtocol converts a stored message to its wire form.
func ToProtocol(m *store.Message) *protocol.Message {
	return &protocol.Message{
		Room:   m.Room,
		Offset: m.Offset,
		Author: m.Author,
		Body:   m.Body,
		TS:     m.TS.UnixMilli(),
		CID:    m.CID,

		Kind:    m.Kind,
		Target:  m.Target,
		Edited:  m.Edited,
		Deleted: m.Deleted,

		Reactions: m.Reactions,
		Reacted:   m.Reacted,
	}
}
