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
	return nil
}

// SignOut ends the session: it stops the connection, revokes the refresh
// token (best effort) and forgets everything stored for the user.
func (a *App) SignOut() {
	a.mu.Lock()
	refresh := a.sess.RefreshToken
	a.resetLocked()
	a.notice = ""
	a.mu.Unlock()
	a.clearStorage()
	if refresh != "" {
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), requestTimeout)
			defer cancel()
			_ = a.api.Logout(ctx, protocol.RefreshRequest{RefreshToken: refresh}) // the token expires anyway
		}()
	}
	a.notify()
}

// expire ends session gen because the node or the API rejected it.
func (a *App) expire(gen uint64, why string) {
	a.mu.Lock()
	if a.gen != gen || a.sess.User == "" {
		a.mu.Unlock()
		return
	}
	a.resetLocked()
	a.notice = why
	a.mu.Unlock()
	a.clearStorage()
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
	a.cl = nil
	a.conn, a.connectedOnce = Conn{}, false
	a.roomList, a.roomsLoaded, a.roomsErr = nil, false, ""
	a.rooms = make(map[string]*roomData)
	a.dirty = make(map[string]bool)
	// a.current stays: it is the page on screen, and signing in on a
	// room's page opens that room.
}

// start begins session s: it saves it, creates the client, requeues the
// messages left unsent in storage and runs the connection until the
// session ends.
func (a *App) start(s protocol.Session) {
	a.saveSession(s)
	cl := client.New(client.Config{
		URL:     a.wsURL,
		Token:   a.token,
		OnEvent: a.onEvent,
	})
	ctx, cancel := context.WithCancel(context.Background())
	a.mu.Lock()
	a.sess = s
	a.cl = cl
	a.cancelRun = cancel
	a.conn = Conn{State: ConnConnecting}
	gen := a.gen
	var requeue []client.Outgoing
	for name, rd := range a.rooms {
		for _, p := range rd.tl.Pending {
			if p.Failed == "" {
				requeue = append(requeue, client.Outgoing{Room: name, CID: p.CID, Body: p.Body})
			}
		}
	}
	room := a.current
	a.updater = time.NewTicker(updateCheckEvery)
	updates := a.updater.C
	a.mu.Unlock()

	for _, o := range requeue {
		if err := cl.SendWithCID(o.Room, o.CID, o.Body); err != nil {
			a.failSend(o.Room, o.CID, err)
		}
	}
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
		a.expire(gen, "Your session has ended. Sign in again.")
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

// token returns an access token for the client and the API, refreshing it
// when it is about to expire. Only one refresh runs at a time, and a
// session another tab refreshed is adopted instead of refreshed again.
func (a *App) token(ctx context.Context) (string, error) {
	a.refreshMu.Lock()
	defer a.refreshMu.Unlock()
	a.mu.Lock()
	s, gen := a.sess, a.gen
	a.mu.Unlock()
	if s.RefreshToken == "" {
		return "", client.ErrUnauthorized
	}
	if fresh(s) {
		return s.AccessToken, nil
	}
	if stored := a.loadSession(); stored.User == s.User && stored.ExpiresAt > s.ExpiresAt {
		a.adopt(gen, stored)
		if fresh(stored) {
			return stored.AccessToken, nil
		}
		s = stored
	}
	ctx, cancel := context.WithTimeout(ctx, requestTimeout)
	defer cancel()
	ns, err := a.api.Refresh(ctx, protocol.RefreshRequest{RefreshToken: s.RefreshToken})
	if err != nil {
		if errors.Is(err, client.ErrUnauthorized) {
			a.expire(gen, "Your session has ended. Sign in again.")
		}
		return "", err
	}
	a.adopt(gen, ns)
	return ns.AccessToken, nil
}

func fresh(s protocol.Session) bool {
	return time.Until(time.UnixMilli(s.ExpiresAt)) > refreshAhead
}

// adopt makes s the session of generation gen and saves it.
func (a *App) adopt(gen uint64, s protocol.Session) {
	a.mu.Lock()
	ok := a.gen == gen
	if ok {
		a.sess = s
	}
	a.mu.Unlock()
	if ok {
		a.saveSession(s)
	}
}
