package ui

import (
	"context"
	"errors"
	"time"

	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"github.com/parleychat/parley/app/state"
	"github.com/parleychat/parley/shared/client"
	"github.com/parleychat/parley/shared/protocol"
)

// User returns the signed-in user name, "" when signed out.
func (a *App) User() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.sess.User
}

// Notice returns a message for the sign-in screen (why the session ended).
func (a *App) Notice() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.notice
}

// Conn returns the connection state.
func (a *App) Conn() Conn {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.conn
}

// SignIn signs in (or up) and starts the connection. It blocks on the API
// call: run it from ctx.Async.
func (a *App) SignIn(ctx context.Context, action state.AuthAction, user, password string) error {
	ctx, cancel := context.WithTimeout(ctx, requestTimeout)
	defer cancel()
	var (
		s   protocol.Session
		err error
	)
	if action == state.SignUp {
		s, err = a.api.Signup(ctx, protocol.Credentials{Username: user, Password: password})
	} else {
		s, err = a.api.Login(ctx, protocol.Credentials{Username: user, Password: password})
	}
	if err != nil {
		return err
	}
	a.mu.Lock()
	a.resetLocked()
	a.notice = ""
	a.mu.Unlock()
	a.start(s)
	a.tabs.post(tabMessage{Kind: tabSignedIn, User: s.User})
	return nil
}

// SignOut ends the session: it stops the connection, forgets everything
// stored for the user, signs the browser's other tabs out and ends the
// session on the node (best effort: the node may be unreachable).
func (a *App) SignOut() {
	a.mu.Lock()
	s := a.sess
	a.resetLocked()
	a.notice = ""
	a.mu.Unlock()
	a.clearStorage(s.User)
	if s.User != "" {
		a.tabs.post(tabMessage{Kind: tabSignedOut, User: s.User, Notice: signedOutElsewhere})
		go a.logout(s)
	}
	a.notify()
}

// logout ends session s on the node: by its refresh token when the app
// holds it (natively), else by an access token, refreshed through the
// cookie first when it may have expired. The node then expires the cookie.
func (a *App) logout(s protocol.Session) {
	ctx, cancel := context.WithTimeout(context.Background(), requestTimeout)
	defer cancel()
	if s.RefreshToken == "" && !fresh(s) {
		err := withTabLock(ctx, refreshLock, func() error {
			ns, err := a.api.Refresh(ctx, protocol.RefreshRequest{})
			s.AccessToken = ns.AccessToken
			return err
		})
		if err != nil {
			return // the session already ended, or the node is out of reach
		}
	}
	_ = a.api.Logout(ctx, s.AccessToken, protocol.RefreshRequest{RefreshToken: s.RefreshToken})
}

// expire ends session gen because the node or the API rejected it.
func (a *App) expire(gen uint64, why string) {
	a.mu.Lock()
	user := a.sess.User
	if a.gen != gen || user == "" {
		a.mu.Unlock()
		return
	}
	if a.endingWhy != "" {
		why = a.endingWhy
	}
	a.resetLocked()
	a.notice = why
	a.mu.Unlock()
	a.clearStorage(user)
	a.tabs.post(tabMessage{Kind: tabSignedOut, User: user, Notice: why})
	a.notify()
}

// resetLocked stops the client and forgets the session. a.mu must be held.
func (a *App) resetLocked() {
	a.gen++
	if a.cancelRun != nil {
		a.cancelRun()
		a.cancelRun = nil
	}
	if a.flushTimer != nil {
		a.flushTimer.Stop()
		a.flushTimer = nil
	}
	if a.updater != nil {
		a.updater.Stop()
		a.updater = nil
	}
	a.sess = protocol.Session{}
	a.stale, a.welcomed, a.endingWhy = false, false, ""
	a.cl, a.inbox, a.inboxLive, a.feedLive = nil, "", false, false
	a.conn, a.connectedOnce = Conn{}, false
	a.roomList, a.roomsLoaded, a.roomsErr = nil, false, ""
	a.rooms = make(map[string]*roomData)
	a.dirty = make(map[string]bool)
	a.watching = make(map[string]bool)
	a.watchLive = make(map[string]bool)
	a.leaving = nil
	a.amends = nil
	a.cacheLoaded, a.owner, a.cacheReady = false, false, nil
	a.ackedCIDs = make(map[string]bool)
	// a.current stays: it is the page on screen, and signing in on a
	// room's page opens that room.
}

// start begins session s: it saves the user's name, creates the client,
// loads the cache, waits for the outbox lock (drainOutbox) and runs the
// connection until the session ends. s may hold no access token yet: the
// first one comes from a refresh.
func (a *App) start(s protocol.Session) {
	a.saveProfile(s.User)
	cl := client.New(client.Config{
		URL:     a.wsURL,
		Token:   a.token,
		OnEvent: a.onEvent,
	})
	ctx, cancel := context.WithCancel(context.Background())
	a.mu.Lock()
	a.sess = s
	a.cl = cl
	a.inbox = protocol.InboxRoom(s.User)
	a.cancelRun = cancel
	a.conn = Conn{State: ConnConnecting}
	gen := a.gen
	a.cacheReady = make(chan struct{})
	room := a.current
	first := room
	if first == "" {
		// A page load: no view has chosen its room yet.
		first = a.pageRoom
	}
	a.loadCache(gen, s.User, first)
	a.updater = time.NewTicker(updateCheckEvery)
	updates := a.updater.C
	a.mu.Unlock()

	// Live from now on; after a reconnect the client recovers what the
	// inbox and the room feed got meanwhile, and each connect reloads the
	// room list anyway.
	for _, room := range []string{a.inbox, protocol.RoomFeed} {
		if err := cl.Subscribe(room, 0); err != nil {
			app.Log(err)
		}
	}
	go a.drainOutbox(ctx, gen, s.User)
	go func() {
		err := cl.Run(ctx)
		a.runEnded(gen, err)
	}()
	go a.checkUpdates(ctx, updates)
	if room != "" {
		a.open(room)
	}
	go a.RefreshRooms()
	a.notify()
}

// runEnded handles the end of session gen's client.
func (a *App) runEnded(gen uint64, err error) {
	if err == nil || errors.Is(err, context.Canceled) {
		return
	}
	if errors.Is(err, client.ErrUnauthorized) {
		a.expire(gen, sessionEnded)
		return
	}
	a.mu.Lock()
	if a.gen == gen {
		a.conn = Conn{State: ConnReconnecting, Err: err.Error()}
	}
	a.mu.Unlock()
	a.notify()
}

// RetryNow makes the client try to connect at once instead of waiting out
// its backoff (the banner's "Retry now", the browser's online event).
func (a *App) RetryNow() {
	a.mu.Lock()
	cl := a.cl
	a.mu.Unlock()
	if cl != nil {
		cl.RetryNow()
	}
	a.notify()
}

// checkUpdates asks go-app to look for a new app version periodically,
// until ctx ends.
func (a *App) checkUpdates(ctx context.Context, tick <-chan time.Time) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick:
			app.TryUpdate()
		}
	}
}

// refreshLock is the Web Lock that serialises refreshes across the tabs
// of a browser: they share one refresh cookie, which rotates.
const refreshLock = "parley.refresh"

// token returns an access token for the client and the API, refreshing it
// when it is about to expire or may have been refused (stale). Only one
// refresh runs at a time in a tab (refreshMu) and in the browser
// (refreshLock), so each refresh presents the cookie the previous one set.
func (a *App) token(ctx context.Context) (string, error) {
	a.refreshMu.Lock()
	defer a.refreshMu.Unlock()
	a.mu.Lock()
	s, gen, stale := a.sess, a.gen, a.stale
	a.mu.Unlock()
	if s.User == "" {
		return "", client.ErrUnauthorized
	}
	if !stale && fresh(s) {
		return s.AccessToken, nil
	}
	var ns protocol.Session
	err := withTabLock(ctx, refreshLock, func() error {
		ctx, cancel := context.WithTimeout(ctx, requestTimeout)
		defer cancel()
		var err error
		ns, err = a.api.Refresh(ctx, protocol.RefreshRequest{RefreshToken: s.RefreshToken})
		return err
	})
	switch {
	case errors.Is(err, client.ErrUnauthorized):
		a.expire(gen, sessionEnded)
		return "", err
	case err != nil:
		return "", err
	case ns.User != s.User:
		// Another tab signed in as someone else: the cookie is theirs.
		a.expire(gen, "You signed in as "+ns.User+" in another tab. Sign in again.")
		return "", client.ErrUnauthorized
	}
	a.adopt(gen, ns)
	return ns.AccessToken, nil
}

// sessionEnded is the sign-in screen's notice after the node refused the
// session.
const sessionEnded = "Your session has ended. Sign in again."

func fresh(s protocol.Session) bool {
	return time.Until(time.UnixMilli(s.ExpiresAt)) > refreshAhead
}

// adopt makes s the session of generation gen. It is kept in memory only.
func (a *App) adopt(gen uint64, s protocol.Session) {
	a.mu.Lock()
	if a.gen == gen {
		a.sess, a.stale = s, false
	}
	a.mu.Unlock()
}

// withToken calls f with an access token. When the node refuses it
// (the session may have ended), it refreshes, which signs the user out if
// the session did end, and calls f once more.
func (a *App) withToken(ctx context.Context, gen uint64, f func(tok string) error) error {
	tok, err := a.token(ctx)
	if err == nil {
		err = f(tok)
	}
	if !errors.Is(err, client.ErrUnauthorized) {
		return err
	}
	a.recheck(gen)
	if tok, err = a.token(ctx); err != nil {
		return err
	}
	return f(tok)
}

// recheck makes the next token come from a refresh: the node refused the
// access token, or a connection ended without saying why (browsers hide
// WebSocket close codes), which may mean the session ended. A refused
// refresh then signs the user out.
func (a *App) recheck(gen uint64) {
	a.mu.Lock()
	if a.gen == gen {
		a.stale = true
	}
	a.mu.Unlock()
}
