package ui

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"github.com/parleychat/parley/app/state"
	"github.com/parleychat/parley/shared/client"
	"github.com/parleychat/parley/shared/protocol"
)

// Tuning of the app-level client.
const (
	// pageSize is how many messages one history request asks for.
	pageSize = 50
	// refreshAhead is how long before its expiry the access token is
	// refreshed. Nodes send reauth a minute ahead; a little more margin
	// makes that frame always find a token that needs refreshing.
	refreshAhead = 90 * time.Second
	// requestTimeout bounds one API or history request.
	requestTimeout = 20 * time.Second
	// pageRetryMin and pageRetryMax bound the wait before fetching again
	// a history page the node could not serve (its database is down).
	pageRetryMin = 500 * time.Millisecond
	pageRetryMax = 5 * time.Second
	// updateCheckEvery is how often the app asks go-app to look for a new
	// version (go-app v10 does not poll by itself).
	updateCheckEvery = 15 * time.Minute
)

// ConnState is the state of the WebSocket connection, for the status banner.
type ConnState int

// Connection states.
const (
	// ConnIdle: signed out, no client runs.
	ConnIdle ConnState = iota
	// ConnConnecting: the first connection attempt is under way.
	ConnConnecting
	// ConnOnline: authenticated and live.
	ConnOnline
	// ConnReconnecting: the connection was lost; the client retries with
	// backoff.
	ConnReconnecting
)

// Conn describes the connection for the status banner.
type Conn struct {
	State ConnState
	// Err is why the last attempt failed, when it did.
	Err string
	// RetryAt is when the next attempt starts (ConnReconnecting).
	RetryAt time.Time
}

// roomData is everything the app holds about one room. Guarded by App.mu.
type roomData struct {
	tl state.Timeline
	// people holds the room's presence as the node sent it (full lists
	// and deltas); present is it ordered for display.
	people  client.Presence
	present []string
	typing  state.Typing
	// loading: a history request for this room is in flight.
	loading bool
	// ready: the newest page arrived (or a cached timeline was restored),
	// so the room can subscribe from its newest offset.
	ready bool
	// subscribed: the client was asked to subscribe.
	subscribed bool
	// missing: the node says the room does not exist.
	missing bool
	// removed is why the user lost the room's membership (a
	// protocol.Removed* code), "" while a member.
	removed string
	// leftHere: this tab's leave of the room succeeded; its view goes
	// back to the list once (TakeLeft), whichever came first, the
	// answer or the inbox's event (which unmounts the members panel
	// that asked).
	leftHere bool
	// retrying: the node cannot serve the room right now; the client
	// retries by itself (EventRoomRetry) until it is subscribed again, or
	// the app retries the history page it needs first (pageRetries counts
	// those tries for the backoff).
	retrying    bool
	pageRetries int
	// err is the last failure to show in the room.
	err string
	// rev counts the room events seen (members, roles, topic): the
	// member panel reads the list again when it moves.
	rev int
	// held is what the room showed before a new epoch emptied its
	// timeline (EventSubscribed.Reset): the view shows it, read-only,
	// until the new epoch's newest page arrives, instead of nothing.
	held []protocol.Message
}

// App is the app-level client: one per browser tab, shared by every
// component. Create it with newApp; components reach it through current().
type App struct {
	kv app.BrowserStorage
	// cache holds the room list, history and outbox between visits.
	cache *cache
	api   accountAPI
	wsURL string
	// tabs tells the browser's other tabs about sign-ins and sign-outs
	// (nil: no other tabs to tell).
	tabs *tabChannel

	// refreshMu serializes token refreshes in this tab, and the Web Lock
	// refreshLock across tabs: refresh tokens rotate, so two concurrent
	// refreshes would end the session. Lock order: refreshMu →
	// refreshLock → mu.
	refreshMu sync.Mutex

	// mu guards the fields below (and every roomData). Watchers are
	// called after it is released.
	mu sync.Mutex
	// gen counts sessions; work started under an older one is dropped.
	gen uint64
	// sess is the session, in memory only. In the browser it holds no
	// refresh token (the cookie does), except one taken over from an
	// older version's storage until its first refresh.
	sess protocol.Session
	// stale: the access token may have been refused; refresh it first.
	stale bool
	// welcomed: the current connection attempt was authenticated.
	welcomed bool
	// endingWhy: the user is ending the session; the sign-in screen says
	// this whatever tells the app first (the socket or the API answer).
	endingWhy string
	notice    string
	cl        *client.Client
	cancelRun func()
	conn      Conn
	// connectedOnce: the session had a connection before.
	connectedOnce bool
	// inbox is the user's inbox room (protocol.InboxRoom), subscribed
	// for the whole session: invitations and removals arrive there.
	inbox string
	// inboxLive: the node confirmed the inbox subscription on the
	// current connection, so invitations arrive live.
	inboxLive bool
	// leaving is where this tab's own leave of a room is (leaveState):
	// a joined event older than the leave (opening a public room joins
	// it) can arrive after the leave was answered, and must not list
	// the room as a membership again (joinedRoom). The inbox's removed
	// event for the room ends that; a join after it is a new one.
	leaving map[string]leaveState
	// feedLive: the node confirmed the room feed subscription on the
	// current connection, so public rooms others create arrive live.
	feedLive    bool
	roomList    []protocol.Room
	roomsLoaded bool
	roomsErr    string
	rooms       map[string]*roomData
	current     string
	dirty       map[string]bool
	// watching names the rooms the client was asked to watch
	// (syncWatchesLocked).
	watching map[string]bool
	// watchLive names the watched rooms the node confirmed on this
	// connection (EventWatching).
	watchLive map[string]bool
	// amends maps the cid of each edit or delete awaiting its ack to its
	// room, to show a refusal there.
	amends     map[string]string
	flushTimer *time.Timer
	// cacheLoaded: the whole of the session's cache arrived and was
	// merged, so the timelines may be written back.
	cacheLoaded bool
	// cacheReady is closed when the first part of the session's cache
	// arrived (nil when no session waits for one).
	cacheReady chan struct{}
	// pageRoom is the room the page's URL named when the app started: its
	// window is read from the cache first.
	pageRoom string
	// owner: this tab holds the outbox lock and sends the outbox.
	owner bool
	// ackedCIDs holds the cids a node acknowledged in this session: an
	// outbox read from the cache before their deletion must not show
	// them again.
	ackedCIDs   map[string]bool
	watchers    map[int]func()
	nextWatcher int
	updater     *time.Ticker
	// notifyOn: the user turned mention notifications on.
	notifyOn bool
	// perm is the notification permission as the browser last reported
	// it ("" until it does).
	perm string
}

var (
	theApp   *App
	initOnce sync.Once
)

// current returns the app-level client, creating it on first use. It must
// only be called in the browser (OnMount and event handlers), never during
// the server's prerender.
func current(kv app.BrowserStorage) *App {
	initOnce.Do(func() {
		u := app.Window().URL()
		base := u.Scheme + "://" + u.Host
		installGuards()
		theApp = newApp(kv, base)
		theApp.pageRoom = roomFromPath(u.Path)
		theApp.tabs = openTabChannel(theApp.onTabMessage)
		theApp.loadNotify()
		watchNotificationPermission(theApp.permissionChanged)
		theApp.restore()
	})
	return theApp
}

// Preload starts the app-level client before go-app mounts the first
// page (app/cmd/wasm) and waits, at most d, for the part of the
// signed-in user's cache the first view needs (the room list, the outbox
// and the window of the room the URL names; the other rooms' windows are
// read after the first frame): IndexedDB answers only asynchronously, and
// a room's first frame should show its cached messages, not an empty list
// that fills a moment later. Meanwhile the page shows the snapshot it
// painted. It does nothing outside the browser or when nobody is signed
// in.
func Preload(d time.Duration) {
	if app.IsClient {
		current(localStorage{}).waitCache(d)
	}
}

// waitCache waits, at most d, until the session's cache has arrived.
func (a *App) waitCache(d time.Duration) {
	a.mu.Lock()
	ready := a.cacheReady
	a.mu.Unlock()
	if ready == nil {
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ready:
	case <-t.C:
	}
}

func newApp(kv app.BrowserStorage, base string) *App {
	return &App{
		kv:        kv,
		cache:     newCache(newCacheBackend()),
		api:       newAccountAPI(base),
		wsURL:     webSocketURL(base),
		rooms:     make(map[string]*roomData),
		dirty:     make(map[string]bool),
		watching:  make(map[string]bool),
		watchLive: make(map[string]bool),
		ackedCIDs: make(map[string]bool),
		watchers:  make(map[int]func()),
	}
}

// webSocketURL returns the /ws endpoint of the page's origin base.
func webSocketURL(base string) string {
	u, err := client.WebSocketURL(base)
	if err != nil {
		// The page's own origin is always http(s) with a host.
		panic(err)
	}
	return u
}

// Watch registers fn to be called after every change; the returned func
// removes it. fn runs on whatever goroutine made the change: it must only
// schedule work (ctx.Dispatch), not render.
func (a *App) Watch(fn func()) (stop func()) {
	a.mu.Lock()
	id := a.nextWatcher
	a.nextWatcher++
	a.watchers[id] = fn
	a.mu.Unlock()
	return func() {
		a.mu.Lock()
		delete(a.watchers, id)
		a.mu.Unlock()
	}
}

// notify calls every watcher. It must be called without a.mu held.
func (a *App) notify() {
	a.mu.Lock()
	fns := make([]func(), 0, len(a.watchers))
	for _, fn := range a.watchers {
		fns = append(fns, fn)
	}
	a.mu.Unlock()
	for _, fn := range fns {
		fn()
	}
}

// room returns the data of name, creating it. a.mu must be held.
func (a *App) room(name string) *roomData {
	rd := a.rooms[name]
	if rd == nil {
		rd = &roomData{typing: state.Typing{}}
		a.rooms[name] = rd
	}
	return rd
}

// coalescer turns many notifications into one pending UI update.
type coalescer struct{ queued atomic.Bool }

// trigger calls dispatch unless an earlier call is still queued; the
// dispatched work must call done first.
func (c *coalescer) trigger(dispatch func()) {
	if c.queued.CompareAndSwap(false, true) {
		dispatch()
	}
}

func (c *coalescer) done() { c.queued.Store(false) }
