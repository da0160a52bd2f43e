package storetest

import (
	"fmt"
	"sync"
	"testing"

	"github.com/parleychat/parley/server/store"
	"github.com/parleychat/parley/shared/protocol"
)

var concurrencyTests = []test{
	{"Append", testConcurrentAppend},
	{"IdenticalResends", func(t *testing.T, s store.Store) { testConcurrentResends(t, []store.Store{s}) }},
	{"IdenticalResendsToManyRooms", func(t *testing.T, s store.Store) { testResendsAcrossRooms(t, []store.Store{s}) }},
}

// RunMultiNode checks that stores sharing one database, as the nodes of a
// cluster do, number each room's messages densely when they all append to
// it at once, and agree on idempotent resends.
func RunMultiNode(t *testing.T, open NodesOpener) {
	const nodes = 3
	t.Run("Append", func(t *testing.T) {
		stores := open(t, nodes)
		mustRoom(t, stores[0], "shared")
		for i, s := range stores {
			if _, err := s.Room(t.Context(), "shared"); err != nil {
				t.Fatalf("node %d: Room: %v", i, err)
			}
		}
		appendConcurrently(t, stores, "shared", 4*nodes, 50)
		for _, s := range stores {
			checkOffsets(t, s, "shared", 4*nodes*50)
		}
	})
	t.Run("AppendAll", func(t *testing.T) {
		testAppendAllConcurrently(t, open(t, nodes))
	})
	t.Run("IdenticalResends", func(t *testing.T) {
		testConcurrentResends(t, open(t, nodes))
	})
	t.Run("IdenticalResendsToManyRooms", func(t *testing.T) {
		testResendsAcrossRooms(t, open(t, nodes))
	})
	t.Run("EnsureRoomAtOnce", func(t *testing.T) {
		testEnsureRoomAtOnce(t, open(t, nodes))
	})
	t.Run("DirectRoomAtOnce", func(t *testing.T) {
		testDirectRoomAtOnce(t, open(t, nodes))
	})
	t.Run("DirectGroupAtOnce", func(t *testing.T) {
		testDirectGroupAtOnce(t, open(t, nodes))
	})
	t.Run("JoinAtOnce", func(t *testing.T) {
		testJoinAtOnce(t, open(t, nodes))
	})
}

// testEnsureRoomAtOnce ensures one room from every node at once, as nodes
// starting together do with the default room: one room, one epoch.
func testEnsureRoomAtOnce(t *testing.T, stores []store.Store) {
	const perNode = 4
	rooms := make([]store.Room, perNode*len(stores))
	var wg sync.WaitGroup
	for i := range rooms {
		wg.Go(func() {
			r, err := stores[i%len(stores)].EnsureRoom(t.Context(), "general")
			if err != nil {
				t.Errorf("EnsureRoom: %v", err)
			}
			rooms[i] = r
		})
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	for _, r := range rooms {
		if !sameRoom(r, rooms[0]) {
			t.Fatalf("EnsureRoom returned %+v and %+v", rooms[0], r)
		}
	}
}

func testConcurrentAppend(t *testing.T, s store.Store) {
	mustRoom(t, s, "busy")
	mustRoom(t, s, "quiet")
	var wg sync.WaitGroup
	wg.Go(func() { appendConcurrently(t, []store.Store{s}, "busy", 8, 50) })
	wg.Go(func() { appendConcurrently(t, []store.Store{s}, "quiet", 2, 50) })
	wg.Wait()
	checkOffsets(t, s, "busy", 400)
	checkOffsets(t, s, "quiet", 100)
}

// appendConcurrently runs workers goroutines, spread over stores, each
// appending perWorker messages to room; every worker must see its own
// offsets strictly increase.
func appendConcurrently(t *testing.T, stores []store.Store, room string, workers, perWorker int) {
	t.Helper()
	var wg sync.WaitGroup
	for w := range workers {
		s := stores[w%len(stores)]
		wg.Go(func() {
			var last int64
			for i := range perWorker {
				m, dup, err := s.Append(t.Context(), store.Message{
					Room: room, Author: fmt.Sprintf("user%d", w),
					Body: fmt.Sprintf("w%d-%d", w, i), CID: fmt.Sprintf("%s-w%d-%d", room, w, i),
				})
				if err != nil {
					t.Errorf("worker %d: Append: %v", w, err)
					return
				}
				if dup || m.Offset <= last {
					t.Errorf("worker %d: offset %d after %d (dup %v)", w, m.Offset, last, dup)
					return
				}
				last = m.Offset
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
}

// checkOffsets fails the test unless room holds exactly offsets 1..n, each
// once, its head is n, and no body appears twice.
func checkOffsets(t *testing.T, s store.Store, room string, n int) {
	t.Helper()
	checkHead(t, s, room, int64(n))
	bodies := make(map[string]bool, n)
	var after int64
	for {
		page := history(t, s, room, store.Page{After: after, Limit: protocol.MaxBacklog})
		if len(page) == 0 {
			break
		}
		for _, m := range page {
			if m.Offset != after+1 {
				t.Fatalf("room %s: offset %d follows %d", room, m.Offset, after)
			}
			if bodies[m.Body] {
				t.Fatalf("room %s: body %q stored twice", room, m.Body)
			}
			bodies[m.Body] = true
			after = m.Offset
		}
	}
	if after != int64(n) {
		t.Fatalf("room %s: offsets 1..%d, want 1..%d", room, after, n)
	}
}

// testConcurrentResends sends each of several messages from many
// goroutines at once, spread over stores: each must be stored once, every
// sender must get the same offset, and exactly one sender dup=false.
func testConcurrentResends(t *testing.T, stores []store.Store) {
	const cids, senders = 5, 8
	mustRoom(t, stores[0], "r")
	type result struct {
		offset int64
		dup    bool
	}
	results := make([][senders]result, cids)
	var wg sync.WaitGroup
	for c := range cids {
		for g := range senders {
			s := stores[(c+g)%len(stores)]
			wg.Go(func() {
				m, dup, err := s.Append(t.Context(), store.Message{
					Room: "r", Author: "alice", Body: fmt.Sprintf("m%d", c), CID: fmt.Sprintf("cid-%d", c),
				})
				if err != nil {
					t.Errorf("cid %d sender %d: Append: %v", c, g, err)
					return
				}
				results[c][g] = result{m.Offset, dup}
			})
		}
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	for c, rs := range results {
		firsts := 0
		for _, r := range rs {
			if r.offset != rs[0].offset {
				t.Fatalf("cid %d: senders got offsets %v", c, rs)
			}
			if !r.dup {
				firsts++
			}
		}
		if firsts != 1 {
			t.Fatalf("cid %d: %d senders were told they stored it first, want 1: %v", c, firsts, rs)
		}
	}
	checkOffsets(t, stores[0], "r", cids)
	if m, _ := mustAppend(t, stores[len(stores)-1], "r", "alice", "next", "next"); m.Offset != cids+1 {
		t.Fatalf("offset after resends = %d, want %d", m.Offset, cids+1)
	}
}

// testResendsAcrossRooms sends one message (same author and cid) to
// several rooms at once, many times over: the cid is the author's, not the
// room's, so each must be stored once, in one room, and every sender must
// be handed that one message.
func testResendsAcrossRooms(t *testing.T, stores []store.Store) {
	const rounds, rooms = 10, 6
	for r := range rooms {
		mustRoom(t, stores[0], fmt.Sprintf("room%d", r))
	}
	for round := range rounds {
		got := make([]store.Message, rooms)
		dups := make([]bool, rooms)
		var wg sync.WaitGroup
		for r := range rooms {
			s := stores[(round+r)%len(stores)]
			wg.Go(func() {
				m, dup, err := s.Append(t.Context(), store.Message{
					Room: fmt.Sprintf("room%d", r), Author: "alice",
					Body: fmt.Sprintf("m%d", round), CID: fmt.Sprintf("cid-%d", round),
				})
				if err != nil {
					t.Errorf("round %d room %d: Append: %v", round, r, err)
				}
				got[r], dups[r] = m, dup
			})
		}
		wg.Wait()
		if t.Failed() {
			t.FailNow()
		}
		firsts := 0
		for r, m := range got {
			if !sameMessage(m, got[0]) {
				t.Fatalf("round %d: senders were handed different messages: %+v and %+v", round, got[0], got[r])
			}
			if !dups[r] {
				firsts++
			}
		}
		if firsts != 1 {
			t.Fatalf("round %d: %d senders were told they stored it first, want 1", round, firsts)
		}
	}
	var total int64
	for r := range rooms {
		room, err := stores[0].Room(t.Context(), fmt.Sprintf("room%d", r))
		if err != nil {
			t.Fatalf("Room: %v", err)
		}
		checkOffsets(t, stores[0], room.Name, int(room.Head))
		total += room.Head
	}
	if total != rounds {
		t.Fatalf("%d messages stored over all rooms, want %d", total, rounds)
	}
}
