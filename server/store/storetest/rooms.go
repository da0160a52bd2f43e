package storetest

import (
	"slices"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/parleychat/parley/server/store"
	"github.com/parleychat/parley/shared/protocol"
)

var roomTests = []test{
	{"CreateAndGet", testCreateRoom},
	{"CreateConflict", testRoomConflict},
	{"EnsureIdempotent", testEnsureRoom},
	{"ListSorted", testRoomsSorted},
	{"Unknown", testUnknownRoom},
}

func sameRoom(a, b store.Room) bool {
	return a.Name == b.Name && a.Epoch == b.Epoch && a.Head == b.Head &&
		a.CreatedBy == b.CreatedBy && a.CreatedAt.Equal(b.CreatedAt)
}

func testCreateRoom(t *testing.T, s store.Store) {
	r, err := s.CreateRoom(t.Context(), "lobby", "alice")
	if err != nil {
		t.Fatalf("CreateRoom: %v", err)
	}
	if r.Name != "lobby" || r.Epoch <= 0 || r.Head != 0 || r.CreatedBy != "alice" {
		t.Fatalf("CreateRoom returned %+v", r)
	}
	checkTime(t, "CreatedAt", r.CreatedAt)
	got, err := s.Room(t.Context(), "lobby")
	if err != nil {
		t.Fatalf("Room: %v", err)
	}
	if !sameRoom(got, r) {
		t.Fatalf("Room = %+v, want %+v", got, r)
	}
	other := mustRoom(t, s, "other")
	if other.Epoch == r.Epoch {
		t.Fatalf("two rooms share epoch %d; epochs are random", r.Epoch)
	}
}

func testRoomConflict(t *testing.T, s store.Store) {
	orig := mustRoom(t, s, "dup")
	_, err := s.CreateRoom(t.Context(), "dup", "mallory")
	wantErr(t, "CreateRoom of an existing room", err, store.ErrConflict)
	got, err := s.Room(t.Context(), "dup")
	if err != nil || !sameRoom(got, orig) {
		t.Fatalf("after conflict: %+v, %v; want %+v", got, err, orig)
	}
}

func testEnsureRoom(t *testing.T, s store.Store) {
	ctx := t.Context()
	first, err := s.EnsureRoom(ctx, "general")
	if err != nil {
		t.Fatalf("EnsureRoom: %v", err)
	}
	if first.Name != "general" || first.Epoch <= 0 || first.Head != 0 {
		t.Fatalf("EnsureRoom returned %+v", first)
	}
	again, err := s.EnsureRoom(ctx, "general")
	if err != nil || !sameRoom(again, first) {
		t.Fatalf("EnsureRoom again = %+v, %v; want %+v", again, err, first)
	}
	// EnsureRoom leaves an existing room as it is, history included.
	created := mustRoom(t, s, "made")
	mustAppend(t, s, "made", "alice", "hi", "")
	ensured, err := s.EnsureRoom(ctx, "made")
	if err != nil {
		t.Fatalf("EnsureRoom of a created room: %v", err)
	}
	created.Head = 1
	if !sameRoom(ensured, created) {
		t.Fatalf("EnsureRoom of a created room = %+v, want %+v", ensured, created)
	}
	_, err = s.CreateRoom(ctx, "general", "alice")
	wantErr(t, "CreateRoom of an ensured room", err, store.ErrConflict)
}

func testRoomsSorted(t *testing.T, s store.Store) {
	ctx := t.Context()
	rooms, err := s.Rooms(ctx)
	if err != nil || len(rooms) != 0 {
		t.Fatalf("Rooms of an empty store = %v, %v", rooms, err)
	}
	for _, name := range []string{"mango", "apple", "zebra", "kiwi"} {
		mustRoom(t, s, name)
	}
	if _, err := s.EnsureRoom(ctx, "banana"); err != nil {
		t.Fatalf("EnsureRoom: %v", err)
	}
	rooms, err = s.Rooms(ctx)
	if err != nil {
		t.Fatalf("Rooms: %v", err)
	}
	var names []string
	for _, r := range rooms {
		names = append(names, r.Name)
	}
	if want := []string{"apple", "banana", "kiwi", "mango", "zebra"}; !slices.Equal(names, want) {
		t.Fatalf("Rooms = %v, want %v", names, want)
	}
}

func testUnknownRoom(t *testing.T, s store.Store) {
	_, err := s.Room(t.Context(), "nowhere")
	wantErr(t, "Room(nowhere)", err, store.ErrNotFound)
}

var memberTests = []test{
	{"JoinIdempotent", testJoin},
	{"UnknownRoom", testJoinUnknownRoom},
	{"JoinReportsNewMember", testJoinReports},
	{"JoinAtOnce", func(t *testing.T, s store.Store) { testJoinAtOnce(t, []store.Store{s}) }},
}

func testJoin(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustRoom(t, s, "club")
	mustRoom(t, s, "quiet")
	for i, u := range []string{"carol", "alice", "bob", "alice"} {
		joined, err := s.Join(ctx, "club", u)
		if err != nil {
			t.Fatalf("Join(club, %s): %v", u, err)
		}
		if want := i < 3; joined != want {
			t.Fatalf("Join %d (club, %s) reported joined=%v, want %v (only a new membership is a join)", i, u, joined, want)
		}
	}
	members, err := s.Members(ctx, "club")
	if err != nil {
		t.Fatalf("Members: %v", err)
	}
	if want := []string{"alice", "bob", "carol"}; !slices.Equal(members, want) {
		t.Fatalf("Members = %v, want %v", members, want)
	}
	members, err = s.Members(ctx, "quiet")
	if err != nil || len(members) != 0 {
		t.Fatalf("Members of a room nobody joined = %v, %v", members, err)
	}
}

// testJoinReports: Join reports a new membership, and only that: not an
// owner's own room, not the room feed, but a public room joined again
// after leaving it.
func testJoinReports(t *testing.T, s store.Store) {
	ctx := t.Context()
	if _, err := s.CreateRoomOf(ctx, "club", protocol.KindPublic, "alice"); err != nil {
		t.Fatal(err)
	}
	if err := store.EnsureFeed(ctx, s); err != nil {
		t.Fatal(err)
	}
	wantJoin := func(room, user string, want bool) {
		t.Helper()
		joined, err := s.Join(ctx, room, user)
		if err != nil || joined != want {
			t.Fatalf("Join(%s, %s) = %v, %v; want %v", room, user, joined, err, want)
		}
	}
	wantJoin("club", "alice", false) // the owner is a member already
	wantJoin(protocol.RoomFeed, "bob", false)
	wantJoin("club", "bob", true)
	wantJoin("club", "bob", false)
	if _, err := s.LeaveRoom(ctx, "club", "bob"); err != nil {
		t.Fatalf("LeaveRoom: %v", err)
	}
	wantJoin("club", "bob", true)
	if got := roster(t, s, "club"); got["bob"] != protocol.RoleMember || got["alice"] != protocol.RoleOwner {
		t.Fatalf("roster after joins = %v", got)
	}
}

// testJoinAtOnce: of many joins of one user to one room at once, exactly
// one reports the new membership.
func testJoinAtOnce(t *testing.T, stores []store.Store) {
	mustRoom(t, stores[0], "busy")
	const perStore = 6
	var joins atomic.Int64
	var wg sync.WaitGroup
	for i := range perStore * len(stores) {
		s := stores[i%len(stores)]
		wg.Go(func() {
			joined, err := s.Join(t.Context(), "busy", "alice")
			if err != nil {
				t.Errorf("Join %d: %v", i, err)
			}
			if joined {
				joins.Add(1)
			}
		})
	}
	wg.Wait()
	if n := joins.Load(); n != 1 {
		t.Fatalf("%d of %d joins at once reported a new member, want 1", n, perStore*len(stores))
	}
}

func testJoinUnknownRoom(t *testing.T, s store.Store) {
	err := refusedJoin(s.Join(t.Context(), "nowhere", "alice"))
	wantErr(t, "Join(nowhere)", err, store.ErrNotFound)
	_, err = s.Members(t.Context(), "nowhere")
	wantErr(t, "Members(nowhere)", err, store.ErrNotFound)
}
