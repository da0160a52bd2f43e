//go:build js && wasm

package ui

import (
	"encoding/json"
	"errors"
	"fmt"
	"syscall/js"

	"github.com/parleychat/parley/app/state"
	"github.com/parleychat/parley/shared/protocol"
)

// The cache's IndexedDB database. Every key is an array whose first
// element is the user, so one user's data is one key range and another
// user never reads it; values are JSON strings.
//
//	rooms      [user, name]          protocol.Room
//	timelines  [user, room]          cachedTimeline (epoch, no_more)
//	messages   [user, room, offset]  protocol.Message
//	outbox     [user, cid]           outboxEntry
//
// A later version that changes the layout must raise idbVersion; this
// version does not close its connection for it, so the upgrade waits until
// tabs running this one are closed.
const (
	idbName    = "parley"
	idbVersion = 1
)

// The object stores, in the order load reads them.
const (
	storeRooms     = "rooms"
	storeTimelines = "timelines"
	storeMessages  = "messages"
	storeOutbox    = "outbox"
)

var idbStores = []any{storeRooms, storeTimelines, storeMessages, storeOutbox}

// newCacheBackend returns the cache in IndexedDB.
func newCacheBackend() cacheBackend { return &idbCache{} }

// idbCache is a cacheBackend in IndexedDB. The cache calls it one
// operation at a time, so db needs no lock.
type idbCache struct {
	db js.Value // the open database, undefined until opened
}

var _ cacheBackend = (*idbCache)(nil)

// open returns the database, opening (and creating) it the first time.
func (c *idbCache) open() (js.Value, error) {
	if c.db.Truthy() {
		return c.db, nil
	}
	idb := js.Global().Get("indexedDB")
	if !idb.Truthy() {
		return js.Value{}, errors.New("open the cache: this browser has no IndexedDB")
	}
	var req js.Value
	if err := jsTry(func() { req = idb.Call("open", idbName, idbVersion) }); err != nil {
		return js.Value{}, fmt.Errorf("open the cache: %w", err)
	}
	upgrade := js.FuncOf(func(this js.Value, args []js.Value) any {
		db := req.Get("result")
		for _, s := range idbStores {
			if !db.Get("objectStoreNames").Call("contains", s).Bool() {
				db.Call("createObjectStore", s)
			}
		}
		return nil
	})
	req.Set("onupgradeneeded", upgrade)
	err := idbWait(req, "success")
	req.Set("onupgradeneeded", js.Null())
	upgrade.Release()
	if err != nil {
		return js.Value{}, fmt.Errorf("open the cache: %w", err)
	}
	c.db = req.Get("result")
	return c.db, nil
}

// transaction runs f on a new transaction over every store and waits for
// it to commit. A failure forgets the connection, so the next operation
// opens it again (the browser may have closed it).
func (c *idbCache) transaction(mode string, f func(tx js.Value)) error {
	db, err := c.open()
	if err != nil {
		return err
	}
	var tx js.Value
	err = jsTry(func() {
		tx = db.Call("transaction", idbStores, mode)
		f(tx)
	})
	if err == nil {
		err = idbWait(tx, "complete")
	} else if tx.Truthy() {
		_ = jsTry(func() { tx.Call("abort") })
	}
	if err != nil {
		c.db = js.Value{}
	}
	return err
}

func (c *idbCache) load(user string) (cacheContents, error) {
	var reqs []js.Value
	err := c.transaction("readonly", func(tx js.Value) {
		r := userRange(user)
		for _, s := range idbStores {
			reqs = append(reqs, tx.Call("objectStore", s).Call("getAll", r))
		}
	})
	if err != nil {
		return cacheContents{}, fmt.Errorf("read the cache: %w", err)
	}
	out := cacheContents{Timelines: make(map[string]state.Timeline)}
	out.Rooms, out.HasRooms = decodeRooms(reqs[0].Get("result"))
	decodeTimelines(out.Timelines, jsStrings(reqs[1].Get("result")), "")
	decodeMessages(out.Timelines, reqs[2].Get("result"))
	out.Outbox = decodeOutbox(reqs[3].Get("result"))
	return out, nil
}

func (c *idbCache) loadFirst(user, room string) (cacheContents, error) {
	var rooms, outbox, timeline, messages js.Value
	err := c.transaction("readonly", func(tx js.Value) {
		r := userRange(user)
		rooms = tx.Call("objectStore", storeRooms).Call("getAll", r)
		outbox = tx.Call("objectStore", storeOutbox).Call("getAll", r)
		if room != "" {
			timeline = tx.Call("objectStore", storeTimelines).Call("get", key(user, room))
			messages = tx.Call("objectStore", storeMessages).Call("getAll", roomRange(user, room))
		}
	})
	if err != nil {
		return cacheContents{}, fmt.Errorf("read the cache: %w", err)
	}
	out := cacheContents{Timelines: make(map[string]state.Timeline)}
	out.Rooms, out.HasRooms = decodeRooms(rooms.Get("result"))
	if room != "" {
		if v := timeline.Get("result"); v.Type() == js.TypeString {
			decodeTimelines(out.Timelines, []string{v.String()}, "")
			decodeMessages(out.Timelines, messages.Get("result"))
		}
	}
	out.Outbox = decodeOutbox(outbox.Get("result"))
	return out, nil
}

func (c *idbCache) loadOthers(user, room string) (cacheContents, error) {
	var timelines []js.Value
	var messages []js.Value
	err := c.transaction("readonly", func(tx js.Value) {
		timelines = append(timelines, tx.Call("objectStore", storeTimelines).Call("getAll", userRange(user)))
		// Every message of user's rooms but room's: the keys below
		// [user, room] and those above [user, room, []] (an array sorts
		// after every offset).
		store, bound := tx.Call("objectStore", storeMessages), js.Global().Get("IDBKeyRange").Get("bound")
		messages = append(messages,
			store.Call("getAll", bound.Invoke(key(user), key(user, room), false, true)),
			store.Call("getAll", bound.Invoke(key(user, room, []any{}), key(user, []any{}), true, false)))
	})
	if err != nil {
		return cacheContents{}, fmt.Errorf("read the cache: %w", err)
	}
	out := cacheContents{Timelines: make(map[string]state.Timeline)}
	decodeTimelines(out.Timelines, jsStrings(timelines[0].Get("result")), room)
	for _, m := range messages {
		decodeMessages(out.Timelines, m.Get("result"))
	}
	return out, nil
}

// decodeRooms decodes a room list read from the rooms store; ok is false
// when it held none. A value that does not decode is skipped, as
// everywhere in the cache: a broken entry is a missing one.
func decodeRooms(arr js.Value) (rooms []protocol.Room, ok bool) {
	for _, v := range jsStrings(arr) {
		var r protocol.Room
		if json.Unmarshal([]byte(v), &r) == nil {
			rooms, ok = append(rooms, r), true
		}
	}
	return rooms, ok
}

// decodeTimelines adds the timelines of the values to out, without
// messages, leaving out the one of skip.
func decodeTimelines(out map[string]state.Timeline, values []string, skip string) {
	for _, v := range values {
		var t cachedTimeline
		if json.Unmarshal([]byte(v), &t) == nil && t.Room != skip {
			out[t.Room] = state.Timeline{Epoch: t.Epoch, NoMore: t.NoMore}
		}
	}
}

// decodeMessages adds messages read from the messages store (in key
// order: by room, then by offset) to their rooms' timelines in out; a
// message of a room out does not hold is dropped.
func decodeMessages(out map[string]state.Timeline, arr js.Value) {
	for _, v := range jsStrings(arr) {
		var m protocol.Message
		if json.Unmarshal([]byte(v), &m) != nil {
			continue
		}
		if tl, ok := out[m.Room]; ok {
			tl.Messages = append(tl.Messages, m)
			out[m.Room] = tl
		}
	}
}

// decodeOutbox decodes the outbox store's values, oldest first.
func decodeOutbox(arr js.Value) []outboxEntry {
	var out []outboxEntry
	for _, v := range jsStrings(arr) {
		var e outboxEntry
		if json.Unmarshal([]byte(v), &e) == nil {
			out = append(out, e)
		}
	}
	sortOutbox(out)
	return out
}

func (c *idbCache) apply(user string, b *cacheBatch) error {
	err := c.transaction("readwrite", func(tx js.Value) {
		rooms, timelines := tx.Call("objectStore", storeRooms), tx.Call("objectStore", storeTimelines)
		messages, outbox := tx.Call("objectStore", storeMessages), tx.Call("objectStore", storeOutbox)
		if b.SetRooms {
			rooms.Call("delete", userRange(user))
			for _, r := range b.Rooms {
				rooms.Call("put", jsonString(r), key(user, r.Name))
			}
		}
		for _, room := range b.Drop {
			timelines.Call("delete", key(user, room))
			messages.Call("delete", roomRange(user, room))
		}
		for _, t := range b.Timelines {
			timelines.Call("put", jsonString(t), key(user, t.Room))
			messages.Call("delete", roomRange(user, t.Room))
			for _, m := range newest(t.Messages) {
				m.Room = t.Room
				messages.Call("put", jsonString(m), key(user, t.Room, m.Offset))
			}
		}
		for _, e := range b.Put {
			outbox.Call("put", jsonString(e), key(user, e.CID))
		}
		for _, cid := range b.Del {
			outbox.Call("delete", key(user, cid))
		}
	})
	if err != nil {
		return fmt.Errorf("write the cache: %w", err)
	}
	return nil
}

func (c *idbCache) outbox(user string) ([]outboxEntry, error) {
	var req js.Value
	err := c.transaction("readonly", func(tx js.Value) {
		req = tx.Call("objectStore", storeOutbox).Call("getAll", userRange(user))
	})
	if err != nil {
		return nil, fmt.Errorf("read the outbox: %w", err)
	}
	return decodeOutbox(req.Get("result")), nil
}

func (c *idbCache) clear(user string) error {
	err := c.transaction("readwrite", func(tx js.Value) {
		r := userRange(user)
		for _, s := range idbStores {
			tx.Call("objectStore", s).Call("delete", r)
		}
	})
	if err != nil {
		return fmt.Errorf("clear the cache: %w", err)
	}
	return nil
}

// idbWait waits until target (an IDBRequest or IDBTransaction) fires ok,
// or error or abort. IndexedDB always fires one of them, so there is no
// deadline. The handlers only hand the outcome over: a JavaScript callback
// must never block.
func idbWait(target js.Value, ok string) error {
	done := make(chan error, 1)
	settle := func(err error) {
		select {
		case done <- err:
		default: // error and then abort: the first one tells
		}
	}
	okFn := js.FuncOf(func(this js.Value, args []js.Value) any {
		settle(nil)
		return nil
	})
	failFn := js.FuncOf(func(this js.Value, args []js.Value) any {
		settle(idbError(target, args))
		return nil
	})
	events := []string{"on" + ok, "onerror", "onabort"}
	target.Set(events[0], okFn)
	target.Set(events[1], failFn)
	target.Set(events[2], failFn)
	err := <-done
	for _, ev := range events {
		target.Set(ev, js.Null())
	}
	okFn.Release()
	failFn.Release()
	return err
}

// idbError describes why a request or transaction failed.
func idbError(target js.Value, args []js.Value) error {
	var e js.Value
	_ = jsTry(func() {
		e = target.Get("error")
		if !e.Truthy() && len(args) > 0 {
			e = args[0].Get("target").Get("error")
		}
	})
	if !e.Truthy() {
		return errors.New("aborted")
	}
	return fmt.Errorf("%s: %s", e.Get("name").String(), e.Get("message").String())
}

// jsTry runs f and turns a JavaScript exception it throws into an error.
func jsTry(f func()) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%v", r)
		}
	}()
	f()
	return nil
}

// key builds an array key.
func key(parts ...any) js.Value { return js.ValueOf(parts) }

// userRange is every key of user: [user] ≤ k ≤ [user, []] (an array sorts
// after every number and string).
func userRange(user string) js.Value {
	return js.Global().Get("IDBKeyRange").Call("bound", key(user), key(user, []any{}))
}

// roomRange is every key of user's room in the messages store.
func roomRange(user, room string) js.Value {
	return js.Global().Get("IDBKeyRange").Call("bound", key(user, room), key(user, room, []any{}))
}

func jsonString(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // the cache's types always marshal
	}
	return string(b)
}

// jsStrings returns the strings of a JavaScript array (other values are
// skipped).
func jsStrings(arr js.Value) []string {
	n := arr.Length()
	out := make([]string, 0, n)
	for i := range n {
		if v := arr.Index(i); v.Type() == js.TypeString {
			out = append(out, v.String())
		}
	}
	return out
}
