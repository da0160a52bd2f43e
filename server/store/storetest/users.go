package storetest

import (
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
	{"SaveRotateDelete", testTokenRotate},
	{"RotateTwiceFails", testTokenRotateTwice},
	{"ExpiredFails", testTokenExpired},
	{"SaveErrors", testTokenSaveErrors},
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

func testTokenRotate(t *testing.T, s store.Store) {
	ctx := t.Context()
	u := tokenUser(t, s)
	now := time.Now()
	exp := now.Add(time.Hour)
	if err := s.SaveRefreshToken(ctx, store.RefreshToken{Hash: "t1", UserID: u.ID, ExpiresAt: exp}); err != nil {
		t.Fatalf("SaveRefreshToken: %v", err)
	}
	// next carries no user: it is saved for the old token's user.
	got, err := s.RotateRefreshToken(ctx, "t1", store.RefreshToken{Hash: "t2", ExpiresAt: exp}, now)
	if err != nil {
		t.Fatalf("RotateRefreshToken(t1): %v", err)
	}
	if !sameUser(got, u) {
		t.Fatalf("RotateRefreshToken returned %+v, want %+v", got, u)
	}
	if _, err := s.RotateRefreshToken(ctx, "t2", store.RefreshToken{Hash: "t3", ExpiresAt: exp}, now); err != nil {
		t.Fatalf("RotateRefreshToken(t2): %v", err)
	}
	if err := s.DeleteRefreshToken(ctx, "t3"); err != nil {
		t.Fatalf("DeleteRefreshToken: %v", err)
	}
	_, err = s.RotateRefreshToken(ctx, "t3", store.RefreshToken{Hash: "t4", ExpiresAt: exp}, now)
	wantErr(t, "rotating a deleted token", err, store.ErrNotFound)
	if err := s.DeleteRefreshToken(ctx, "t3"); err != nil {
		t.Fatalf("DeleteRefreshToken of a missing token: %v", err)
	}
}

func testTokenRotateTwice(t *testing.T, s store.Store) {
	ctx := t.Context()
	u := tokenUser(t, s)
	now := time.Now()
	exp := now.Add(time.Hour)
	if err := s.SaveRefreshToken(ctx, store.RefreshToken{Hash: "old", UserID: u.ID, ExpiresAt: exp}); err != nil {
		t.Fatalf("SaveRefreshToken: %v", err)
	}
	if _, err := s.RotateRefreshToken(ctx, "old", store.RefreshToken{Hash: "a", ExpiresAt: exp}, now); err != nil {
		t.Fatalf("RotateRefreshToken: %v", err)
	}
	_, err := s.RotateRefreshToken(ctx, "old", store.RefreshToken{Hash: "b", ExpiresAt: exp}, now)
	wantErr(t, "second rotation of one token", err, store.ErrNotFound)
	// The failed rotation saved nothing.
	_, err = s.RotateRefreshToken(ctx, "b", store.RefreshToken{Hash: "c", ExpiresAt: exp}, now)
	wantErr(t, "rotating the token a failed rotation offered", err, store.ErrNotFound)
}

func testTokenExpired(t *testing.T, s store.Store) {
	ctx := t.Context()
	u := tokenUser(t, s)
	now := time.Now()
	if err := s.SaveRefreshToken(ctx, store.RefreshToken{Hash: "stale", UserID: u.ID, ExpiresAt: now.Add(-time.Second)}); err != nil {
		t.Fatalf("SaveRefreshToken: %v", err)
	}
	if err := s.SaveRefreshToken(ctx, store.RefreshToken{Hash: "edge", UserID: u.ID, ExpiresAt: now.Add(time.Second)}); err != nil {
		t.Fatalf("SaveRefreshToken: %v", err)
	}
	next := store.RefreshToken{Hash: "next", ExpiresAt: now.Add(time.Hour)}
	_, err := s.RotateRefreshToken(ctx, "stale", next, now)
	wantErr(t, "rotating an expired token", err, store.ErrNotFound)
	// Still valid now, expired a little later.
	_, err = s.RotateRefreshToken(ctx, "edge", next, now.Add(2*time.Second))
	wantErr(t, "rotating a token at a time past its expiry", err, store.ErrNotFound)
	_, err = s.RotateRefreshToken(ctx, "next", store.RefreshToken{Hash: "x", ExpiresAt: now.Add(time.Hour)}, now)
	wantErr(t, "rotating the token failed rotations offered", err, store.ErrNotFound)
	if _, err := s.RotateRefreshToken(ctx, "edge", next, now); err != nil {
		t.Fatalf("rotating a token before its expiry: %v", err)
	}
}

func testTokenSaveErrors(t *testing.T, s store.Store) {
	ctx := t.Context()
	u := tokenUser(t, s)
	exp := time.Now().Add(time.Hour)
	if err := s.SaveRefreshToken(ctx, store.RefreshToken{Hash: "h", UserID: u.ID, ExpiresAt: exp}); err != nil {
		t.Fatalf("SaveRefreshToken: %v", err)
	}
	err := s.SaveRefreshToken(ctx, store.RefreshToken{Hash: "h", UserID: u.ID, ExpiresAt: exp})
	wantErr(t, "saving a token hash twice", err, store.ErrConflict)
	err = s.SaveRefreshToken(ctx, store.RefreshToken{Hash: "orphan", UserID: u.ID + 1000, ExpiresAt: exp})
	wantErr(t, "saving a token for a missing user", err, store.ErrNotFound)
}

func sameUser(a, b store.User) bool {
	return a.ID == b.ID && a.Name == b.Name && a.PasswordHash == b.PasswordHash && a.CreatedAt.Equal(b.CreatedAt)
}
