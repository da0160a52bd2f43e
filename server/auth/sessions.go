package auth

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/parleychat/parley/server/store"
	"github.com/parleychat/parley/shared/protocol"
)

// maxCachedChecks bounds the session check cache; past it the cache starts
// over (a miss costs one indexed read).
const maxCachedChecks = 100_000

// checkCache remembers, per session id, whether the session had ended when
// the store was last asked, for ttl. Ended sessions stay ended, so only
// "live" answers expire; Forget drops an entry when another node says the
// session ended.
type checkCache struct {
	ttl time.Duration
	now func() time.Time

	mu      sync.Mutex // guards entries; a leaf lock
	entries map[string]checkEntry
}

type checkEntry struct {
	ended bool
	at    time.Time
}

func newCheckCache(ttl time.Duration, now func() time.Time) *checkCache {
	return &checkCache{ttl: ttl, now: now, entries: make(map[string]checkEntry)}
}

// get returns what is known about sid, if it is fresh.
func (c *checkCache) get(sid string) (ended, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[sid]
	if !ok || (!e.ended && c.now().Sub(e.at) >= c.ttl) {
		return false, false
	}
	return e.ended, true
}

func (c *checkCache) put(sid string, ended bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.entries) >= maxCachedChecks {
		clear(c.entries)
	}
	c.entries[sid] = checkEntry{ended: ended, at: c.now()}
}

func (c *checkCache) forget(ids []string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, id := range ids {
		delete(c.entries, id)
	}
}

func (c *checkCache) forgetAll() {
	c.mu.Lock()
	defer c.mu.Unlock()
	clear(c.entries)
}

// checkSession returns ErrSessionEnded if session sid has ended. An
// unknown sid is not an ended one: a session row stays until well after
// its last access token expired (PurgeExpired's keep).
func (s *Service) checkSession(ctx context.Context, sid string) error {
	if sid == "" {
		return nil
	}
	ended, ok := s.checks.get(sid)
	if !ok {
		sess, err := s.store.Session(ctx, sid)
		switch {
		case errors.Is(err, store.ErrNotFound):
		case err != nil:
			return fmt.Errorf("check session: %w", err)
		}
		ended = sess.Ended()
		s.checks.put(sid, ended)
	}
	if ended {
		return ErrSessionEnded
	}
	return nil
}

// SessionEnded reports whether session sid has ended, asking the store
// (not the cache), and caches the answer.
func (s *Service) SessionEnded(ctx context.Context, sid string) (bool, error) {
	s.checks.forget([]string{sid})
	err := s.checkSession(ctx, sid)
	if errors.Is(err, ErrSessionEnded) {
		return true, nil
	}
	return false, err
}

// EndedSessions returns those of ids that have ended, asking the store
// (not the cache) in one batch, and caches every answer.
func (s *Service) EndedSessions(ctx context.Context, ids []string) ([]string, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	ended, err := s.store.EndedSessions(ctx, ids)
	if err != nil {
		return nil, fmt.Errorf("check sessions: %w", err)
	}
	gone := make(map[string]bool, len(ended))
	for _, id := range ended {
		gone[id] = true
	}
	for _, id := range ids {
		s.checks.put(id, gone[id])
	}
	return ended, nil
}

// Forget drops what this node cached about sessions ids; another node
// ended them. With ids nil it forgets everything (the broadcast may have
// lost some).
func (s *Service) Forget(ids []string) {
	if ids == nil {
		s.checks.forgetAll()
		return
	}
	s.checks.forget(ids)
}

// endedIDs records locally that sessions ids ended and tells the node.
func (s *Service) endedIDs(ids []string) {
	if len(ids) == 0 {
		return
	}
	for _, id := range ids {
		s.checks.put(id, true)
	}
	s.ended(ids)
}

// endOne ends one session of user userID.
func (s *Service) endOne(ctx context.Context, userID int64, sid string) error {
	err := s.store.EndSession(ctx, userID, sid)
	if errors.Is(err, store.ErrNotFound) {
		return nil // already ended
	}
	if err != nil {
		return fmt.Errorf("end session: %w", err)
	}
	s.endedIDs([]string{sid})
	return nil
}

// user returns the live account called name; a deleted one is
// ErrSessionEnded (its tokens may still be unexpired).
func (s *Service) user(ctx context.Context, name string) (store.User, error) {
	u, err := s.store.UserByName(ctx, name)
	if errors.Is(err, store.ErrNotFound) {
		return store.User{}, ErrSessionEnded
	}
	if err != nil {
		return store.User{}, fmt.Errorf("find user: %w", err)
	}
	return u, nil
}

// Sessions lists the live sessions of the account c signed in to; the one
// c belongs to is marked current.
func (s *Service) Sessions(ctx context.Context, c Claims) ([]protocol.SessionInfo, error) {
	u, err := s.user(ctx, c.User)
	if err != nil {
		return nil, err
	}
	list, err := s.store.Sessions(ctx, u.ID, s.now())
	if err != nil {
		return nil, fmt.Errorf("list sessions: %w", err)
	}
	out := make([]protocol.SessionInfo, 0, len(list))
	for _, ss := range list {
		out = append(out, protocol.SessionInfo{
			ID:        ss.ID,
			UserAgent: ss.UserAgent,
			CreatedAt: ss.CreatedAt.UnixMilli(),
			LastSeen:  ss.LastSeen.UnixMilli(),
			ExpiresAt: ss.ExpiresAt.UnixMilli(),
			Current:   ss.ID == c.Session,
		})
	}
	return out, nil
}

// EndSession ends session sid of the account c signed in to (it may be
// c's own). A session that is not the account's, or has ended, is
// store.ErrNotFound.
func (s *Service) EndSession(ctx context.Context, c Claims, sid string) error {
	u, err := s.user(ctx, c.User)
	if err != nil {
		return err
	}
	if err := s.store.EndSession(ctx, u.ID, sid); err != nil {
		return fmt.Errorf("end session: %w", err)
	}
	s.endedIDs([]string{sid})
	return nil
}

// EndAllSessions signs the account c signed in to out everywhere, c's own
// session included.
func (s *Service) EndAllSessions(ctx context.Context, c Claims) error {
	u, err := s.user(ctx, c.User)
	if err != nil {
		return err
	}
	ids, err := s.store.EndSessions(ctx, u.ID, "")
	if err != nil {
		return fmt.Errorf("sign out everywhere: %w", err)
	}
	s.endedIDs(ids)
	return nil
}

// checkPassword verifies u's current password; a wrong one is
// ErrInvalidCredentials.
func (s *Service) checkPassword(ctx context.Context, u store.User, password string) error {
	account := strings.ToLower(u.Name)
	if wait := s.backoff.Wait(ctx, account); wait > 0 {
		return &ThrottledError{Wait: wait}
	}
	var ok bool
	err := s.withHashSlot(ctx, func() (err error) {
		ok, err = CheckPassword(u.PasswordHash, password)
		return err
	})
	if err != nil {
		return fmt.Errorf("check password: %w", err)
	}
	if !ok {
		s.backoff.Failed(ctx, account)
		return ErrInvalidCredentials
	}
	s.backoff.Succeeded(ctx, account)
	return nil
}

// ChangePassword sets a new password for the account c signed in to, once
// the current one checks out, and ends every other session of it (c's own
// stays signed in).
func (s *Service) ChangePassword(ctx context.Context, c Claims, current, next string) error {
	if err := protocol.CheckPassword(next); err != nil {
		return err
	}
	u, err := s.user(ctx, c.User)
	if err != nil {
		return err
	}
	if err := s.checkPassword(ctx, u, current); err != nil {
		return err
	}
	var hash string
	err = s.withHashSlot(ctx, func() (err error) {
		hash, err = HashPasswordWith(s.params, next)
		return err
	})
	if err != nil {
		return fmt.Errorf("change password: %w", err)
	}
	if err := s.store.SetPasswordHash(ctx, u.ID, hash); err != nil {
		return fmt.Errorf("change password: %w", err)
	}
	ids, err := s.store.EndSessions(ctx, u.ID, c.Session)
	if err != nil {
		return fmt.Errorf("change password: end other sessions: %w", err)
	}
	s.endedIDs(ids)
	return nil
}

// DeleteAccount deletes the account c signed in to, once its password
// checks out: every session ends, the name stays reserved and the
// messages stay, under that name (see store.Store.DeleteUser). It
// returns who inherited the rooms the account was the last owner of.
func (s *Service) DeleteAccount(ctx context.Context, c Claims, password string) ([]store.Heir, error) {
	u, err := s.user(ctx, c.User)
	if err != nil {
		return nil, err
	}
	if err := s.checkPassword(ctx, u, password); err != nil {
		return nil, err
	}
	ids, heirs, err := s.store.DeleteUser(ctx, u.ID)
	if err != nil {
		return nil, fmt.Errorf("delete account: %w", err)
	}
	s.endedIDs(ids)
	return heirs, nil
}

// Sweep deletes expired refresh tokens, and sessions that expired or
// ended longer ago than an access token lives (so their tokens are
// refused until they expire by themselves).
func (s *Service) Sweep(ctx context.Context) (int64, error) {
	n, err := s.store.PurgeExpired(ctx, s.now(), s.accessTTL+time.Minute)
	if err != nil {
		return 0, fmt.Errorf("sweep sessions: %w", err)
	}
	return n, nil
}
