package storetest

import (
	"slices"
	"testing"

	"github.com/parleychat/parley/server/store"
	"github.com/parleychat/parley/shared/protocol"
)

// testDeleteRoom: a deleted room leaves nothing behind, and a room
// created later under its name inherits none of it.
func testDeleteRoom(t *testing.T, s store.Store) {
	ctx := t.Context()
	old, err := s.CreateRoomOf(ctx, "club", protocol.KindPrivate, "alice")
	if err != nil {
		t.Fatal(err)
	}
	for user, role := range map[string]string{"bob": protocol.RoleMember, "carol": protocol.RoleModerator} {
		if err := s.AddMember(ctx, "club", user, role); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.RemoveMember(ctx, "club", "mallory", true); err != nil {
		t.Fatal(err)
	}
	mustRoom(t, s, "lobby")
	kept, _ := mustAppend(t, s, "lobby", "alice", "elsewhere", "lobby-1")
	mustAppend(t, s, "club", "alice", "hello @bob", "club-1")
	mustAppend(t, s, "club", "bob", "hi", "club-2")
	if _, _, err := s.SetReadMarker(ctx, "club", "bob", 1); err != nil {
		t.Fatal(err)
	}

	members, err := s.DeleteRoom(ctx, "club")
	if err != nil {
		t.Fatalf("DeleteRoom: %v", err)
	}
	if want := []string{"alice", "bob", "carol"}; !slices.Equal(members, want) {
		t.Fatalf("DeleteRoom returned members %v, want %v", members, want)
	}
	_, err = s.DeleteRoom(ctx, "club")
	wantErr(t, "DeleteRoom again", err, store.ErrNotFound)
	_, err = s.DeleteRoom(ctx, "nowhere")
	wantErr(t, "DeleteRoom of an unknown room", err, store.ErrNotFound)

	_, err = s.Room(ctx, "club")
	wantErr(t, "Room after delete", err, store.ErrNotFound)
	_, err = s.Access(ctx, "club", "alice")
	wantErr(t, "Access after delete", err, store.ErrNotFound)
	_, err = s.History(ctx, "club", store.Page{Newest: true})
	wantErr(t, "History after delete", err, store.ErrNotFound)
	_, err = s.Roster(ctx, "club")
	wantErr(t, "Roster after delete", err, store.ErrNotFound)
	_, err = s.Bans(ctx, "club")
	wantErr(t, "Bans after delete", err, store.ErrNotFound)
	_, _, err = s.SetReadMarker(ctx, "club", "bob", 2)
	wantErr(t, "SetReadMarker after delete", err, store.ErrNotFound)
	_, _, err = s.Append(ctx, store.Message{Room: "club", Author: "alice", Body: "anyone?", CID: "club-3"})
	wantErr(t, "Append after delete", err, store.ErrNotFound)
	wantErr(t, "Join after delete", refusedJoin(s.Join(ctx, "club", "bob")), store.ErrNotFound)
	wantErr(t, "AddMember after delete", s.AddMember(ctx, "club", "bob", protocol.RoleMember), store.ErrNotFound)
	for _, user := range []string{"alice", "bob", "carol", "mallory"} {
		if _, ok := listed(t, s, user)["club"]; ok {
			t.Fatalf("RoomsOf(%s) still lists the deleted room", user)
		}
	}
	if got, err := s.History(ctx, "lobby", store.Page{Newest: true}); err != nil || len(got) != 1 || got[0].Offset != kept.Offset {
		t.Fatalf("another room's history after the delete = %+v, %v", got, err)
	}

	// The same name again is another room: a new epoch, offsets from 1,
	// none of the old members, bans, markers, mentions or messages.
	again, err := s.CreateRoomOf(ctx, "club", protocol.KindPublic, "dave")
	if err != nil {
		t.Fatalf("create the name again: %v", err)
	}
	if again.Epoch == old.Epoch || again.Head != 0 {
		t.Fatalf("recreated room: epoch %d (old %d), head %d; want a new epoch at head 0", again.Epoch, old.Epoch, again.Head)
	}
	if got := roster(t, s, "club"); !maps1(got, "dave", protocol.RoleOwner) {
		t.Fatalf("recreated room's roster = %v, want only dave", got)
	}
	if bans, err := s.Bans(ctx, "club"); err != nil || len(bans) != 0 {
		t.Fatalf("recreated room's bans = %+v, %v; want none", bans, err)
	}
	if got, err := s.History(ctx, "club", store.Page{Newest: true}); err != nil || len(got) != 0 {
		t.Fatalf("recreated room's history = %+v, %v; want none", got, err)
	}
	if _, err := s.Join(ctx, "club", "mallory"); err != nil {
		t.Fatalf("the old room's ban holds in the new one: %v", err)
	}
	bob := listed(t, s, "bob")["club"]
	if bob.Role != "" || bob.LastRead != 0 || bob.Unread != 0 || bob.Mentions != 0 {
		t.Fatalf("bob in the recreated room = %+v; want no role, marker or counts", bob)
	}
	m, dup := mustAppend(t, s, "club", "alice", "hello @bob", "club-1")
	if dup || m.Offset != 1 || m.Room != "club" {
		t.Fatalf("the old room's cid again = %+v (dup %v); want a new message at offset 1", m, dup)
	}
}

// maps1 reports whether m holds exactly key → value.
func maps1(m map[string]string, key, value string) bool {
	return len(m) == 1 && m[key] == value
}
