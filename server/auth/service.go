package auth

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync/atomic"
	"time"

	"github.com/parleychat/parley/server/budget"
	"github.com/parleychat/parley/server/store"
	"github.com/parleychat/parley/shared/protocol"
)

// Config configures a Service. Store and Keys are required.
type Config struct {
	Store store.Store
	Keys  *Keyring
	// AccessTTL defaults to DefaultAccessTTL, RefreshTTL (how long an
	// unused refresh token lives) to DefaultRefreshTTL, SessionTTL (the
	// absolute lifetime of a sign-in, however often it refreshes) to
	// DefaultSessionTTL, ReuseGrace (how long a rotated refresh token
	// still rotates, for two tabs racing on it) to DefaultReuseGrace and
	// CheckCache (how long a node trusts what it learned about a session)
	// to DefaultCheckCache.
	AccessTTL  time.Duration
	RefreshTTL time.Duration
	SessionTTL time.Duration
	ReuseGrace time.Duration
	CheckCache time.Duration
	// Ended is told the ids of sessions this service ended, after the
	// store has recorded it: the node broadcasts them so that every node
	// closes their sockets. May be nil.
	Ended func(ids []string)
	// Params are the argon2id costs for new hashes; zero means
	// DefaultParams. Existing hashes are checked with their own.
	Params Params
	// MaxConcurrentHashes bounds password hashes running at once (each
	// takes Params.Memory); default GOMAXPROCS. Up to HashQueue more
	// callers wait for a slot (honouring their context; default
	// DefaultHashQueue); beyond that a caller gets ErrBusy at once.
	MaxConcurrentHashes int
	HashQueue           int
	// Hashing, when set, is called in a hash slot before each hash runs
	// (tests hold slots with it).
	Hashing func()
	// ReleaseMemory is how long after the last hash of a burst the
	// memory the hashes took is handed back to the operating system
	// (default DefaultReleaseMemory; negative: never). Each hash takes
	// Params.Memory; the Go runtime would keep it for minutes.
	ReleaseMemory time.Duration
	// Backoff slows down password guessing against one account (login,
	// and the password checks of password change and account deletion),
	// whatever addresses the guesses come from; default a MemoryBackoff
	// with budget.DefaultPolicy.
	Backoff budget.Backoff
	// Now is the clock; default time.Now.
	Now func() time.Time
}

// Service signs users up and in, and issues, refreshes, revokes and
// verifies their tokens. It is safe for concurrent use.
type Service struct {
	store      store.Store
	keys       *Keyring
	accessTTL  time.Duration
	refreshTTL time.Duration
	sessionTTL time.Duration
	reuseGrace time.Duration
	ended      func(ids []string)
	checks     *checkCache
	params     Params
	now        func() time.Time
	hashSlots  chan struct{}
	// hashesIn counts hashes running and waiting for a slot; at most
	// cap(hashSlots)+hashQueue.
	hashesIn  atomic.Int64
	hashQueue int64
	hashing   func()
	release   *releaser
	backoff   budget.Backoff
	// dummyHash is checked when a login names an unknown user, so the
	// answer takes as long as for a wrong password.
	dummyHash string
}

// New returns a Service. It hashes one throwaway password (for the timing
// of unknown-user logins), so it takes one hash's time.
func New(cfg Config) (*Service, error) {
	if cfg.Store == nil || cfg.Keys == nil {
		return nil, errors.New("new auth service: Store and Keys are required")
	}
	s := &Service{
		store:      cfg.Store,
		keys:       cfg.Keys,
		accessTTL:  orDefault(cfg.AccessTTL, DefaultAccessTTL),
		refreshTTL: orDefault(cfg.RefreshTTL, DefaultRefreshTTL),
		sessionTTL: orDefault(cfg.SessionTTL, DefaultSessionTTL),
		reuseGrace: orDefault(cfg.ReuseGrace, DefaultReuseGrace),
		ended:      cfg.Ended,
		params:     cfg.Params,
		now:        cfg.Now,
	}
	if s.ended == nil {
		s.ended = func([]string) {}
	}
	if s.params == (Params{}) {
		s.params = DefaultParams
	}
	if s.now == nil {
		s.now = time.Now
	}
	s.checks = newCheckCache(orDefault(cfg.CheckCache, DefaultCheckCache), s.now)
	n := cfg.MaxConcurrentHashes
	if n <= 0 {
		n = runtime.GOMAXPROCS(0)
	}
	s.hashSlots = make(chan struct{}, n)
	s.hashQueue = int64(cfg.HashQueue)
	if cfg.HashQueue <= 0 {
		s.hashQueue = DefaultHashQueue
	}
	s.hashing = cfg.Hashing
	s.release = newReleaser(cfg.ReleaseMemory)
	s.backoff = cfg.Backoff
	if s.backoff == nil {
		s.backoff = budget.NewMemoryBackoff(budget.DefaultPolicy, s.now)
	}
	dummy, err := HashPasswordWith(s.params, "parley-dummy-password")
	if err != nil {
		return nil, fmt.Errorf("new auth service: %w", err)
	}
	s.dummyHash = dummy
	s.release.schedule(func() bool { return s.hashesIn.Load() == 0 })
	return s, nil
}

func orDefault(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

// AccessTTL returns how long the access tokens it issues are valid.
func (s *Service) AccessTTL() time.Duration { return s.accessTTL }

// RefreshTTL returns how long an unused refresh token stays valid.
func (s *Service) RefreshTTL() time.Duration { return s.refreshTTL }

// Signup creates an account and returns its first session. Invalid input is
// a *protocol.DecodeError; a taken name (in any case) is ErrUsernameTaken.
func (s *Service) Signup(ctx context.Context, username, password, userAgent string) (protocol.Session, error) {
	if err := protocol.CheckUsername(username); err != nil {
		return protocol.Session{}, err
	}
	if err := protocol.CheckPassword(password); err != nil {
		return protocol.Session{}, err
	}
	var hash string
	err := s.withHashSlot(ctx, func() (err error) {
		hash, err = HashPasswordWith(s.params, password)
		return err
	})
	if err != nil {
		return protocol.Session{}, fmt.Errorf("signup: %w", err)
	}
	u, err := s.store.CreateUser(ctx, username, hash)
	if errors.Is(err, store.ErrConflict) {
		return protocol.Session{}, ErrUsernameTaken
	}
	if err != nil {
		return protocol.Session{}, fmt.Errorf("signup: %w", err)
	}
	return s.newSession(ctx, u, userAgent)
}

// Login checks a username (case-insensitively) and password and returns a
// new session. Unknown user and wrong password are both
// ErrInvalidCredentials and take the same time. userAgent is kept to
// name the session in the user's session list.
func (s *Service) Login(ctx context.Context, username, password, userAgent string) (protocol.Session, error) {
	if err := protocol.CheckUsername(username); err != nil {
		return protocol.Session{}, err
	}
	if password == "" {
		return protocol.Session{}, &protocol.DecodeError{Code: protocol.ErrBadRequest, Msg: "password is required"}
	}
	if len(password) > protocol.MaxPasswordLen {
		return protocol.Session{}, protocol.CheckPassword(password)
	}
	account := strings.ToLower(username)
	if wait := s.backoff.Wait(ctx, account); wait > 0 {
		return protocol.Session{}, &ThrottledError{Wait: wait}
	}
	u, err := s.store.UserByName(ctx, username)
	encoded := u.PasswordHash
	switch {
	case errors.Is(err, store.ErrNotFound):
		encoded = s.dummyHash
	case err != nil:
		return protocol.Session{}, fmt.Errorf("login: %w", err)
	}
	var ok bool
	err = s.withHashSlot(ctx, func() (err error) {
		ok, err = CheckPassword(encoded, password)
		return err
	})
	if err != nil {
		return protocol.Session{}, fmt.Errorf("login: check password of %q: %w", username, err)
	}
	if !ok || u.Name == "" {
		s.backoff.Failed(ctx, account)
		return protocol.Session{}, ErrInvalidCredentials
	}
	s.backoff.Succeeded(ctx, account)
	return s.newSession(ctx, u, userAgent)
}

// Refresh exchanges a refresh token for a new one in the same session,
// and a new access token. A bad, expired or ended token is
// ErrInvalidRefreshToken. A token that was already rotated more than
// ReuseGrace ago is a replay (one of the two holders is a thief): the
// whole session ends, on every node, and the answer is
// ErrInvalidRefreshToken too.
func (s *Service) Refresh(ctx context.Context, refreshToken string) (protocol.Session, error) {
	if !wellFormedRefresh(refreshToken) {
		return protocol.Session{}, ErrInvalidRefreshToken
	}
	next, nextHash, err := newRefreshToken()
	if err != nil {
		return protocol.Session{}, err
	}
	now := s.now()
	rt := store.RefreshToken{Hash: nextHash, ExpiresAt: now.Add(s.refreshTTL)}
	rot, err := s.store.RotateRefreshToken(ctx, hashRefreshToken(refreshToken), rt, now, s.reuseGrace)
	switch {
	case errors.Is(err, store.ErrReplayed):
		s.endedIDs([]string{rot.Session.ID})
		return protocol.Session{}, fmt.Errorf("%w: replayed; session ended", ErrInvalidRefreshToken)
	case errors.Is(err, store.ErrNotFound):
		return protocol.Session{}, ErrInvalidRefreshToken
	case err != nil:
		return protocol.Session{}, fmt.Errorf("refresh: %w", err)
	}
	return s.session(rot.User.Name, rot.Session, next, now)
}

// Logout ends the session a refresh token belongs to, on every node.
// Ending an unknown, malformed or ended token's session is not an error,
// so logging out twice is harmless.
func (s *Service) Logout(ctx context.Context, refreshToken string) error {
	if !wellFormedRefresh(refreshToken) {
		return nil
	}
	sess, err := s.store.SessionByToken(ctx, hashRefreshToken(refreshToken))
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("logout: %w", err)
	}
	return s.endOne(ctx, sess.UserID, sess.ID)
}

// Verify checks an access token and that its session has not ended, and
// returns its claims. Errors wrap ErrTokenExpired, ErrTokenInvalid or
// ErrSessionEnded (see CloseCode), or are a store failure. What a node
// learned about a session is cached for CheckCache, or until Forget.
func (s *Service) Verify(ctx context.Context, token string) (Claims, error) {
	c, err := s.keys.Verify(token, s.now())
	if err != nil {
		return Claims{}, err
	}
	if err := s.checkSession(ctx, c.Session); err != nil {
		return Claims{}, err
	}
	return c, nil
}

// newSession starts a session for u and signs its first tokens.
func (s *Service) newSession(ctx context.Context, u store.User, userAgent string) (protocol.Session, error) {
	token, hash, err := newRefreshToken()
	if err != nil {
		return protocol.Session{}, err
	}
	sid, err := newSessionID()
	if err != nil {
		return protocol.Session{}, err
	}
	now := s.now()
	sess := store.Session{ID: sid, UserID: u.ID, UserAgent: clipAgent(userAgent), CreatedAt: now, LastSeen: now, ExpiresAt: now.Add(s.sessionTTL)}
	rt := store.RefreshToken{Hash: hash, ExpiresAt: now.Add(s.refreshTTL)}
	if err := s.store.CreateSession(ctx, sess, rt); err != nil {
		return protocol.Session{}, fmt.Errorf("save session: %w", err)
	}
	return s.session(u.Name, sess, token, now)
}

// session signs an access token for user in sess. Neither token outlives
// the session: the stored refresh token is capped by the store's check of
// the session's expiry, the access token here.
func (s *Service) session(user string, sess store.Session, refreshToken string, now time.Time) (protocol.Session, error) {
	ttl := min(s.accessTTL, sess.ExpiresAt.Sub(now))
	access, exp, err := s.keys.Sign(user, sess.ID, now, ttl)
	if err != nil {
		return protocol.Session{}, err
	}
	return protocol.Session{
		User:         user,
		AccessToken:  access,
		RefreshToken: refreshToken,
		ExpiresAt:    exp.UnixMilli(),
	}, nil
}

// withHashSlot runs fn once fewer than MaxConcurrentHashes hashes run. It
// answers ErrBusy at once when HashQueue callers wait already.
func (s *Service) withHashSlot(ctx context.Context, fn func() error) error {
	if s.hashesIn.Add(1) > int64(cap(s.hashSlots))+s.hashQueue {
		s.hashDone()
		return ErrBusy
	}
	defer s.hashDone()
	select {
	case s.hashSlots <- struct{}{}:
	case <-ctx.Done():
		return fmt.Errorf("wait for hash slot: %w", ctx.Err())
	}
	defer func() { <-s.hashSlots }()
	if s.hashing != nil {
		s.hashing()
	}
	return fn()
}

// hashDone counts a hash out; the last of a burst schedules handing its
// memory back.
func (s *Service) hashDone() {
	if s.hashesIn.Add(-1) == 0 {
		s.release.schedule(func() bool { return s.hashesIn.Load() == 0 })
	}
}

// HashLoad returns how many password hashes run and how many wait for a
// slot now.
func (s *Service) HashLoad() (running, waiting int) {
	running = len(s.hashSlots)
	return running, max(int(s.hashesIn.Load())-running, 0)
}
