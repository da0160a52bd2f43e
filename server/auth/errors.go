package auth

import (
	"errors"
	"fmt"
	"time"

	"github.com/parleychat/parley/shared/protocol"
)

// Errors Service returns; test with errors.Is.
var (
	// ErrInvalidCredentials: unknown user or wrong password (one error for
	// both, so a caller cannot tell which).
	ErrInvalidCredentials = errors.New("wrong username or password")
	// ErrUsernameTaken: signup with a name that exists (case-insensitively).
	ErrUsernameTaken = errors.New("username is taken")
	// ErrInvalidRefreshToken: a refresh token that is malformed, unknown,
	// expired, already used or revoked.
	ErrInvalidRefreshToken = errors.New("refresh token is invalid or expired")
	// ErrTokenExpired: an access token that was valid but has expired;
	// refresh and retry.
	ErrTokenExpired = errors.New("access token expired")
	// ErrTokenInvalid: an access token that is malformed, forged, signed
	// with an unknown key or algorithm, or has wrong claims.
	ErrTokenInvalid = errors.New("access token invalid")
	// ErrSessionEnded: a genuine access token of a session that was ended
	// (logout, sign out everywhere, password change, account deletion,
	// a replayed refresh token); sign in again.
	ErrSessionEnded = errors.New("session ended")
	// ErrBusy: too many password hashes are waiting already (signup,
	// login, password change, account deletion); try again in a moment.
	ErrBusy = errors.New("too many sign-ins at once; try again in a moment")
	// ErrThrottled: too many wrong passwords for this account lately;
	// a *ThrottledError says how long to wait.
	ErrThrottled = errors.New("too many failed sign-ins for this account; wait before trying again")
)

// ThrottledError is ErrThrottled with the wait before the account's next
// password is checked.
type ThrottledError struct{ Wait time.Duration }

func (e *ThrottledError) Error() string {
	return fmt.Sprintf("%v (retry in %v)", ErrThrottled, e.Wait.Round(time.Second))
}

// Is makes errors.Is(err, ErrThrottled) true.
func (e *ThrottledError) Is(target error) bool { return target == ErrThrottled }

// CloseCode returns the WebSocket close code for a Verify error:
// CloseTokenExpired (refresh and reconnect) for an expired token,
// CloseSessionEnded for an ended session, CloseUnauthorized (sign in
// again) for any other.
func CloseCode(err error) protocol.CloseCode {
	switch {
	case errors.Is(err, ErrTokenExpired):
		return protocol.CloseTokenExpired
	case errors.Is(err, ErrSessionEnded):
		return protocol.CloseSessionEnded
	}
	return protocol.CloseUnauthorized
}
