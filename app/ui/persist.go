package ui

import (
	"slices"
	"strings"
	"time"

	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"github.com/parleychat/parley/app/state"
	"github.com/parleychat/parley/shared/protocol"
)

// localStorage keys. Everything Parley keeps in localStorage starts with
// keyPrefix and is removed on sign-out. Nothing secret is stored: the
// refresh token lives in the node's HttpOnly cookie, the access token in
// memory only. The room list, history and outbox live in the cache
// (IndexedDB, cache.go); localStorage keeps only what must be read
// synchronously before anything else: who is signed in, settings, and
// the page's snapshot (boot.go).
const (
	keyPrefix = "parley."
	// keyProfile says who is signed in (profile), so that the app opens
	// signed in, offline too, and refreshes through the cookie.
	keyProfile = keyPrefix + "profile"
	// keyLegacySession is where versions before cookie mode kept both
	// tokens. restore deletes it and moves its refresh token to the
	// cookie with the first refresh.
	keyLegacySession = keyPrefix + "session"
	// keyLegacyRooms and keyLegacyRoomPrefix are where versions before
	// the cache kept the room list and each room's timeline with its
	// pending messages. The first start moves them to the cache, then
	// deletes them.
	keyLegacyRooms      = keyPrefix + "rooms"
	keyLegacyRoomPrefix = keyPrefix + "room."
)

// profile is what the app keeps about the signed-in user between visits.
type profile struct {
	User string `json:"user"`
}

// flushDelay batches timeline writes.
const flushDelay = 300 * time.Millisecond

// restore loads the saved profile and, when signed in, starts the
// connection; its first token comes from a refresh through the cookie.
// The cache arrives later (loadCache).
func (a *App) restore() {
	s, ok := a.takeLegacySession()
	if !ok {
		var p profile
		if err := a.kv.Get(keyProfile, &p); err != nil || p.User == "" {
			return
		}
		s = protocol.Session{User: p.User}
	}
	a.start(s)
}

// takeLegacySession deletes the tokens an older version stored and
// returns them, to be held in memory only: the first refresh sends the
// refresh token in its body, and the node moves it to the cookie.
func (a *App) takeLegacySession() (protocol.Session, bool) {
	if !a.kv.Contains(keyLegacySession) {
		return protocol.Session{}, false
	}
	var s protocol.Session
	err := a.kv.Get(keyLegacySession, &s)
	a.kv.Del(keyLegacySession)
	if err != nil || s.User == "" || s.RefreshToken == "" {
		return protocol.Session{}, false
	}
	s.ExpiresAt = 0 // refresh at once, before the tab can close
	return s, true
}

// legacyCache reads what an older version kept in localStorage (the room
// list, and each room's timeline with its pending messages) as one cache
// write, and the keys it came from. A value that does not decode is
// skipped, its key still listed: it holds nothing to keep.
func legacyCache(kv app.BrowserStorage) (*cacheBatch, []string) {
	b := &cacheBatch{}
	var keys []string
	kv.ForEach(func(k string) {
		switch name, isRoom := strings.CutPrefix(k, keyLegacyRoomPrefix); {
		case k == keyLegacyRooms:
			keys = append(keys, k)
			var rooms []protocol.Room
			if kv.Get(k, &rooms) == nil && rooms != nil {
				b.Rooms, b.SetRooms = rooms, true
			}
		case isRoom:
			keys = append(keys, k)
			var tl state.Timeline
			if !protocol.ValidRoomName(name) || kv.Get(k, &tl) != nil {
				return
			}
			b.Timelines = append(b.Timelines, window(name, &tl))
			for _, p := range tl.Pending {
				b.Put = append(b.Put, outboxEntry{Room: name, Pending: p})
			}
		}
	})
	return b, keys
}

// loadCache reads user's cache for session gen, on the cache's goroutine,
// and hands it to the app when it arrives: first what the first view
// needs (the room list, the outbox and the window of first, the room on
// screen), then, once the browser has painted a frame after it, the other
// rooms' windows. An older version's data in localStorage moves to the
// cache first and is deleted only once it is written there; if that fails
// it stays, for the next start, and this session uses it as read (then the
// cache is read whole at once).
func (a *App) loadCache(gen uint64, user, first string) {
	legacy, keys := legacyCache(a.kv)
	if len(keys) == 0 {
		a.cache.loadFirst(user, first, func(c cacheContents, err error) {
			if err != nil {
				app.Logf("%v", err) // the app works without its cache
			}
			a.cacheArrived(gen, c, false)
			afterPaint(func() {
				a.cache.loadOthers(user, first, func(c cacheContents, err error) {
					if err != nil {
						app.Logf("%v", err)
					}
					a.cacheArrived(gen, c, true)
				})
			})
		})
		return
	}
	var unmigrated *cacheBatch
	a.cache.write(user, legacy, func(err error) {
		if err != nil {
			app.Logf("move the cache to IndexedDB: %v", err)
			unmigrated = legacy
			return
		}
		for _, k := range keys {
			a.kv.Del(k)
		}
	})
	a.cache.load(user, func(c cacheContents, err error) {
		if err != nil {
			app.Logf("%v", err) // the app works without its cache
		}
		if unmigrated != nil {
			c = withBatch(c, unmigrated)
		}
		a.cacheArrived(gen, c, true)
	})
}

// withBatch returns c with what b would write.
func withBatch(c cacheContents, b *cacheBatch) cacheContents {
	if b.SetRooms {
		c.Rooms, c.HasRooms = b.Rooms, true
	}
	if c.Timelines == nil {
		c.Timelines = make(map[string]state.Timeline)
	}
	for _, t := range b.Timelines {
		c.Timelines[t.Room] = state.Timeline{Epoch: t.Epoch, NoMore: t.NoMore, Messages: newest(t.Messages)}
	}
	c.Outbox = append(c.Outbox, b.Put...)
	sortOutbox(c.Outbox)
	return c
}

// cacheArrived merges (a part of) the cache into session gen: the room
// list unless the node's arrived first, each room's window where it joins
// what the room holds, and the outbox, shown as pending (only the tab that
// holds the outbox lock sends it). The first part ends the wait for the
// cache (waitCache); once the last has arrived (whole), the writes held
// back until now go out: before, a room whose window is still to come
// would replace it with less.
func (a *App) cacheArrived(gen uint64, c cacheContents, whole bool) {
	a.mu.Lock()
	if a.gen != gen {
		a.mu.Unlock()
		return
	}
	if c.HasRooms && !a.roomsLoaded {
		a.roomList, a.roomsLoaded = c.Rooms, true
	}
	for room, tl := range c.Timelines {
		if protocol.ValidRoomName(room) {
			mergeCached(a.room(room), a.sess.User, tl)
		}
	}
	for _, e := range c.Outbox {
		a.queueLocked(e)
	}
	a.cacheLoaded = whole
	if a.cacheReady != nil {
		close(a.cacheReady)
		a.cacheReady = nil
	}
	if whole && len(a.dirty) > 0 {
		a.flushLocked()
	}
	room := a.current
	a.mu.Unlock()
	a.open(room)
	a.notify()
}

// mergeCached adds a cached window to rd's timeline, unless the room has
// moved on without it: another epoch, or newer messages that leave a gap
// after the window (the timeline must stay contiguous).
func mergeCached(rd *roomData, me string, c state.Timeline) {
	if rd.removed != "" || len(c.Messages) == 0 {
		return
	}
	tl := &rd.tl
	switch {
	case len(tl.Messages) == 0:
		tl.Epoch, tl.NoMore = c.Epoch, c.NoMore
		tl.Add(me, c.Messages...)
	case tl.Epoch == c.Epoch && c.Messages[len(c.Messages)-1].Offset >= tl.Oldest()-1:
		tl.Add(me, c.Messages...)
		tl.NoMore = tl.NoMore || c.NoMore
	default:
		return
	}
	rd.ready = true
}

// queueLocked shows outbox entry e as pending in its room, unless a node
// acknowledged it in this session already. a.mu must be held.
func (a *App) queueLocked(e outboxEntry) bool {
	if a.ackedCIDs[e.CID] || !protocol.ValidRoomName(e.Room) {
		return false
	}
	tl := &a.room(e.Room).tl
	tl.Queue(e.CID, e.Body, e.TS)
	if e.Failed != "" {
		tl.Fail(e.CID, e.Failed)
	}
	return true
}

func (a *App) saveProfile(user string) {
	_ = a.kv.Set(keyProfile, profile{User: user}) // a full storage only costs the next start a sign-in
}

// saveRoomsLocked caches the room list. a.mu must be held.
func (a *App) saveRoomsLocked() {
	if a.sess.User != "" {
		// A copy: the list is changed in place (a topic, a count) while
		// the cache may still be writing this one.
		a.cache.write(a.sess.User, &cacheBatch{Rooms: slices.Clone(a.roomList), SetRooms: true}, logCacheError)
	}
}

// persistSoonLocked schedules room's timeline to be saved. a.mu must be held.
func (a *App) persistSoonLocked(room string) {
	a.dirty[room] = true
	if a.flushTimer == nil {
		gen := a.gen
		a.flushTimer = time.AfterFunc(flushDelay, func() { a.flush(gen) })
	}
}

// flush saves the windows of the timelines changed since the last flush.
func (a *App) flush(gen uint64) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.gen != gen {
		return
	}
	a.flushTimer = nil
	a.flushLocked()
}

// flushLocked queues the windows of the changed timelines as one write,
// once the cache has arrived (before, a window would replace the cached
// one with less). Queuing under the lock keeps a write from landing after
// a sign-out cleared the cache. a.mu must be held.
func (a *App) flushLocked() {
	if !a.cacheLoaded || a.sess.User == "" {
		return
	}
	b := &cacheBatch{}
	for room := range a.dirty {
		if rd := a.rooms[room]; rd != nil && rd.removed == "" {
			b.Timelines = append(b.Timelines, window(room, &rd.tl))
		}
	}
	clear(a.dirty)
	if len(b.Timelines) > 0 {
		a.cache.write(a.sess.User, b, logCacheError)
	}
}

// outboxWriteLocked saves the outbox entry of cid in room as the
// timeline holds it (or deletes it, when the timeline no longer has it
// pending). When tell is set the lock holder hears of it once it is
// written. a.mu must be held.
func (a *App) outboxWriteLocked(room, cid string, tell bool) {
	user := a.sess.User
	if user == "" {
		return
	}
	b := &cacheBatch{Del: []string{cid}}
	if rd := a.rooms[room]; rd != nil {
		for _, p := range rd.tl.Pending {
			if p.CID == cid {
				b = &cacheBatch{Put: []outboxEntry{{Room: room, Pending: p}}}
			}
		}
	}
	a.cache.write(user, b, func(err error) {
		logCacheError(err)
		if tell && err == nil {
			a.tabs.post(tabMessage{Kind: tabOutbox, User: user})
		}
	})
}

func logCacheError(err error) {
	if err != nil {
		app.Logf("%v", err) // best effort: the cache is an offline copy
	}
}

// clearStorage removes everything Parley saved for user (the cache) and
// in localStorage, and the settings read from it.
func (a *App) clearStorage(user string) {
	a.mu.Lock()
	a.notifyOn = false
	a.mu.Unlock()
	if user != "" {
		a.cache.clear(user, logCacheError)
	}
	var keys []string
	a.kv.ForEach(func(key string) {
		if strings.HasPrefix(key, keyPrefix) {
			keys = append(keys, key)
		}
	})
	for _, k := range keys {
		a.kv.Del(k)
	}
}
