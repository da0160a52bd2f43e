//go:build !js

package term

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/parleychat/parley/shared/client"
	"github.com/parleychat/parley/shared/protocol"
)

// refreshBefore is how long before expiry an access token is refreshed.
const refreshBefore = 30 * time.Second

// session holds the signed-in session and hands out fresh access tokens.
type session struct {
	api  *client.API
	cred protocol.Credentials

	mu   sync.Mutex // guards sess; a leaf lock
	sess protocol.Session
}

// signIn logs in, or signs up first when signup is set (an existing
// account is then just logged in).
func (s *session) signIn(ctx context.Context, signup bool) error {
	var (
		sess protocol.Session
		err  error
	)
	if signup {
		sess, err = s.api.Signup(ctx, s.cred)
		var apiErr *client.APIError
		if errors.As(err, &apiErr) && apiErr.Code == protocol.ErrConflict {
			sess, err = s.api.Login(ctx, s.cred)
		}
	} else {
		sess, err = s.api.Login(ctx, s.cred)
	}
	if err != nil {
		return err
	}
	s.mu.Lock()
	s.sess = sess
	s.mu.Unlock()
	return nil
}

// Token returns an access token valid for a while yet, refreshing the
// session when it is about to expire and logging in again when the
// refresh token is refused. It is the client's Config.Token.
func (s *session) Token(ctx context.Context) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if time.Until(time.UnixMilli(s.sess.ExpiresAt)) > refreshBefore {
		return s.sess.AccessToken, nil
	}
	sess, err := s.api.Refresh(ctx, protocol.RefreshRequest{RefreshToken: s.sess.RefreshToken})
	if errors.Is(err, client.ErrUnauthorized) {
		sess, err = s.api.Login(ctx, s.cred)
	}
	if err != nil {
		return "", fmt.Errorf("renew session: %w", err)
	}
	s.sess = sess
	return sess.AccessToken, nil
}
