package ui

import (
	"context"

	"github.com/maxence-charriere/go-app/v10/pkg/app"
)

// outboxLockPrefix names the Web Lock, one per user, held by the tab that
// sends the user's outbox. Every tab shows the outbox (it is in the
// cache) and adds to it; only the holder sends, so two tabs never send
// the same message. The browser gives the lock to a waiting tab when the
// holder closes or signs out, and that tab sends what is left.
const outboxLockPrefix = "parley.outbox."

// drainOutbox waits for user's outbox lock and holds it until session
// gen ends (ctx): meanwhile this tab sends the outbox.
func (a *App) drainOutbox(ctx context.Context, gen uint64, user string) {
	err := withTabLock(ctx, outboxLockPrefix+user, func() error {
		a.mu.Lock()
		if a.gen != gen {
			a.mu.Unlock()
			return nil
		}
		a.owner = true
		a.readOutboxLocked()
		a.mu.Unlock()
		<-ctx.Done()
		return nil
	})
	if err != nil && ctx.Err() == nil {
		app.Logf("outbox: %v", err)
	}
}

// readOutboxLocked reads the outbox from the cache (another tab may have
// added to it) and sends what this tab does not send yet. a.mu must be
// held.
func (a *App) readOutboxLocked() {
	gen, user := a.gen, a.sess.User
	a.cache.outbox(user, func(entries []outboxEntry, err error) {
		logCacheError(err)
		a.sendOutbox(gen, entries)
	})
}

// sendOutbox shows entries as pending and, while this tab holds the
// outbox lock in session gen, hands those not failed to the client, which
// sends each cid once however often it is handed over.
func (a *App) sendOutbox(gen uint64, entries []outboxEntry) {
	a.mu.Lock()
	if a.gen != gen || !a.owner || a.cl == nil {
		a.mu.Unlock()
		return
	}
	cl := a.cl
	var send []outboxEntry
	for _, e := range entries {
		if a.queueLocked(e) && e.Failed == "" {
			send = append(send, e)
		}
	}
	a.mu.Unlock()
	for _, e := range send {
		if err := cl.SendWithCID(e.Room, e.CID, e.Body); err != nil {
			a.failSend(e.Room, e.CID, err)
		}
	}
	a.notify()
}

// acked records that a node stored cid: it leaves the outbox.
func (a *App) acked(room, cid string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.ackedCIDs[cid] = true
	a.outboxWriteLocked(room, cid, false)
}
