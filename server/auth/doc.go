// Package auth holds Parley's account security: argon2id password hashing,
// HS256 access tokens (JWT) signed with a keyring of rotating keys, and
// rotating refresh tokens stored hashed. Service ties them to a store.Store
// and is what the HTTP API and the WebSocket layer call.
//
// # Tokens
//
// An access token is a JWT signed with HS256 by the keyring's current key,
// named by its "kid" header. Every node verifies with any key of its ring,
// so keys rotate without logging anyone out: add the new key first (as
// current) and keep the old one in the ring for one access-token lifetime.
// Claims: sub (the canonical username), sid (the session), iss and aud
// ("parley"), iat and exp. Any other algorithm, including "none", is
// refused.
//
// A refresh token is 32 random bytes in base64url. Only its SHA-256 is
// stored. Using it rotates it within its session (the token family); the
// old one still rotates for ReuseGrace (two tabs racing), after which
// presenting it again ends the whole session: one of its two holders is
// a thief. A session lives at most SessionTTL however often it refreshes.
//
// # Sessions
//
// Verify also checks that the token's session has not ended, asking the
// store at most once per CheckCache per session and node; Forget (called
// when another node broadcasts that sessions ended) drops what a node
// cached. Every way a session ends (Logout, EndSession, EndAllSessions,
// ChangePassword for the other sessions, DeleteAccount, a replay) calls
// Config.Ended with the ids, once the store has recorded it. Ended
// sessions keep their row until Sweep, which waits an access TTL past
// their end, so their tokens are refused until they expire.
//
// # Errors
//
// Service methods return errors that match (with errors.Is) one of
// ErrInvalidCredentials, ErrUsernameTaken, ErrInvalidRefreshToken,
// ErrTokenExpired, ErrTokenInvalid or ErrSessionEnded, or a *protocol.DecodeError for invalid
// input; anything else is an internal failure (store down, cancelled
// context). CloseCode maps a Verify error to a WebSocket close code.
package auth
