package storetest

import (
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/parleychat/parley/server/store"
	"github.com/parleychat/parley/shared/protocol"
)

var directTests = []test{
	{"GroupPerSet", testDirectGroup},
	{"GroupLimits", testDirectGroupLimits},
	{"GroupAtOnce", func(t *testing.T, s store.Store) { testDirectGroupAtOnce(t, []store.Store{s}) }},
}

// peersOf returns the Peers and Peer of room in user's room list.
func peersOf(t *testing.T, s store.Store, user, room string) ([]string, string) {
	t.Helper()
	rooms, err := s.RoomsOf(t.Context(), user)
	if err != nil {
		t.Fatalf("RoomsOf(%s): %v", user, err)
	}
	for _, r := range rooms {
		if r.Name == room {
			return r.Peers, r.Peer
		}
	}
	t.Fatalf("%s does not see %s in %+v", user, room, rooms)
	return nil, ""
}

// testDirectGroup: one room per set of people, whatever the order, the
// case or who asks; a subset or a superset is another room; the room
// list names the others; outsiders cannot read or join it.
func testDirectGroup(t *testing.T, s store.Store) {
	ctx := t.Context()
	pair, _, err := s.DirectRoom(ctx, "alice", "Bob")
	if err != nil {
		t.Fatal(err)
	}
	g, created, err := s.DirectRoom(ctx, "alice", "Bob", "carol")
	if err != nil || !created || g.Name == pair.Name || g.Kind != protocol.KindDirect || !protocol.ValidRoomName(g.Name) {
		t.Fatalf("DirectRoom(alice, Bob, carol) = %+v, created %v, %v; want a new direct room", g, created, err)
	}
	want := map[string]string{"alice": protocol.RoleMember, "Bob": protocol.RoleMember, "carol": protocol.RoleMember}
	if got := roster(t, s, g.Name); !mapsEqual(got, want) {
		t.Fatalf("group roster = %v, want %v", got, want)
	}
	for _, ask := range [][]string{{"carol", "alice", "Bob"}, {"BOB", "CAROL", "Alice"}, {"Bob", "carol", "alice"}} {
		again, created, err := s.DirectRoom(ctx, ask[0], ask[1:]...)
		if err != nil || created || again.Name != g.Name {
			t.Fatalf("DirectRoom(%v) = %s, created %v, %v; want %s", ask, again.Name, created, err, g.Name)
		}
	}
	if back, _, err := s.DirectRoom(ctx, "Bob", "alice"); err != nil || back.Name != pair.Name {
		t.Fatalf("the pair's room after a group = %s, %v; want %s", back.Name, err, pair.Name)
	}
	bigger, created, err := s.DirectRoom(ctx, "alice", "Bob", "carol", "dave")
	if err != nil || !created || bigger.Name == g.Name {
		t.Fatalf("DirectRoom of a superset = %+v, created %v, %v", bigger, created, err)
	}
	for user, others := range map[string][]string{"alice": {"Bob", "carol"}, "Bob": {"alice", "carol"}, "carol": {"alice", "Bob"}} {
		peers, peer := peersOf(t, s, user, g.Name)
		if !slices.Equal(peers, others) || peer != "" {
			t.Fatalf("%s's group = peers %v, peer %q; want %v and no peer", user, peers, peer, others)
		}
	}
	if peers, peer := peersOf(t, s, "alice", pair.Name); !slices.Equal(peers, []string{"Bob"}) || peer != "Bob" {
		t.Fatalf("alice's pair room = peers %v, peer %q; want Bob", peers, peer)
	}
	if a := mustAccess(t, s, g.Name, "dave"); a.CanRead() || a.Role != "" {
		t.Fatalf("dave's access to a group he is not in = %+v", a)
	}
	wantErr(t, "Join of someone else's group", refusedJoin(s.Join(ctx, g.Name, "dave")), store.ErrNotFound)
	rooms, err := s.RoomsOf(ctx, "dave")
	if err != nil || len(rooms) != 1 || rooms[0].Name != bigger.Name {
		t.Fatalf("RoomsOf(dave) = %+v, %v; want only the group of four", rooms, err)
	}
	// Leaving keeps the set: asking again brings the caller back, and
	// the others still see who it was made for.
	if _, err := s.LeaveRoom(ctx, g.Name, "carol"); err != nil {
		t.Fatal(err)
	}
	if peers, _ := peersOf(t, s, "alice", g.Name); !slices.Equal(peers, []string{"Bob", "carol"}) {
		t.Fatalf("alice's group after carol left = %v", peers)
	}
	if back, created, err := s.DirectRoom(ctx, "carol", "alice", "Bob"); err != nil || created || back.Name != g.Name {
		t.Fatalf("DirectRoom after leaving = %+v, created %v, %v", back, created, err)
	}
	if a := mustAccess(t, s, g.Name, "carol"); !a.CanRead() {
		t.Fatalf("DirectRoom did not bring carol back: %+v", a)
	}
}

// testDirectGroupLimits: at most protocol.MaxDirectUsers people, each
// once, and someone besides the caller.
func testDirectGroupLimits(t *testing.T, s store.Store) {
	ctx := t.Context()
	others := make([]string, protocol.MaxDirectUsers-1)
	for i := range others {
		others[i] = fmt.Sprintf("user%d", i)
	}
	if _, _, err := s.DirectRoom(ctx, "alice", others...); err != nil {
		t.Fatalf("DirectRoom of %d people: %v", protocol.MaxDirectUsers, err)
	}
	_, _, err := s.DirectRoom(ctx, "alice", append(others, "one-more")...)
	wantErr(t, "DirectRoom of too many", err, store.ErrConflict)
	_, _, err = s.DirectRoom(ctx, "alice", "bob", "BOB")
	wantErr(t, "DirectRoom naming someone twice", err, store.ErrConflict)
	_, _, err = s.DirectRoom(ctx, "alice", "bob", "Alice")
	wantErr(t, "DirectRoom naming the caller", err, store.ErrConflict)
	_, _, err = s.DirectRoom(ctx, "alice")
	wantErr(t, "DirectRoom alone", err, store.ErrConflict)
	rooms, err := s.RoomsOf(ctx, "bob")
	if err != nil || len(rooms) != 0 {
		t.Fatalf("a refused DirectRoom left rooms behind: %+v, %v", rooms, err)
	}
}

// testDirectGroupAtOnce creates one group's room from many goroutines on
// every store at once, each naming the people in another order: exactly
// one room, which every call returns.
func testDirectGroupAtOnce(t *testing.T, stores []store.Store) {
	people := []string{"alice", "Bob", "carol", "dave"}
	const perNode = 8
	names := make([]string, perNode*len(stores))
	createdN := make([]bool, len(names))
	var wg sync.WaitGroup
	for i := range names {
		wg.Go(func() {
			order := slices.Clone(people)
			k := i % len(order)
			order = append(order[k:], order[:k]...)
			r, created, err := stores[i%len(stores)].DirectRoom(t.Context(), order[0], order[1:]...)
			if err != nil {
				t.Errorf("DirectRoom(%v): %v", order, err)
			}
			names[i], createdN[i] = r.Name, created
		})
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	wantOneDirectRoom(t, names, createdN, "set")
	for _, p := range people {
		rooms, err := stores[0].RoomsOf(t.Context(), p)
		if err != nil || len(rooms) != 1 || rooms[0].Name != names[0] {
			t.Fatalf("%s sees %+v, %v; want the one group", p, rooms, err)
		}
	}
}

// wantOneDirectRoom checks what concurrent DirectRoom calls for one
// group of people got: the same room for all, created by exactly one.
func wantOneDirectRoom(t *testing.T, names []string, created []bool, group string) {
	t.Helper()
	made := 0
	for i, n := range names {
		if n != names[0] {
			t.Fatalf("call %d got room %q, call 0 %q: two direct rooms for one %s", i, n, names[0], group)
		}
		if created[i] {
			made++
		}
	}
	if made != 1 {
		t.Fatalf("%d calls report creating the room, want 1", made)
	}
}
