package ui

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parleychat/parley/app/state"
	"github.com/parleychat/parley/shared/client"
	"github.com/parleychat/parley/shared/protocol"
	"github.com/parleychat/parley/shared/testenv"
)

// memKV is an in-memory app.BrowserStorage, as localStorage behaves.
type memKV struct {
	mu   sync.Mutex
	data map[string][]byte
}

func newMemKV() *memKV { return &memKV{data: make(map[string][]byte)} }

func (m *memKV) Set(k string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.data[k] = b
	return nil
}

func (m *memKV) Get(k string, v any) error {
	m.mu.Lock()
	b, ok := m.data[k]
	m.mu.Unlock()
	if !ok {
		return nil
	}
	return json.Unmarshal(b, v)
}

func (m *memKV) Del(k string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.data, k)
}

func (m *memKV) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.data)
}

func (m *memKV) Clear() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.data = make(map[string][]byte)
}

func (m *memKV) ForEach(f func(k string)) {
	m.mu.Lock()
	keys := make([]string, 0, len(m.data))
	for k := range m.data {
		keys = append(keys, k)
	}
	m.mu.Unlock()
	for _, k := range keys {
		f(k)
	}
}

func (m *memKV) Contains(k string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	_, ok := m.data[k]
	return ok
}

// signedIn returns an App for user "me" whose client is never run: events
// are fed by hand, as the client would deliver them.
func signedIn(t *testing.T, kv *memKV) *App {
	t.Helper()
	a := newApp(kv, "http://127.0.0.1:1")
	a.sess = protocol.Session{User: "me", AccessToken: "a", RefreshToken: "r", ExpiresAt: time.Now().Add(time.Hour).UnixMilli()}
	a.cl = client.New(client.Config{URL: a.wsURL, Token: func(context.Context) (string, error) { return "a", nil }})
	a.conn = Conn{State: ConnOnline}
	// As the only tab: the cache arrived (empty) and the outbox lock is
	// this tab's.
	a.cacheLoaded, a.owner = true, true
	return a
}

func message(off int64, author, body string) client.Event {
	return client.Event{Kind: client.EventMessage, Room: "general", Offset: off,
		Msg: &protocol.Message{Room: "general", Offset: off, Author: author, Body: body, TS: time.Now().UnixMilli()}}
}

// msgRows returns the message rows of a view, without day separators.
func msgRows(v RoomView) []state.Row {
	var rows []state.Row
	for _, r := range v.Rows {
		if r.Kind == state.RowMessage {
			rows = append(rows, r)
		}
	}
	return rows
}

func waitIdle(t *testing.T, a *App, room string) {
	t.Helper()
	testenv.Eventually(t, 30*time.Second, "the history request to end", testenv.Cond(func() bool {
		return !a.View(room, time.Now(), time.UTC).Loading
	}))
}

func TestAppEvents(t *testing.T) {
	kv := newMemKV()
	a := signedIn(t, kv)
	var notified atomic.Int32
	stop := a.Watch(func() { notified.Add(1) })
	defer stop()

	a.Select("general")
	waitIdle(t, a, "general") // not connected: the first page waits for a connection
	a.onEvent(message(1, "ann", "hi"))
	a.onEvent(message(1, "ann", "hi")) // a repeat shows once
	if err := a.Send("general", "hello"); err != nil {
		t.Fatal(err)
	}
	v := a.View("general", time.Now(), time.UTC)
	rows := msgRows(v)
	if len(rows) != 2 || !rows[1].Pending || v.Pending != 1 {
		t.Fatalf("rows after send: %+v", rows)
	}
	// The outbox is saved at once, before any timer.
	if !savedPending(t, a, rows[1].CID) {
		t.Fatal("the pending message was not saved right away")
	}

	cid := rows[1].CID
	a.onEvent(client.Event{Kind: client.EventAck, Room: "general", CID: cid, Offset: 2, TS: 2000})
	if savedPending(t, a, cid) {
		t.Fatal("an acknowledged message stayed in the outbox")
	}
	a.onEvent(client.Event{Kind: client.EventPresence, Room: "general", Users: []string{"zed", "me", "ann"}})
	a.onEvent(client.Event{Kind: client.EventTyping, Room: "general", User: "ann"})
	v = a.View("general", time.Now(), time.UTC)
	if r := msgRows(v)[1]; r.Pending || !r.Own || r.Offset != 2 || v.Pending != 0 {
		t.Fatalf("acked row: %+v", r)
	}
	if len(v.Present) != 3 || v.Present[0] != "me" || v.Present[1] != "ann" {
		t.Fatalf("presence %v", v.Present)
	}
	if v.Typing != "ann is typing…" {
		t.Fatalf("typing %q", v.Typing)
	}
	a.onEvent(message(3, "ann", "done typing"))
	if v = a.View("general", time.Now(), time.UTC); v.Typing != "" {
		t.Fatalf("typing after ann's message: %q", v.Typing)
	}

	// A message the node refuses for good is marked, and can be dropped.
	if err := a.Send("general", "too fast"); err != nil {
		t.Fatal(err)
	}
	v = a.View("general", time.Now(), time.UTC)
	bad := v.Rows[len(v.Rows)-1].CID
	a.onEvent(client.Event{Kind: client.EventError, CID: bad, Err: &client.ServerError{Code: protocol.ErrTooLarge, Message: "message longer than 4000 characters"}})
	v = a.View("general", time.Now(), time.UTC)
	if last := v.Rows[len(v.Rows)-1]; last.Failed != "Message longer than 4000 characters." {
		t.Fatalf("failed row: %+v", last)
	}
	a.Discard("general", bad)
	if v = a.View("general", time.Now(), time.UTC); v.Rows[len(v.Rows)-1].CID == bad {
		t.Fatal("Discard kept the message")
	}

	// The node cannot serve the room for now: the room says it is
	// reconnecting until it is subscribed again.
	a.onEvent(client.Event{Kind: client.EventRoomRetry, Room: "general", Err: &client.ServerError{Code: protocol.ErrUnavailable}, Retry: time.Second})
	if v = a.View("general", time.Now(), time.UTC); !v.Retrying {
		t.Fatal("a refused room does not say it is reconnecting")
	}
	a.onEvent(client.Event{Kind: client.EventSubscribed, Room: "general", Head: 3})
	if v = a.View("general", time.Now(), time.UTC); v.Retrying {
		t.Fatal("the room still says it is reconnecting after it was subscribed")
	}

	// A skipped gap leaves only the newer messages; older ones page back.
	a.onEvent(client.Event{Kind: client.EventGap, Room: "general", Since: 3, Offset: 900})
	a.onEvent(message(900, "ann", "far ahead"))
	if v = a.View("general", time.Now(), time.UTC); v.Oldest != 900 || !v.HasOlder {
		t.Fatalf("after a gap: oldest %d hasOlder %v", v.Oldest, v.HasOlder)
	}

	// The connection drops: presence is unknown.
	a.onEvent(client.Event{Kind: client.EventDisconnected, Err: errors.New("gone"), Retry: time.Second})
	if c := a.Conn(); c.State != ConnReconnecting || c.Err != "gone" {
		t.Fatalf("conn %+v", c)
	}
	if v = a.View("general", time.Now(), time.UTC); len(v.Present) != 0 || v.Online {
		t.Fatalf("presence while offline: %v", v.Present)
	}
	if notified.Load() == 0 {
		t.Fatal("watchers were never notified")
	}
}

func TestAppMissingRoom(t *testing.T) {
	a := signedIn(t, newMemKV())
	a.Select("nope")
	waitIdle(t, a, "nope")
	a.onEvent(client.Event{Kind: client.EventError, Ref: "nope", Err: &client.ServerError{Code: protocol.ErrNotFound, Message: "no such room"}})
	if v := a.View("nope", time.Now(), time.UTC); !v.Missing {
		t.Fatalf("view %+v", v)
	}
}

func TestAppRestoresOutbox(t *testing.T) {
	kv := newMemKV()
	a := signedIn(t, kv)
	a.Select("general")
	waitIdle(t, a, "general")
	a.onEvent(message(1, "ann", "hi"))
	if err := a.Send("general", "survive a reload"); err != nil {
		t.Fatal(err)
	}
	a.flush(a.generation())
	a.cache.settle()

	// A reload: a new App on the same storage, as restore starts it.
	b := newApp(kv, "http://127.0.0.1:1")
	b.cache = a.cache
	b.mu.Lock()
	b.sess, b.current = protocol.Session{User: "me"}, "general"
	b.loadCache(b.gen, "me", "general")
	b.mu.Unlock()
	b.cache.settle()
	v := b.View("general", time.Now(), time.UTC)
	rows := msgRows(v)
	if len(rows) != 2 || rows[0].Body != "hi" || rows[1].Body != "survive a reload" || !rows[1].Pending || !v.Ready {
		t.Fatalf("restored rows %+v ready %v", rows, v.Ready)
	}
}

func TestSignOutClearsStorage(t *testing.T) {
	kv := newMemKV()
	kv.Set("other.app", 1)
	a := signedIn(t, kv)
	a.saveProfile(a.sess.User)
	a.Select("general")
	waitIdle(t, a, "general")
	if err := a.Send("general", "x"); err != nil {
		t.Fatal(err)
	}
	a.mu.Lock()
	a.saveRoomsLocked()
	a.mu.Unlock()
	a.flush(a.generation())
	a.SignOut()
	if a.User() != "" {
		t.Fatal("still signed in")
	}
	a.cache.settle()
	if c, _ := a.cache.backend.load("me"); c.HasRooms || len(c.Timelines) != 0 || len(c.Outbox) != 0 {
		t.Errorf("the cache kept %+v after sign-out", c)
	}
	kv.ForEach(func(k string) {
		if k != "other.app" {
			t.Errorf("key %q left after sign-out", k)
		}
	})
	if !kv.Contains("other.app") {
		t.Error("sign-out removed another app's key")
	}
}

// TestLegacySessionLeavesStorage: the tokens an older version kept in
// localStorage are deleted on the first start and held in memory only,
// due for a refresh at once (which moves the refresh token to the cookie).
func TestLegacySessionLeavesStorage(t *testing.T) {
	kv := newMemKV()
	old := protocol.Session{User: "me", AccessToken: "a", RefreshToken: "r", ExpiresAt: time.Now().Add(time.Hour).UnixMilli()}
	if err := kv.Set(keyLegacySession, old); err != nil {
		t.Fatal(err)
	}
	a := newApp(kv, "http://127.0.0.1:1")
	s, ok := a.takeLegacySession()
	if !ok || s.User != "me" || s.RefreshToken != "r" || fresh(s) {
		t.Fatalf("took %+v, %v: want me's tokens, due for a refresh", s, ok)
	}
	if kv.Contains(keyLegacySession) {
		t.Fatal("the old session is still stored")
	}
	if _, ok := a.takeLegacySession(); ok {
		t.Fatal("a second start found the old session again")
	}

	if err := kv.Set(keyLegacySession, protocol.Session{User: "me"}); err != nil {
		t.Fatal(err)
	}
	if _, ok := a.takeLegacySession(); ok || kv.Contains(keyLegacySession) {
		t.Fatalf("a session without a refresh token was taken (%v) or kept", ok)
	}
}

// savedPending reports whether cid is in a's outbox in the cache, once
// the writes asked for so far are done.
func savedPending(t *testing.T, a *App, cid string) bool {
	t.Helper()
	a.cache.settle()
	o, err := a.cache.backend.outbox(a.User())
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range o {
		if e.CID == cid {
			return true
		}
	}
	return false
}

// TestTabMessages: another tab's sign-out of this user signs this tab out
// with its reason, another user's is ignored, and another tab's sign-in
// starts this tab as that user.
func TestTabMessages(t *testing.T) {
	kv := newMemKV()
	a := signedIn(t, kv)
	a.onTabMessage(tabMessage{Kind: tabSignedOut, User: "someone"})
	if a.User() != "me" {
		t.Fatal("another user's sign-out signed this tab out")
	}
	a.onTabMessage(tabMessage{Kind: tabSignedOut, User: "me", Notice: "You signed out everywhere."})
	if a.User() != "" || a.Notice() != "You signed out everywhere." {
		t.Fatalf("after the other tab's sign-out: user %q, notice %q", a.User(), a.Notice())
	}
	a.onTabMessage(tabMessage{Kind: tabSignedIn})
	if a.User() != "" {
		t.Fatal("a message without a user signed the tab in")
	}
	a.onTabMessage(tabMessage{Kind: tabSignedIn, User: "me"})
	// A client runs (it may have failed to reach 127.0.0.1:1 already).
	if a.User() != "me" || a.Notice() != "" || a.Conn().State == ConnIdle {
		t.Fatalf("after the other tab's sign-in: user %q, notice %q, conn %v", a.User(), a.Notice(), a.Conn())
	}
	a.SignOut()
}

// TestEndingSaysWhy: when the user ends the session (sign out everywhere,
// delete), the node's session_ended may arrive before the API's answer;
// the sign-in screen still gives the user's reason.
func TestEndingSaysWhy(t *testing.T) {
	a := signedIn(t, newMemKV())
	gen := a.expectEnd("You signed out everywhere.")
	a.expire(gen, sessionEnded) // the socket's news comes first
	a.expire(gen, "You signed out everywhere.")
	if a.User() != "" || a.Notice() != "You signed out everywhere." {
		t.Fatalf("user %q, notice %q", a.User(), a.Notice())
	}

	b := signedIn(t, newMemKV())
	gen = b.expectEnd("Your account was deleted.")
	b.expectEnd("") // the wrong password: nothing ends
	b.expire(gen, sessionEnded)
	if b.Notice() != sessionEnded {
		t.Fatalf("a later end says %q", b.Notice())
	}
}
