package auth

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"time"

	"github.com/parleychat/parley/server/store"
	"github.com/parleychat/parley/shared/protocol"
)

// Config configures a Service. Store and Keys are required.
type Config struct {
	Store store.Store
	Keys  *Keyring
	// AccessTTL defaults to DefaultAccessTTL, RefreshTTL to
	// DefaultRefreshTTL.
	AccessTTL  time.Duration
	RefreshTTL time.Duration
	// Params are the argon2id costs for new hashes; zero means
	// DefaultParams. Existing hashes are checked with their own.
	Params Params
	// MaxConcurrentHashes bounds password hashes running at once (each
	// takes Params.Memory); default GOMAXPROCS. Callers beyond it wait
	// (honouring their context).
	MaxConcurrentHashes int
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
	params     Params
	now        func() time.Time
	hashSlots  chan struct{}
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
		params:     cfg.Params,
		now:        cfg.Now,
	}
	if s.params == (Params{}) {
		s.params = DefaultParams
	}
	if s.now == nil {
		s.now = time.Now
	}
	n := cfg.MaxConcurrentHashes
	if n <= 0 {
		n = runtime.GOMAXPROCS(0)
	}
	s.hashSlots = make(chan struct{}, n)
	dummy, err := HashPasswordWith(s.params, "parley-dummy-password")
	if err != nil {
		return nil, fmt.Errorf("new auth service: %w", err)
	}
	s.dummyHash = dummy
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

// Signup creates an account and returns its first session. Invalid input is
// a *protocol.DecodeError; a taken name (in any case) is ErrUsernameTaken.
func (s *Service) Signup(ctx context.Context, username, password string) (protocol.Session, error) {
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
	return s.newSession(ctx, u)
}

// Login checks a username (case-insensitively) and password and returns a
// new session. Unknown user and wrong password are both
// ErrInvalidCredentials and take the same time.
func (s *Service) Login(ctx context.Context, username, password string) (protocol.Session, error) {
	if err := protocol.CheckUsername(username); err != nil {
		return protocol.Session{}, err
	}
	if password == "" {
		return protocol.Session{}, &protocol.DecodeError{Code: protocol.ErrBadRequest, Msg: "password is required"}
	}
	if len(password) > protocol.MaxPasswordLen {
		return protocol.Session{}, protocol.CheckPassword(password)
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
		return protocol.Session{}, ErrInvalidCredentials
	}
	return s.newSession(ctx, u)
}

// Refresh exchanges a refresh token for a new session; the old refresh
// token stops working. A bad, expired or used token is
// ErrInvalidRefreshToken.
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
	u, err := s.store.RotateRefreshToken(ctx, hashRefreshToken(refreshToken), rt, now)
	if errors.Is(err, store.ErrNotFound) {
		return protocol.Session{}, ErrInvalidRefreshToken
	}
	if err != nil {
		return protocol.Session{}, fmt.Errorf("refresh: %w", err)
	}
	return s.session(u.Name, next, now)
}

// Logout revokes a refresh token. Revoking an unknown or malformed token is
// not an error, so logging out twice is harmless. Access tokens already
// issued stay valid until they expire (at most the access TTL).
func (s *Service) Logout(ctx context.Context, refreshToken string) error {
	if !wellFormedRefresh(refreshToken) {
		return nil
	}
	if err := s.store.DeleteRefreshToken(ctx, hashRefreshToken(refreshToken)); err != nil {
		return fmt.Errorf("logout: %w", err)
	}
	return nil
}

// Verify checks an access token and returns its user and expiry. Errors
// wrap ErrTokenExpired or ErrTokenInvalid; see CloseCode.
func (s *Service) Verify(token string) (user string, expiresAt time.Time, err error) {
	return s.keys.Verify(token, s.now())
}

// newSession stores a fresh refresh token for u and signs an access token.
func (s *Service) newSession(ctx context.Context, u store.User) (protocol.Session, error) {
	token, hash, err := newRefreshToken()
	if err != nil {
		return protocol.Session{}, err
	}
	now := s.now()
	rt := store.RefreshToken{Hash: hash, UserID: u.ID, ExpiresAt: now.Add(s.refreshTTL)}
	if err := s.store.SaveRefreshToken(ctx, rt); err != nil {
		return protocol.Session{}, fmt.Errorf("save refresh token: %w", err)
	}
	return s.session(u.Name, token, now)
}

func (s *Service) session(user, refreshToken string, now time.Time) (protocol.Session, error) {
	access, exp, err := s.keys.Sign(user, now, s.accessTTL)
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

// withHashSlot runs fn once fewer than MaxConcurrentHashes hashes run.
func (s *Service) withHashSlot(ctx context.Context, fn func() error) error {
	select {
	case s.hashSlots <- struct{}{}:
	case <-ctx.Done():
		return fmt.Errorf("wait for hash slot: %w", ctx.Err())
	}
	defer func() { <-s.hashSlots }()
	return fn()
}
