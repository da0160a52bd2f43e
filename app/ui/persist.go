package ui

import (
	"strings"
	"time"

	"github.com/parleychat/parley/app/state"
	"github.com/parleychat/parley/shared/protocol"
)

// Storage keys. Everything Parley keeps in localStorage starts with
// keyPrefix and is removed on sign-out. Nothing secret is stored: the
// refresh token lives in the node's HttpOnly cookie, the access token in
// memory only.
const (
	keyPrefix = "parley."
	// keyProfile says who is signed in (profile), so that the app opens
	// signed in, offline too, and refreshes through the cookie.
	keyProfile = keyPrefix + "profile"
	// keyLegacySession is where versions before cookie mode kept both
	// tokens. restore deletes it and moves its refresh token to the
	// cookie with the first refresh.
	keyLegacySession = keyPrefix + "session"
	keyRooms         = keyPrefix + "rooms"
	keyRoomPrefix    = keyPrefix + "room."
)

// profile is what the app keeps about the signed-in user between visits.
type profile struct {
	User string `json:"user"`
}

// Persistence tuning.
const (
	// cachedMessages is how many recent messages per room are kept for
	// offline start.
	cachedMessages = 100
	// flushDelay batches timeline writes.
	flushDelay = 300 * time.Millisecond
)

// restore loads the saved profile and caches and, when signed in, starts
// the connection; its first token comes from a refresh through the cookie.
func (a *App) restore() {
	s, ok := a.takeLegacySession()
	if !ok {
		var p profile
		if err := a.kv.Get(keyProfile, &p); err != nil || p.User == "" {
			return
		}
		s = protocol.Session{User: p.User}
	}
	var rooms []protocol.Room
	_ = a.kv.Get(keyRooms, &rooms) // a broken cache is an empty one
	a.mu.Lock()
	if len(rooms) > 0 {
		a.roomList, a.roomsLoaded = rooms, true
	}
	a.mu.Unlock()
	a.kv.ForEach(func(key string) {
		if name, ok := strings.CutPrefix(key, keyRoomPrefix); ok && protocol.ValidRoomName(name) {
			a.mu.Lock()
			a.loadRoomLocked(name)
			a.mu.Unlock()
		}
	})
	a.start(s)
}

// loadRoomLocked fills the data of room from storage the first time it is
// needed. a.mu must be held.
func (a *App) loadRoomLocked(room string) {
	if _, ok := a.rooms[room]; ok {
		return
	}
	rd := a.room(room)
	var tl state.Timeline
	if err := a.kv.Get(keyRoomPrefix+room, &tl); err != nil {
		return
	}
	rd.tl = tl
	rd.ready = len(tl.Messages) > 0
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

func (a *App) saveProfile(user string) {
	_ = a.kv.Set(keyProfile, profile{User: user}) // a full storage only costs the next start a sign-in
}

func (a *App) saveRooms(rooms []protocol.Room) {
	_ = a.kv.Set(keyRooms, rooms)
}

// persistSoonLocked schedules room's timeline to be saved. a.mu must be held.
func (a *App) persistSoonLocked(room string) {
	a.dirty[room] = true
	if a.flushTimer == nil {
		gen := a.gen
		a.flushTimer = time.AfterFunc(flushDelay, func() { a.flush(gen) })
	}
}

// saveRoomLocked saves room's timeline at once: a message the user just
// sent must survive the tab closing right away. a.mu must be held.
func (a *App) saveRoomLocked(room string) {
	rd := a.rooms[room]
	if rd == nil {
		return
	}
	tl := rd.tl.Clone()
	tl.Trim(cachedMessages)
	_ = a.kv.Set(keyRoomPrefix+room, tl) // best effort: a full storage only loses the offline copy
	delete(a.dirty, room)
}

// flush saves the timelines changed since the last flush: the newest
// cachedMessages messages and every pending one.
func (a *App) flush(gen uint64) {
	a.mu.Lock()
	if a.gen != gen {
		a.mu.Unlock()
		return
	}
	a.flushTimer = nil
	// Writing under the lock keeps a flush from landing after a sign-out
	// cleared the storage.
	for room := range a.dirty {
		a.saveRoomLocked(room)
	}
	a.mu.Unlock()
}

// clearStorage removes everything Parley saved, and the settings read
// from it.
func (a *App) clearStorage() {
	a.mu.Lock()
	a.notifyOn = false
	a.mu.Unlock()
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
