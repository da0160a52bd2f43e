package auth

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/parleychat/parley/server/store"
	"github.com/parleychat/parley/shared/protocol"
	"github.com/parleychat/parley/shared/testenv"
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
	sess, err := s.Signup(ctx, "Alice", "password1", "test agent")
	if err != nil {
		t.Fatal(err)
	}
	if sess.User != "Alice" || sess.AccessToken == "" || len(sess.RefreshToken) != 43 {
		t.Fatalf("session = %+v", sess)
	}
	c, err := s.Verify(ctx, sess.AccessToken)
	if err != nil || c.User != "Alice" || c.ExpiresAt.UnixMilli() != sess.ExpiresAt || c.Session == "" {
		t.Fatalf("Verify = %+v, %v", c, err)
	}
	u, err := st.UserByName(ctx, "alice")
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := CheckPassword(u.PasswordHash, "password1"); !ok || err != nil {
		t.Fatalf("stored hash does not check: %v %v", ok, err)
	}

	// Login in another letter case returns the canonical name.
	sess2, err := s.Login(ctx, "ALICE", "password1", "test agent")
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
	if _, err := s.Signup(ctx, "bob", "password1", "test agent"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Signup(ctx, "BoB", "password2", "test agent"); !errors.Is(err, ErrUsernameTaken) {
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
		if _, err := s.Signup(ctx, c[0], c[1], ""); !errors.As(err, &de) {
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
	if _, err := s.Signup(ctx, "dave", "password1", "test agent"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Login(ctx, "dave", "password2", "test agent"); !errors.Is(err, ErrInvalidCredentials) {
		t.Errorf("wrong password: %v", err)
	}
	if _, err := s.Login(ctx, "nobody", "password1", "test agent"); !errors.Is(err, ErrInvalidCredentials) {
		t.Errorf("unknown user: %v", err)
	}
	var de *protocol.DecodeError
	if _, err := s.Login(ctx, "dave", "", "test agent"); !errors.As(err, &de) {
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
	if _, err := s.Login(ctx, "nobody", "password1", "test agent"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("unknown-user login did not wait for a hash slot: %v", err)
	}
}

func TestRefreshRotatesAndLogoutRevokes(t *testing.T) {
	s, _, clk := newTestService(t)
	ctx := context.Background()
	first, err := s.Signup(ctx, "erin", "password1", "test agent")
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
	sess, err := s.Signup(ctx, "frank", "password1", "test agent")
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
	sess, err := s.Signup(context.Background(), "grace", "password1", "test agent")
	if err != nil {
		t.Fatal(err)
	}
	clk.Advance(s.AccessTTL() - time.Second)
	if _, err := s.Verify(context.Background(), sess.AccessToken); err != nil {
		t.Fatalf("before expiry: %v", err)
	}
	clk.Advance(2 * time.Second)
	if _, err := s.Verify(context.Background(), sess.AccessToken); !errors.Is(err, ErrTokenExpired) {
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

// sessionService is a Service whose Ended notifications are recorded.
func sessionService(t *testing.T) (*Service, *store.SQLite, *clock, *endedLog) {
	t.Helper()
	st := openStore(t)
	clk := testenv.NewClock(time.Now())
	log := &endedLog{}
	s, err := New(Config{Store: st, Keys: testRing(t, testKey(t, "k1")), Params: testParams, Now: clk.Now, Ended: log.add})
	if err != nil {
		t.Fatal(err)
	}
	return s, st, clk, log
}

type endedLog struct {
	mu  sync.Mutex
	ids []string
}

func (l *endedLog) add(ids []string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.ids = append(l.ids, ids...)
}

func (l *endedLog) take() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	ids := l.ids
	l.ids = nil
	sort.Strings(ids)
	return ids
}

func claimsOf(t *testing.T, s *Service, sess protocol.Session) Claims {
	t.Helper()
	c, err := s.Verify(context.Background(), sess.AccessToken)
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	return c
}

func TestRefreshReplayEndsFamily(t *testing.T) {
	s, _, clk, ended := sessionService(t)
	ctx := context.Background()
	first, err := s.Signup(ctx, "erin", "password1", "agent")
	if err != nil {
		t.Fatal(err)
	}
	sid := claimsOf(t, s, first).Session
	// Two tabs race on the first token: both win within the grace window.
	a, err := s.Refresh(ctx, first.RefreshToken)
	if err != nil {
		t.Fatal(err)
	}
	clk.Advance(DefaultReuseGrace / 2)
	b, err := s.Refresh(ctx, first.RefreshToken)
	if err != nil {
		t.Fatalf("second tab within the grace window: %v", err)
	}
	if claimsOf(t, s, a).Session != sid || claimsOf(t, s, b).Session != sid {
		t.Fatal("refreshing changed the session id")
	}
	// Past the grace window, a replay ends the whole family.
	clk.Advance(DefaultReuseGrace)
	if _, err := s.Refresh(ctx, first.RefreshToken); !errors.Is(err, ErrInvalidRefreshToken) {
		t.Fatalf("replay: %v", err)
	}
	if got := ended.take(); !slices.Equal(got, []string{sid}) {
		t.Fatalf("ended = %v, want [%s]", got, sid)
	}
	for name, tok := range map[string]string{"a": a.RefreshToken, "b": b.RefreshToken} {
		if _, err := s.Refresh(ctx, tok); !errors.Is(err, ErrInvalidRefreshToken) {
			t.Errorf("refresh %s after the replay: %v", name, err)
		}
	}
	if _, err := s.Verify(ctx, a.AccessToken); !errors.Is(err, ErrSessionEnded) || CloseCode(err) != protocol.CloseSessionEnded {
		t.Fatalf("access token of the ended family: %v", err)
	}
}

func TestSessionAbsoluteLifetime(t *testing.T) {
	st := openStore(t)
	clk := testenv.NewClock(time.Now())
	s, err := New(Config{Store: st, Keys: testRing(t, testKey(t, "k1")), Params: testParams, Now: clk.Now, SessionTTL: time.Hour, RefreshTTL: 40 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	sess, err := s.Signup(ctx, "lou", "password1", "")
	if err != nil {
		t.Fatal(err)
	}
	end := clk.Now().Add(time.Hour)
	// Refreshing every 25 minutes keeps the refresh token alive, but not
	// past the session's hour.
	for range 2 {
		clk.Advance(25 * time.Minute)
		if sess, err = s.Refresh(ctx, sess.RefreshToken); err != nil {
			t.Fatal(err)
		}
	}
	if exp := time.UnixMilli(sess.ExpiresAt); exp.After(end.Add(time.Second)) {
		t.Fatalf("an access token signed 10 minutes before the session ends expires at %v, after it (%v)", exp, end)
	}
	clk.Advance(11 * time.Minute)
	if _, err := s.Refresh(ctx, sess.RefreshToken); !errors.Is(err, ErrInvalidRefreshToken) {
		t.Fatalf("refresh past the absolute lifetime: %v", err)
	}
}

func TestAccountOperations(t *testing.T) {
	s, st, _, ended := sessionService(t)
	ctx := context.Background()
	one, err := s.Signup(ctx, "mia", "password1", "Firefox")
	if err != nil {
		t.Fatal(err)
	}
	two, err := s.Login(ctx, "mia", "password1", "Chromium")
	if err != nil {
		t.Fatal(err)
	}
	three, err := s.Login(ctx, "mia", "password1", "curl\x00\n")
	if err != nil {
		t.Fatal(err)
	}
	c1, c2, c3 := claimsOf(t, s, one), claimsOf(t, s, two), claimsOf(t, s, three)
	list, err := s.Sessions(ctx, c2)
	if err != nil || len(list) != 3 {
		t.Fatalf("Sessions = %+v, %v", list, err)
	}
	for _, si := range list {
		if si.Current != (si.ID == c2.Session) {
			t.Errorf("session %s current = %v", si.ID, si.Current)
		}
		if si.ID == c3.Session && si.UserAgent != "curl" {
			t.Errorf("user agent kept as %q", si.UserAgent)
		}
	}
	// End one: only it.
	if err := s.EndSession(ctx, c2, c1.Session); err != nil {
		t.Fatal(err)
	}
	if got := ended.take(); !slices.Equal(got, []string{c1.Session}) {
		t.Fatalf("ended = %v", got)
	}
	if err := s.EndSession(ctx, c2, c1.Session); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("ending it twice: %v", err)
	}
	// Change password: a wrong current one changes nothing.
	if err := s.ChangePassword(ctx, c2, "wrong-password", "password2"); !errors.Is(err, ErrInvalidCredentials) {
		t.Fatalf("wrong current password: %v", err)
	}
	var de *protocol.DecodeError
	if err := s.ChangePassword(ctx, c2, "password1", "x"); !errors.As(err, &de) {
		t.Fatalf("too short a new password: %v", err)
	}
	if got := ended.take(); len(got) != 0 {
		t.Fatalf("refused changes ended %v", got)
	}
	if err := s.ChangePassword(ctx, c2, "password1", "password2"); err != nil {
		t.Fatal(err)
	}
	if got := ended.take(); !slices.Equal(got, []string{c3.Session}) {
		t.Fatalf("password change ended %v, want the other session %s", got, c3.Session)
	}
	if _, err := s.Verify(ctx, two.AccessToken); err != nil {
		t.Fatalf("the session that changed the password: %v", err)
	}
	if _, err := s.Login(ctx, "mia", "password1", ""); !errors.Is(err, ErrInvalidCredentials) {
		t.Fatalf("old password after the change: %v", err)
	}
	four, err := s.Login(ctx, "mia", "password2", "")
	if err != nil {
		t.Fatalf("new password: %v", err)
	}
	// Sign out everywhere.
	if err := s.EndAllSessions(ctx, c2); err != nil {
		t.Fatal(err)
	}
	if got := ended.take(); len(got) != 2 {
		t.Fatalf("sign out everywhere ended %v, want two sessions", got)
	}
	for _, sess := range []protocol.Session{two, four} {
		if _, err := s.Verify(ctx, sess.AccessToken); !errors.Is(err, ErrSessionEnded) {
			t.Fatalf("after sign out everywhere: %v", err)
		}
	}
	// Delete the account.
	five, err := s.Login(ctx, "mia", "password2", "")
	if err != nil {
		t.Fatal(err)
	}
	c5 := claimsOf(t, s, five)
	if _, err := s.DeleteAccount(ctx, c5, "password1"); !errors.Is(err, ErrInvalidCredentials) {
		t.Fatalf("delete with a wrong password: %v", err)
	}
	if _, err := s.DeleteAccount(ctx, c5, "password2"); err != nil {
		t.Fatal(err)
	}
	if got := ended.take(); !slices.Equal(got, []string{c5.Session}) {
		t.Fatalf("delete ended %v", got)
	}
	if _, err := s.Login(ctx, "mia", "password2", ""); !errors.Is(err, ErrInvalidCredentials) {
		t.Fatalf("login to a deleted account: %v", err)
	}
	if _, err := s.Signup(ctx, "MIA", "password1", ""); !errors.Is(err, ErrUsernameTaken) {
		t.Fatalf("signup with a deleted account's name: %v", err)
	}
	if _, err := st.UserByName(ctx, "mia"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("deleted user still found: %v", err)
	}
}

func TestSessionCheckCache(t *testing.T) {
	s, st, clk, _ := sessionService(t)
	ctx := context.Background()
	sess, err := s.Signup(ctx, "ned", "password1", "")
	if err != nil {
		t.Fatal(err)
	}
	c := claimsOf(t, s, sess) // caches "live"
	u, err := st.UserByName(ctx, "ned")
	if err != nil {
		t.Fatal(err)
	}
	// Another node ends the session: this node's cache still says live…
	if err := st.EndSession(ctx, u.ID, c.Session); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Verify(ctx, sess.AccessToken); err != nil {
		t.Fatalf("within the cache time: %v", err)
	}
	// …until the broadcast makes it forget,
	s.Forget([]string{c.Session})
	if _, err := s.Verify(ctx, sess.AccessToken); !errors.Is(err, ErrSessionEnded) {
		t.Fatalf("after Forget: %v", err)
	}
	// or the cache time passes.
	two, err := s.Login(ctx, "ned", "password1", "")
	if err != nil {
		t.Fatal(err)
	}
	c2 := claimsOf(t, s, two)
	if err := st.EndSession(ctx, u.ID, c2.Session); err != nil {
		t.Fatal(err)
	}
	clk.Advance(DefaultCheckCache)
	if _, err := s.Verify(ctx, two.AccessToken); !errors.Is(err, ErrSessionEnded) {
		t.Fatalf("after the cache time: %v", err)
	}
	if ended, err := s.SessionEnded(ctx, c2.Session); err != nil || !ended {
		t.Fatalf("SessionEnded = %v, %v", ended, err)
	}
}

func TestSweep(t *testing.T) {
	s, st, clk, _ := sessionService(t)
	ctx := context.Background()
	sess, err := s.Signup(ctx, "olga", "password1", "")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Logout(ctx, sess.RefreshToken); err != nil {
		t.Fatal(err)
	}
	c, err := s.keys.Verify(sess.AccessToken, clk.Now())
	if err != nil {
		t.Fatal(err)
	}
	if n, err := s.Sweep(ctx); err != nil || n != 0 {
		t.Fatalf("Sweep right after logout = %d, %v; want the ended session kept", n, err)
	}
	// The ended session is kept while its access token could be valid.
	if _, err := st.Session(ctx, c.Session); err != nil {
		t.Fatal(err)
	}
	clk.Advance(s.AccessTTL() + 2*time.Minute)
	if n, err := s.Sweep(ctx); err != nil || n != 1 {
		t.Fatalf("Sweep later = %d, %v; want 1", n, err)
	}
}
