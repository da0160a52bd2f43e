package storetest

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/parleychat/parley/server/store"
)

var userTests = []test{
	{"CreateAndLookUp", testCreateUser},
	{"CaseInsensitiveConflict", testUserConflict},
	{"UnknownUser", testUnknownUser},
}

func testCreateUser(t *testing.T, s store.Store) {
	ctx := t.Context()
	alice, err := s.CreateUser(ctx, "Alice", "hash-a")
	if err != nil {
		t.Fatalf("CreateUser: %v", err)
	}
	if alice.ID <= 0 || alice.Name != "Alice" || alice.PasswordHash != "hash-a" {
		t.Fatalf("CreateUser returned %+v", alice)
	}
	checkTime(t, "CreatedAt", alice.CreatedAt)
	bob, err := s.CreateUser(ctx, "bob", "hash-b")
	if err != nil {
		t.Fatalf("CreateUser: %v", err)
	}
	if bob.ID == alice.ID {
		t.Fatalf("two users share ID %d", bob.ID)
	}
	for _, name := range []string{"Alice", "alice", "ALICE"} {
		got, err := s.UserByName(ctx, name)
		if err != nil {
			t.Fatalf("UserByName(%q): %v", name, err)
		}
		if !sameUser(got, alice) {
			t.Fatalf("UserByName(%q) = %+v, want %+v", name, got, alice)
		}
	}
}

func testUserConflict(t *testing.T, s store.Store) {
	ctx := t.Context()
	if _, err := s.CreateUser(ctx, "carol", "h"); err != nil {
		t.Fatalf("CreateUser: %v", err)
	}
	for _, name := range []string{"carol", "Carol", "CAROL"} {
		_, err := s.CreateUser(ctx, name, "other")
		wantErr(t, "CreateUser("+name+") again", err, store.ErrConflict)
	}
	u, err := s.UserByName(ctx, "carol")
	if err != nil || u.PasswordHash != "h" {
		t.Fatalf("after conflicts: %+v, %v; want the original account", u, err)
	}
}

func testUnknownUser(t *testing.T, s store.Store) {
	_, err := s.UserByName(t.Context(), "nobody")
	wantErr(t, "UserByName(nobody)", err, store.ErrNotFound)
}

var tokenTests = []test{
	{"SaveRotate", testTokenRotate},
	{"RotateTwiceWithinGrace", testTokenRotateGrace},
	{"ReplayEndsFamily", testTokenReplay},
	{"ExpiredFails", testTokenExpired},
	{"SessionExpiryCaps", testSessionExpired},
	{"SaveErrors", testTokenSaveErrors},
	{"ListAndEnd", testSessionsListEnd},
	{"EndAllButOne", testSessionsEndAll},
	{"EndedSessions", testEndedSessions},
	{"Purge", testPurgeExpired},
	{"SetPassword", testSetPassword},
	{"DeleteUser", testDeleteUser},
}

// tokenUser creates a user for token tests.
func tokenUser(t *testing.T, s store.Store) store.User {
	t.Helper()
	u, err := s.CreateUser(t.Context(), "dave", "h")
	if err != nil {
		t.Fatalf("CreateUser: %v", err)
	}
	return u
}

// mustSession creates session id for u with first token hash, valid for
// an hour (the session) and life (the token).
func mustSession(t *testing.T, s store.Store, u store.User, id, hash string, now time.Time, life time.Duration) store.Session {
	t.Helper()
	sess := store.Session{ID: id, UserID: u.ID, UserAgent: "agent " + id, CreatedAt: now, LastSeen: now, ExpiresAt: now.Add(time.Hour)}
	if err := s.CreateSession(t.Context(), sess, store.RefreshToken{Hash: hash, ExpiresAt: now.Add(life)}); err != nil {
		t.Fatalf("CreateSession(%s): %v", id, err)
	}
	return sess
}

func rotate(t *testing.T, s store.Store, old, next string, now time.Time, grace time.Duration) (store.Rotation, error) {
	t.Helper()
	return s.RotateRefreshToken(t.Context(), old, store.RefreshToken{Hash: next, ExpiresAt: now.Add(time.Hour)}, now, grace)
}

func testTokenRotate(t *testing.T, s store.Store) {
	u := tokenUser(t, s)
	now := time.Now().UTC().Truncate(time.Millisecond)
	mustSession(t, s, u, "s1", "t1", now, time.Hour)
	later := now.Add(time.Minute)
	got, err := rotate(t, s, "t1", "t2", later, 0)
	if err != nil {
		t.Fatalf("RotateRefreshToken(t1): %v", err)
	}
	if !sameUser(got.User, u) || got.Session.ID != "s1" || got.Session.UserID != u.ID || !got.Session.LastSeen.Equal(later) {
		t.Fatalf("RotateRefreshToken returned %+v, want user %+v in s1 seen at %v", got, u, later)
	}
	if _, err := rotate(t, s, "t2", "t3", later, 0); err != nil {
		t.Fatalf("RotateRefreshToken(t2): %v", err)
	}
	sess, err := s.SessionByToken(t.Context(), "t3")
	if err != nil || sess.ID != "s1" || sess.UserAgent != "agent s1" || !sess.LastSeen.Equal(later) {
		t.Fatalf("SessionByToken(t3) = %+v, %v", sess, err)
	}
	_, err = rotate(t, s, "unknown", "t4", later, time.Hour)
	wantErr(t, "rotating an unknown token", err, store.ErrNotFound)
}

func testTokenRotateGrace(t *testing.T, s store.Store) {
	u := tokenUser(t, s)
	now := time.Now()
	mustSession(t, s, u, "s1", "old", now, time.Hour)
	if _, err := rotate(t, s, "old", "a", now, 20*time.Second); err != nil {
		t.Fatalf("RotateRefreshToken: %v", err)
	}
	// A second tab with the same token, within the grace window.
	got, err := rotate(t, s, "old", "b", now.Add(10*time.Second), 20*time.Second)
	if err != nil || got.Session.ID != "s1" {
		t.Fatalf("second rotation within grace: %+v, %v", got, err)
	}
	for _, h := range []string{"a", "b"} {
		if _, err := rotate(t, s, h, h+"2", now.Add(15*time.Second), 20*time.Second); err != nil {
			t.Fatalf("rotating %s after the race: %v", h, err)
		}
	}
}

func testTokenReplay(t *testing.T, s store.Store) {
	u := tokenUser(t, s)
	now := time.Now()
	mustSession(t, s, u, "s1", "r1", now, time.Hour)
	mustSession(t, s, u, "other", "o1", now, time.Hour)
	if _, err := rotate(t, s, "r1", "r2", now, 20*time.Second); err != nil {
		t.Fatalf("RotateRefreshToken: %v", err)
	}
	got, err := rotate(t, s, "r1", "r3", now.Add(20*time.Second), 20*time.Second)
	wantErr(t, "replaying a rotated token after the grace window", err, store.ErrReplayed)
	if got.Session.ID != "s1" {
		t.Fatalf("replay named session %q, want s1", got.Session.ID)
	}
	for _, h := range []string{"r1", "r2", "r3"} {
		_, err := rotate(t, s, h, h+"x", now.Add(21*time.Second), 20*time.Second)
		wantErr(t, "rotating "+h+" of the ended family", err, store.ErrNotFound)
	}
	if sess, err := s.Session(t.Context(), "s1"); err != nil || !sess.Ended() {
		t.Fatalf("Session of the ended family = %+v, %v; want it ended", sess, err)
	}
	if _, err := rotate(t, s, "o1", "o2", now.Add(21*time.Second), 20*time.Second); err != nil {
		t.Fatalf("another session of the user after a replay: %v", err)
	}
}

func testTokenExpired(t *testing.T, s store.Store) {
	u := tokenUser(t, s)
	now := time.Now()
	mustSession(t, s, u, "s1", "stale", now, -time.Second)
	mustSession(t, s, u, "s2", "edge", now, time.Second)
	_, err := rotate(t, s, "stale", "next", now, 0)
	wantErr(t, "rotating an expired token", err, store.ErrNotFound)
	_, err = rotate(t, s, "edge", "next", now.Add(2*time.Second), 0)
	wantErr(t, "rotating a token at a time past its expiry", err, store.ErrNotFound)
	_, err = rotate(t, s, "next", "x", now, 0)
	wantErr(t, "rotating the token failed rotations offered", err, store.ErrNotFound)
	if _, err := rotate(t, s, "edge", "next", now, 0); err != nil {
		t.Fatalf("rotating a token before its expiry: %v", err)
	}
}

func testSessionExpired(t *testing.T, s store.Store) {
	u := tokenUser(t, s)
	now := time.Now()
	mustSession(t, s, u, "s1", "t1", now, 24*time.Hour) // the session ends after an hour
	_, err := rotate(t, s, "t1", "t2", now.Add(time.Hour), 0)
	wantErr(t, "rotating a live token of an expired session", err, store.ErrNotFound)
	list, err := s.Sessions(t.Context(), u.ID, now.Add(time.Hour))
	if err != nil || len(list) != 0 {
		t.Fatalf("Sessions after expiry = %+v, %v; want none", list, err)
	}
}

func testTokenSaveErrors(t *testing.T, s store.Store) {
	ctx := t.Context()
	u := tokenUser(t, s)
	now := time.Now()
	mustSession(t, s, u, "s1", "h", now, time.Hour)
	err := s.CreateSession(ctx, store.Session{ID: "s2", UserID: u.ID, CreatedAt: now, LastSeen: now, ExpiresAt: now.Add(time.Hour)},
		store.RefreshToken{Hash: "h", ExpiresAt: now.Add(time.Hour)})
	wantErr(t, "saving a token hash twice", err, store.ErrConflict)
	if _, err := s.Session(ctx, "s2"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("a failed CreateSession left its session: %v", err)
	}
	err = s.CreateSession(ctx, store.Session{ID: "s1", UserID: u.ID, CreatedAt: now, LastSeen: now, ExpiresAt: now.Add(time.Hour)},
		store.RefreshToken{Hash: "h2", ExpiresAt: now.Add(time.Hour)})
	wantErr(t, "saving a session id twice", err, store.ErrConflict)
	err = s.CreateSession(ctx, store.Session{ID: "s3", UserID: u.ID + 1000, CreatedAt: now, LastSeen: now, ExpiresAt: now.Add(time.Hour)},
		store.RefreshToken{Hash: "h3", ExpiresAt: now.Add(time.Hour)})
	wantErr(t, "a session for a missing user", err, store.ErrNotFound)
}

func testSessionsListEnd(t *testing.T, s store.Store) {
	ctx := t.Context()
	u := tokenUser(t, s)
	other, err := s.CreateUser(ctx, "erin", "h")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC().Truncate(time.Millisecond)
	a := mustSession(t, s, u, "a", "ta", now, time.Hour)
	mustSession(t, s, u, "b", "tb", now.Add(time.Second), time.Hour)
	mustSession(t, s, other, "c", "tc", now, time.Hour)
	list, err := s.Sessions(ctx, u.ID, now)
	if err != nil || len(list) != 2 || list[0].ID != "a" || list[1].ID != "b" {
		t.Fatalf("Sessions = %+v, %v; want a, b", list, err)
	}
	if l := list[0]; l.UserAgent != a.UserAgent || !l.CreatedAt.Equal(a.CreatedAt) || !l.ExpiresAt.Equal(a.ExpiresAt) || l.UserID != u.ID {
		t.Fatalf("Sessions[0] = %+v, want %+v", l, a)
	}
	wantErr(t, "ending another user's session", s.EndSession(ctx, u.ID, "c"), store.ErrNotFound)
	if err := s.EndSession(ctx, u.ID, "a"); err != nil {
		t.Fatalf("EndSession: %v", err)
	}
	wantErr(t, "ending it twice", s.EndSession(ctx, u.ID, "a"), store.ErrNotFound)
	_, err = rotate(t, s, "ta", "ta2", now, time.Hour)
	wantErr(t, "rotating a token of an ended session", err, store.ErrNotFound)
	if got, err := s.Session(ctx, "a"); err != nil || !got.Ended() || got.ID != "a" {
		t.Fatalf("the ended session = %+v, %v; want it kept, ended", got, err)
	}
	if list, err := s.Sessions(ctx, u.ID, now); err != nil || len(list) != 1 || list[0].ID != "b" {
		t.Fatalf("Sessions after ending a = %+v, %v; want b", list, err)
	}
	if got, err := s.Session(ctx, "c"); err != nil || got.Ended() {
		t.Fatalf("the other user's session: %v", err)
	}
}

func testSessionsEndAll(t *testing.T, s store.Store) {
	ctx := t.Context()
	u := tokenUser(t, s)
	now := time.Now()
	for _, id := range []string{"a", "b", "c"} {
		mustSession(t, s, u, id, "t"+id, now, time.Hour)
	}
	ended, err := s.EndSessions(ctx, u.ID, "b")
	sort.Strings(ended)
	if err != nil || !slices.Equal(ended, []string{"a", "c"}) {
		t.Fatalf("EndSessions(except b) = %v, %v; want [a c]", ended, err)
	}
	if _, err := s.Session(ctx, "b"); err != nil {
		t.Fatalf("the kept session: %v", err)
	}
	ended, err = s.EndSessions(ctx, u.ID, "")
	if err != nil || !slices.Equal(ended, []string{"b"}) {
		t.Fatalf("EndSessions(all) = %v, %v; want [b]", ended, err)
	}
}

func testPurgeExpired(t *testing.T, s store.Store) {
	ctx := t.Context()
	u := tokenUser(t, s)
	now := time.Now()
	mustSession(t, s, u, "live", "t-live", now, time.Hour)
	mustSession(t, s, u, "tokgone", "t-old", now, time.Minute)
	mustSession(t, s, u, "ended", "t-ended", now, time.Hour)
	if err := s.EndSession(ctx, u.ID, "ended"); err != nil {
		t.Fatal(err)
	}
	n, err := s.PurgeExpired(ctx, now.Add(2*time.Minute), time.Hour)
	if err != nil || n != 1 {
		t.Fatalf("PurgeExpired = %d, %v; want 1 (the expired token)", n, err)
	}
	if _, err := s.SessionByToken(ctx, "t-old"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("an expired token survived the purge: %v", err)
	}
	if _, err := s.SessionByToken(ctx, "t-live"); err != nil {
		t.Fatalf("a live token went in the purge: %v", err)
	}
	if got, err := s.Session(ctx, "ended"); err != nil || !got.Ended() {
		t.Fatalf("a session ended less than keep ago = %+v, %v; want it kept", got, err)
	}
	// An hour after it ended: the ended session goes, the live ones stay.
	n, err = s.PurgeExpired(ctx, time.Now().Add(time.Hour+time.Second), time.Hour)
	if err != nil || n != 2 {
		t.Fatalf("PurgeExpired an hour later = %d, %v; want 2 (the ended session and the live token, now expired)", n, err)
	}
	if _, err := s.Session(ctx, "ended"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("an ended session survived the purge: %v", err)
	}
	if _, err := s.Session(ctx, "live"); err != nil {
		t.Fatalf("a session that expires within keep went: %v", err)
	}
	if _, err := s.PurgeExpired(ctx, now.Add(3*time.Hour), time.Hour); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Session(ctx, "live"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("a session expired longer than keep ago survived: %v", err)
	}
}

func testSetPassword(t *testing.T, s store.Store) {
	ctx := t.Context()
	u := tokenUser(t, s)
	if err := s.SetPasswordHash(ctx, u.ID, "new-hash"); err != nil {
		t.Fatalf("SetPasswordHash: %v", err)
	}
	got, err := s.UserByName(ctx, u.Name)
	if err != nil || got.PasswordHash != "new-hash" {
		t.Fatalf("after SetPasswordHash: %+v, %v", got, err)
	}
	wantErr(t, "SetPasswordHash of a missing user", s.SetPasswordHash(ctx, u.ID+1000, "x"), store.ErrNotFound)
}

func testDeleteUser(t *testing.T, s store.Store) {
	ctx := t.Context()
	u := tokenUser(t, s)
	now := time.Now()
	mustSession(t, s, u, "a", "ta", now, time.Hour)
	mustSession(t, s, u, "b", "tb", now, time.Hour)
	mustRoom(t, s, "lobby")
	if _, err := s.Join(ctx, "lobby", u.Name); err != nil {
		t.Fatal(err)
	}
	msg, _ := mustAppend(t, s, "lobby", u.Name, "hello", "c1")
	ended, heirs, err := s.DeleteUser(ctx, u.ID)
	sort.Strings(ended)
	if err != nil || !slices.Equal(ended, []string{"a", "b"}) || len(heirs) != 0 {
		t.Fatalf("DeleteUser = %v, %v, %v; want sessions [a b] and no heir", ended, heirs, err)
	}
	_, err = s.UserByName(ctx, u.Name)
	wantErr(t, "UserByName of a deleted user", err, store.ErrNotFound)
	_, err = s.CreateUser(ctx, strings.ToUpper(u.Name), "h")
	wantErr(t, "signing up with a deleted user's name", err, store.ErrConflict)
	_, err = rotate(t, s, "ta", "x", now, time.Hour)
	wantErr(t, "rotating a deleted user's token", err, store.ErrNotFound)
	wantErr(t, "SetPasswordHash of a deleted user", s.SetPasswordHash(ctx, u.ID, "x"), store.ErrNotFound)
	_, _, err = s.DeleteUser(ctx, u.ID)
	wantErr(t, "deleting a user twice", err, store.ErrNotFound)
	members, err := s.Members(ctx, "lobby")
	if err != nil || slices.Contains(members, u.Name) {
		t.Fatalf("Members after DeleteUser = %v, %v", members, err)
	}
	hist, err := s.History(ctx, "lobby", store.Page{Newest: true})
	if err != nil || len(hist) != 1 || hist[0].Author != u.Name || hist[0].Offset != msg.Offset {
		t.Fatalf("history after DeleteUser = %+v, %v; want the message kept", hist, err)
	}
}

func sameUser(a, b store.User) bool {
	return a.ID == b.ID && a.Name == b.Name && a.PasswordHash == b.PasswordHash && a.CreatedAt.Equal(b.CreatedAt)
}

func testEndedSessions(t *testing.T, s store.Store) {
	ctx := t.Context()
	u := tokenUser(t, s)
	now := time.Now()
	var ids, want []string
	// More than one batch of a backend that splits the list.
	for i := range 1203 {
		id := fmt.Sprintf("s%04d", i)
		ids = append(ids, id)
		if i%400 == 7 {
			mustSession(t, s, u, id, "t"+id, now, time.Hour)
			if err := s.EndSession(ctx, u.ID, id); err != nil {
				t.Fatal(err)
			}
			want = append(want, id)
		}
	}
	mustSession(t, s, u, "live", "t-live", now, time.Hour)
	ids = append(ids, "live")
	got, err := s.EndedSessions(ctx, ids)
	sort.Strings(got)
	if err != nil || !slices.Equal(got, want) {
		t.Fatalf("EndedSessions = %v, %v; want %v (ended, not live or unknown)", got, err, want)
	}
	if got, err := s.EndedSessions(ctx, nil); err != nil || len(got) != 0 {
		t.Fatalf("EndedSessions(none) = %v, %v", got, err)
	}
}
