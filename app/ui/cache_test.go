//go:build !(js && wasm)

package ui

import (
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/parleychat/parley/app/state"
	"github.com/parleychat/parley/shared/client"
	"github.com/parleychat/parley/shared/protocol"
	"github.com/parleychat/parley/shared/testenv"
)

func msgs(from, to int64) []protocol.Message {
	var out []protocol.Message
	for off := from; off <= to; off++ {
		out = append(out, protocol.Message{Room: "general", Offset: off, Author: "ann", Body: fmt.Sprint("m", off), TS: off})
	}
	return out
}

func offsets(ms []protocol.Message) []int64 {
	var out []int64
	for _, m := range ms {
		out = append(out, m.Offset)
	}
	return out
}

// TestCacheKeepsNewestWindow: a room's window holds its newest
// cachedMessages messages, and each write replaces it, so messages the
// timeline dropped (a new epoch) leave the cache too.
func TestCacheKeepsNewestWindow(t *testing.T) {
	c := newMemCache()
	tl := state.Timeline{Epoch: 3, Messages: msgs(1, cachedMessages+200)}
	w := window("general", &tl)
	if len(w.Messages) != cachedMessages || w.Messages[0].Offset != 201 || w.NoMore {
		t.Fatalf("window: %d messages from %d, no_more %v", len(w.Messages), w.Messages[0].Offset, w.NoMore)
	}
	// Even a write of more than the window keeps the window.
	over := cachedTimeline{Room: "general", Epoch: 3, Messages: msgs(1, cachedMessages+200)}
	if err := c.apply("me", &cacheBatch{Timelines: []cachedTimeline{over}}); err != nil {
		t.Fatal(err)
	}
	got, _ := c.load("me")
	if g := got.Timelines["general"]; len(g.Messages) != cachedMessages || g.Oldest() != 201 || g.Newest() != cachedMessages+200 || g.Epoch != 3 {
		t.Fatalf("stored %d messages %d..%d epoch %d", len(g.Messages), g.Oldest(), g.Newest(), g.Epoch)
	}

	tl.Reset(4)
	tl.Add("me", msgs(1, 2)...)
	if err := c.apply("me", &cacheBatch{Timelines: []cachedTimeline{window("general", &tl)}}); err != nil {
		t.Fatal(err)
	}
	got, _ = c.load("me")
	if g := got.Timelines["general"]; !slices.Equal(offsets(g.Messages), []int64{1, 2}) || g.Epoch != 4 {
		t.Fatalf("after a new epoch: offsets %v epoch %d", offsets(g.Messages), g.Epoch)
	}
	if err := c.apply("me", &cacheBatch{Drop: []string{"general"}}); err != nil {
		t.Fatal(err)
	}
	if got, _ = c.load("me"); len(got.Timelines) != 0 {
		t.Fatalf("a dropped room is still cached: %v", got.Timelines)
	}
}

// TestCacheKeepsUsersApart: one user's data is invisible to another, and
// clearing it leaves the other's.
func TestCacheKeepsUsersApart(t *testing.T) {
	c := newMemCache()
	for _, u := range []string{"ann", "bob"} {
		b := &cacheBatch{
			Rooms: []protocol.Room{{Name: u + "-room"}}, SetRooms: true,
			Timelines: []cachedTimeline{{Room: u + "-room", Messages: msgs(1, 3)}},
			Put:       []outboxEntry{{Room: u + "-room", Pending: state.Pending{CID: u + "-cid", Body: "x", TS: 1}}},
		}
		if err := c.apply(u, b); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.clear("ann"); err != nil {
		t.Fatal(err)
	}
	ann, _ := c.load("ann")
	if ann.HasRooms || len(ann.Timelines) != 0 || len(ann.Outbox) != 0 {
		t.Fatalf("ann's data after clearing: %+v", ann)
	}
	bob, _ := c.load("bob")
	if len(bob.Rooms) != 1 || bob.Rooms[0].Name != "bob-room" || len(bob.Timelines["bob-room"].Messages) != 3 ||
		len(bob.Outbox) != 1 || bob.Outbox[0].CID != "bob-cid" || len(bob.Timelines) != 1 {
		t.Fatalf("bob's data: %+v", bob)
	}
}

// legacyKV is localStorage as the version before the cache left it: the
// room list, a room's timeline with a pending message, a room whose name
// is not valid and one that does not decode.
func legacyKV(t *testing.T) *memKV {
	t.Helper()
	kv := newMemKV()
	must(t, kv.Set(keyProfile, profile{User: "me"}))
	must(t, kv.Set(keyLegacyRooms, []protocol.Room{{Name: "general", Kind: protocol.KindPublic}}))
	must(t, kv.Set(keyLegacyRoomPrefix+"general", state.Timeline{
		Epoch: 1, Messages: msgs(1, 2),
		Pending: []state.Pending{{CID: "c-unsent", Body: "sent offline", TS: 5}},
	}))
	must(t, kv.Set(keyLegacyRoomPrefix+"Not A Room", state.Timeline{Messages: msgs(1, 1)}))
	kv.mu.Lock()
	kv.data[keyLegacyRoomPrefix+"broken"] = []byte("{")
	kv.mu.Unlock()
	must(t, kv.Set("parley.snapshot", "<div></div>"))
	return kv
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// restoreCache starts loading me's cache into a, as start does, and waits
// until it arrived.
func restoreCache(a *App) {
	a.mu.Lock()
	a.sess = protocol.Session{User: "me"}
	a.loadCache(a.gen, "me", "")
	a.mu.Unlock()
	a.cache.settle()
}

// TestLegacyCacheMoves: the first start of this version moves the room
// list, history and outbox from localStorage to the cache, shows them,
// and deletes the old keys (the snapshot stays: it is read before the app
// runs).
func TestLegacyCacheMoves(t *testing.T) {
	kv := legacyKV(t)
	a := newApp(kv, "http://127.0.0.1:1")
	restoreCache(a)

	for _, k := range []string{keyLegacyRooms, keyLegacyRoomPrefix + "general", keyLegacyRoomPrefix + "Not A Room", keyLegacyRoomPrefix + "broken"} {
		if kv.Contains(k) {
			t.Errorf("%s is still in localStorage", k)
		}
	}
	if !kv.Contains(keyProfile) || !kv.Contains("parley.snapshot") {
		t.Error("the migration deleted the profile or the snapshot")
	}
	c, err := a.cache.backend.load("me")
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Rooms) != 1 || len(c.Timelines) != 1 || len(c.Timelines["general"].Messages) != 2 || c.Timelines["general"].Epoch != 1 {
		t.Fatalf("cache after the migration: %+v", c)
	}
	if len(c.Outbox) != 1 || c.Outbox[0].CID != "c-unsent" || c.Outbox[0].Room != "general" {
		t.Fatalf("outbox after the migration: %+v", c.Outbox)
	}
	v := a.View("general", time.Now(), time.UTC)
	rows := msgRows(v)
	if len(rows) != 3 || !rows[2].Pending || rows[2].Body != "sent offline" || !v.Ready {
		t.Fatalf("rows after the migration: %+v", rows)
	}
	if rooms, loaded, _ := a.Rooms(); !loaded || len(rooms) != 1 {
		t.Fatalf("room list after the migration: %v (loaded %v)", rooms, loaded)
	}
}

// TestLegacyCacheStaysWhenWriteFails: when the cache cannot be written,
// the old keys stay for the next start (an outbox entry is never lost)
// and this session still shows what they hold.
func TestLegacyCacheStaysWhenWriteFails(t *testing.T) {
	kv := legacyKV(t)
	a := newApp(kv, "http://127.0.0.1:1")
	mem := newMemCache()
	mem.fail = errors.New("QuotaExceededError")
	a.cache = newCache(mem)
	restoreCache(a)
	if !kv.Contains(keyLegacyRoomPrefix + "general") {
		t.Fatal("the old timeline was deleted though the cache refused it")
	}
	rows := msgRows(a.View("general", time.Now(), time.UTC))
	if len(rows) != 3 || !rows[2].Pending {
		t.Fatalf("rows without a cache: %+v", rows)
	}
}

// TestMergeCachedKeepsTimelineContiguous: a cached window joins a
// timeline that already holds messages only when nothing lies between
// them and the epoch is the same.
func TestMergeCachedKeepsTimelineContiguous(t *testing.T) {
	cached := state.Timeline{Epoch: 1, Messages: msgs(1, 10)}
	for _, tc := range []struct {
		name string
		has  state.Timeline
		want []int64
	}{
		{"empty", state.Timeline{}, offsets(msgs(1, 10))},
		{"overlapping", state.Timeline{Epoch: 1, Messages: msgs(8, 12)}, offsets(msgs(1, 12))},
		{"adjacent", state.Timeline{Epoch: 1, Messages: msgs(11, 12)}, offsets(msgs(1, 12))},
		{"gap", state.Timeline{Epoch: 1, Messages: msgs(50, 51)}, []int64{50, 51}},
		{"other epoch", state.Timeline{Epoch: 2, Messages: msgs(5, 6)}, []int64{5, 6}},
	} {
		rd := &roomData{tl: tc.has}
		mergeCached(rd, "me", cached)
		if got := offsets(rd.tl.Messages); !slices.Equal(got, tc.want) {
			t.Errorf("%s: offsets %v, want %v", tc.name, got, tc.want)
		}
	}
}

// TestOnlyTheLockHolderSends: two tabs of one user share the cache; the
// one without the outbox lock saves its message to the outbox and does
// not send it; the holder, told of it, sends it, and its ack empties the
// outbox.
func TestOnlyTheLockHolderSends(t *testing.T) {
	holder := signedIn(t, newMemKV())
	other := signedIn(t, newMemKV())
	other.cache, other.owner = holder.cache, false

	other.Select("general")
	if err := other.Send("general", "from the other tab"); err != nil {
		t.Fatal(err)
	}
	rows := msgRows(other.View("general", time.Now(), time.UTC))
	if len(rows) != 1 || !rows[0].Pending {
		t.Fatalf("the other tab's rows: %+v", rows)
	}
	cid := rows[0].CID
	if !savedPending(t, other, cid) {
		t.Fatal("the message is not in the outbox")
	}
	if len(other.cl.Pending()) != 0 {
		t.Fatalf("the tab without the lock handed %v to its client", other.cl.Pending())
	}

	holder.onTabMessage(tabMessage{Kind: tabOutbox, User: "me"})
	holder.cache.settle()
	if p := holder.cl.Pending(); len(p) != 1 || p[0].CID != cid {
		t.Fatalf("the lock holder sends %+v, want %s", p, cid)
	}
	if rows := msgRows(holder.View("general", time.Now(), time.UTC)); len(rows) != 1 || !rows[0].Pending {
		t.Fatalf("the holder's rows: %+v", rows)
	}
	holder.onEvent(client.Event{Kind: client.EventAck, Room: "general", CID: cid, Offset: 1, TS: 1})
	if savedPending(t, holder, cid) {
		t.Fatal("the acknowledged message is still in the outbox")
	}
	// An outbox read from before the deletion does not send it again.
	holder.sendOutbox(holder.generation(), []outboxEntry{{Room: "general", Pending: state.Pending{CID: cid, Body: "from the other tab"}}})
	if rows := msgRows(holder.View("general", time.Now(), time.UTC)); len(rows) != 1 || rows[0].Pending {
		t.Fatalf("the holder's rows after the ack: %+v", rows)
	}
}

// TestSortOutbox orders an outbox by the time sent, then by cid, keeping
// entries equal in both (the same message in two rooms) as they were.
func TestSortOutbox(t *testing.T) {
	o := []outboxEntry{
		{Room: "b", Pending: state.Pending{CID: "c2", TS: 20}},
		{Room: "a", Pending: state.Pending{CID: "c3", TS: 10}},
		{Room: "x", Pending: state.Pending{CID: "c1", TS: 20}},
		{Room: "y", Pending: state.Pending{CID: "c1", TS: 20}},
		{Room: "a", Pending: state.Pending{CID: "c0", TS: 30}},
	}
	sortOutbox(o)
	var got []string
	for _, e := range o {
		got = append(got, fmt.Sprintf("%s/%s@%d", e.Room, e.CID, e.TS))
	}
	want := []string{"a/c3@10", "x/c1@20", "y/c1@20", "b/c2@20", "a/c0@30"}
	if !slices.Equal(got, want) {
		t.Fatalf("order %v, want %v", got, want)
	}
}

// TestPreloadWaitsForCache: a signed-in start reads the part of the cache
// the first view needs before the app mounts its first page (Preload): the
// room list, the outbox and the window of the room the URL names, so that
// page's first frame holds the cached messages of its room. The other
// rooms' windows follow, and only then are windows written back.
func TestPreloadWaitsForCache(t *testing.T) {
	kv := newMemKV()
	must(t, kv.Set(keyProfile, profile{User: "me"}))
	a := newApp(kv, "http://127.0.0.1:1")
	a.cache.write("me", &cacheBatch{
		Rooms: []protocol.Room{{Name: "general"}, {Name: "side"}}, SetRooms: true,
		Timelines: []cachedTimeline{{Room: "general", Epoch: 1, Messages: msgs(1, 3)}, {Room: "side", Epoch: 1, Messages: msgs(1, 2)}},
		Put:       []outboxEntry{{Room: "side", Pending: state.Pending{CID: "c1", Body: "unsent", TS: 1}}},
	}, nil)
	a.cache.settle()
	a.pageRoom = "general" // as current() reads it from the URL
	a.restore()
	t.Cleanup(func() {
		a.mu.Lock()
		a.resetLocked()
		a.mu.Unlock()
	})
	done := make(chan struct{})
	go func() {
		a.waitCache(time.Hour)
		close(done)
	}()
	testenv.Eventually(t, 30*time.Second, "the wait for the cache to end", testenv.Cond(func() bool {
		select {
		case <-done:
			return true
		default:
			return false
		}
	}))
	if rows := msgRows(a.View("general", time.Now(), time.UTC)); len(rows) != 3 || rows[2].Body != "m3" {
		t.Fatalf("rows once the cache arrived: %+v", rows)
	}
	if rooms, loaded, _ := a.Rooms(); !loaded || len(rooms) != 2 {
		t.Fatalf("room list once the cache arrived: %+v", rooms)
	}
	testenv.Eventually(t, 30*time.Second, "the other rooms' windows", testenv.Cond(func() bool {
		a.mu.Lock()
		defer a.mu.Unlock()
		return a.cacheLoaded
	}))
	rows := msgRows(a.View("side", time.Now(), time.UTC))
	if len(rows) != 3 || rows[1].Body != "m2" || !rows[2].Pending || rows[2].Body != "unsent" {
		t.Fatalf("side's rows once the whole cache arrived: %+v", rows)
	}
	// Signed out, nothing is waited for.
	a.SignOut()
	a.waitCache(time.Hour)
}

// TestCacheLoadsInParts: loadFirst reads the room list, the outbox and
// one room's window; loadOthers every other room's window and nothing
// else.
func TestCacheLoadsInParts(t *testing.T) {
	c := newMemCache()
	must(t, c.apply("me", &cacheBatch{
		Rooms: []protocol.Room{{Name: "a"}, {Name: "b"}, {Name: "c"}}, SetRooms: true,
		Timelines: []cachedTimeline{{Room: "a", Messages: msgs(1, 2)}, {Room: "b", Messages: msgs(1, 3)}, {Room: "c", Messages: msgs(5, 9)}},
		Put:       []outboxEntry{{Room: "c", Pending: state.Pending{CID: "c1", Body: "x", TS: 1}}},
	}))
	first, err := c.loadFirst("me", "b")
	must(t, err)
	if len(first.Rooms) != 3 || len(first.Outbox) != 1 || len(first.Timelines) != 1 || len(first.Timelines["b"].Messages) != 3 {
		t.Fatalf("first part: %+v", first)
	}
	others, err := c.loadOthers("me", "b")
	must(t, err)
	if others.HasRooms || len(others.Outbox) != 0 || len(others.Timelines) != 2 ||
		!slices.Equal(offsets(others.Timelines["a"].Messages), []int64{1, 2}) || !slices.Equal(offsets(others.Timelines["c"].Messages), []int64{5, 6, 7, 8, 9}) {
		t.Fatalf("the others: %+v", others)
	}
	none, err := c.loadFirst("me", "")
	must(t, err)
	if len(none.Rooms) != 3 || len(none.Timelines) != 0 {
		t.Fatalf("first part without a room: %+v", none)
	}
	if all, err := c.loadOthers("me", ""); err != nil || len(all.Timelines) != 3 {
		t.Fatalf("every window: %+v, %v", all, err)
	}
}

// TestResetHoldsRowsUntilNewestPage: when the node reports a new epoch
// for a room (its history was reset or restored), the room keeps showing
// its rows until the new epoch's newest page replaces them, instead of an
// empty list; the page is asked for at once.
func TestResetHoldsRowsUntilNewestPage(t *testing.T) {
	a := signedIn(t, newMemKV())
	a.Select("general")
	waitIdle(t, a, "general")
	for off := int64(1); off <= 3; off++ {
		a.onEvent(message(off, "ann", fmt.Sprint("old ", off)))
	}
	a.onEvent(client.Event{Kind: client.EventSubscribed, Room: "general", Epoch: 9, Head: 1, Reset: true})
	v := a.View("general", time.Now(), time.UTC)
	if rows := msgRows(v); len(rows) != 3 || rows[0].Body != "old 1" || v.Ready {
		t.Fatalf("after the reset: ready %v, rows %+v", v.Ready, rows)
	}
	// The page request fails here (no connection); the rows stay.
	waitIdle(t, a, "general")
	if rows := msgRows(a.View("general", time.Now(), time.UTC)); len(rows) != 3 {
		t.Fatalf("after a failed reload: rows %+v", rows)
	}
	a.mu.Lock()
	gen, cl := a.gen, a.cl
	a.mu.Unlock()
	// An older page of the old epoch, asked for before the reset, is
	// dropped.
	a.pageArrived(gen, cl, "general", 1, []protocol.Message{{Room: "general", Offset: 0, Author: "ann", Body: "old 0", TS: 1}}, true, nil)
	waitIdle(t, a, "general")
	a.pageArrived(gen, cl, "general", 0, []protocol.Message{{Room: "general", Offset: 1, Author: "ann", Body: "new 1", TS: 1}}, false, nil)
	v = a.View("general", time.Now(), time.UTC)
	if rows := msgRows(v); len(rows) != 1 || rows[0].Body != "new 1" || !v.Ready {
		t.Fatalf("after the new page: ready %v, rows %+v", v.Ready, rows)
	}
}
