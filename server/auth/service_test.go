package auth

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/parleychat/parley/internal/testenv"
	"github.com/parleychat/parley/server/store"
	"github.com/parleychat/parley/shared/protocol"
)

// clock is a settable time source.
type clock = testenv.Clock

func openStore(t *testing.T) *store.SQLite {
	t.Helper()
	st, err := store.OpenSQLite(context.Background(), filepath.Join(t.TempDir(), "parley.db"))
	if err != nil {
		t.Fatalf("open sqlite store: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func newTestService(t *testing.T) (*Service, *store.SQLite, *clock) {
	t.Helper()
	st := openStore(t)
	clk := testenv.NewClock(time.Now())
	s, err := New(Config{Store: st, Keys: testRing(t, testKey(t, "k1")), Params: testParams, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	return s, st, clk
}

func TestSignupLoginVerify(t *testing.T) {
	s, st, _ := newTestService(t)
	ctx := context.Background()
	sess, err := s.Signup(ctx, "Alice", "password1")
	if err != nil {
		t.Fatal(err)
	}
	if sess.User != "Alice" || sess.AccessToken == "" || len(sess.RefreshToken) != 43 {
		t.Fatalf("session = %+v", sess)
	}
	user, exp, err := s.Verify(sess.AccessToken)
	if err != nil || user != "Alice" || exp.UnixMilli() != sess.ExpiresAt {
		t.Fatalf("Verify = %q, %v, %v", user, exp, err)
	}
	u, err := st.UserByName(ctx, "alice")
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := CheckPassword(u.PasswordHash, "password1"); !ok || err != nil {
		t.Fatalf("stored hash does not check: %v %v", ok, err)
	}

	// Login in another letter case returns the canonical name.
	sess2, err := s.Login(ctx, "ALICE", "password1")
	if err != nil || sess2.User != "Alice" {
		t.Fatalf("Login = %+v, %v", sess2, err)
	}
	if sess2.RefreshToken == sess.RefreshToken {
		t.Error("login reused a refresh token")
	}
}

func TestSignupErrors(t *testing.T) {
	s, st, _ := newTestService(t)
	ctx := context.Background()
	if _, err := s.Signup(ctx, "bob", "password1"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Signup(ctx, "BoB", "password2"); !errors.Is(err, ErrUsernameTaken) {
		t.Fatalf("duplicate in other case: %v", err)
	}
	for name, c := range map[string][2]string{
		"short name":     {"ab", "password1"},
		"bad char":       {"a b c", "password1"},
		"long name":      {"abcdefghijklmnopqrstuvwxyz0123456789", "password1"},
		"short password": {"carol", "short"},
		"long password":  {"carol", string(make([]byte, protocol.MaxPasswordLen+1))},
	} {
		var de *protocol.DecodeError
		if _, err := s.Signup(ctx, c[0], c[1]); !errors.As(err, &de) {
			t.Errorf("%s: err = %v, want *protocol.DecodeError", name, err)
		}
	}
	if _, err := st.UserByName(ctx, "carol"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("rejected signup stored a user: %v", err)
	}
}

func TestLoginFailures(t *testing.T) {
	s, _, _ := newTestService(t)
	ctx := context.Background()
	if _, err := s.Signup(ctx, "dave", "password1"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Login(ctx, "dave", "password2"); !errors.Is(err, ErrInvalidCredentials) {
		t.Errorf("wrong password: %v", err)
	}
	if _, err := s.Login(ctx, "nobody", "password1"); !errors.Is(err, ErrInvalidCredentials) {
		t.Errorf("unknown user: %v", err)
	}
	var de *protocol.DecodeError
	if _, err := s.Login(ctx, "dave", ""); !errors.As(err, &de) {
		t.Errorf("empty password: %v", err)
	}
}

// TestUnknownUserSpendsHash shows a login for an unknown user waits for a
// hash slot like any other, i.e. it does hash.
func TestUnknownUserSpendsHash(t *testing.T) {
	st := openStore(t)
	s, err := New(Config{Store: st, Keys: testRing(t, testKey(t, "k1")), Params: testParams, MaxConcurrentHashes: 1})
	if err != nil {
		t.Fatal(err)
	}
	s.hashSlots <- struct{}{} // occupy the only slot
	defer func() { <-s.hashSlots }()
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := s.Login(ctx, "nobody", "password1"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("unknown-user login did not wait for a hash slot: %v", err)
	}
}

func TestRefreshRotatesAndLogoutRevokes(t *testing.T) {
	s, _, clk := newTestService(t)
	ctx := context.Background()
	first, err := s.Signup(ctx, "erin", "password1")
	if err != nil {
		t.Fatal(err)
	}
	clk.Advance(time.Minute)
	second, err := s.Refresh(ctx, first.RefreshToken)
	if err != nil {
		t.Fatal(err)
	}
	if second.User != "erin" || second.RefreshToken == first.RefreshToken || second.ExpiresAt <= first.ExpiresAt {
		t.Fatalf("refreshed session = %+v (first %+v)", second, first)
	}
	if _, err := s.Refresh(ctx, first.RefreshToken); !errors.Is(err, ErrInvalidRefreshToken) {
		t.Fatalf("reused refresh token: %v", err)
	}
	if err := s.Logout(ctx, second.RefreshToken); err != nil {
		t.Fatal(err)
	}
	if err := s.Logout(ctx, second.RefreshToken); err != nil {
		t.Fatalf("second logout: %v", err)
	}
	if _, err := s.Refresh(ctx, second.RefreshToken); !errors.Is(err, ErrInvalidRefreshToken) {
		t.Fatalf("refresh after logout: %v", err)
	}
	for _, bad := range []string{"", "short", string(make([]byte, 43))} {
		if _, err := s.Refresh(ctx, bad); !errors.Is(err, ErrInvalidRefreshToken) {
			t.Errorf("Refresh(%q): %v", bad, err)
		}
	}
}

func TestRefreshTokenExpires(t *testing.T) {
	s, _, clk := newTestService(t)
	ctx := context.Background()
	sess, err := s.Signup(ctx, "frank", "password1")
	if err != nil {
		t.Fatal(err)
	}
	clk.Advance(DefaultRefreshTTL + time.Second)
	if _, err := s.Refresh(ctx, sess.RefreshToken); !errors.Is(err, ErrInvalidRefreshToken) {
		t.Fatalf("expired refresh token: %v", err)
	}
}

func TestServiceVerifyExpiry(t *testing.T) {
	s, _, clk := newTestService(t)
	sess, err := s.Signup(context.Background(), "grace", "password1")
	if err != nil {
		t.Fatal(err)
	}
	clk.Advance(s.AccessTTL() - time.Second)
	if _, _, err := s.Verify(sess.AccessToken); err != nil {
		t.Fatalf("before expiry: %v", err)
	}
	clk.Advance(2 * time.Second)
	if _, _, err := s.Verify(sess.AccessToken); !errors.Is(err, ErrTokenExpired) {
		t.Fatalf("after expiry: %v", err)
	}
}

func TestNewRequiresStoreAndKeys(t *testing.T) {
	if _, err := New(Config{Keys: testRing(t, testKey(t, "k"))}); err == nil {
		t.Error("no store accepted")
	}
	if _, err := New(Config{Store: openStore(t)}); err == nil {
		t.Error("no keys accepted")
	}
}
