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
// Claims: sub (the canonical username), iss and aud ("parley"), iat and exp.
// Any other algorithm, including "none", is refused.
//
// A refresh token is 32 random bytes in base64url. Only its SHA-256 is
// stored. Using it rotates it: the old one stops working.
//
// # Errors
//
// Service methods return errors that match (with errors.Is) one of
// ErrInvalidCredentials, ErrUsernameTaken, ErrInvalidRefreshToken,
// ErrTokenExpired or ErrTokenInvalid, or a *protocol.DecodeError for invalid
// input; anything else is an internal failure (store down, cancelled
// context). CloseCode maps a Verify error to a WebSocket close code.
package auth
