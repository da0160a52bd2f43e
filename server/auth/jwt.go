package auth

import (
	"errors"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/parleychat/parley/shared/protocol"
)

// Issuer is the iss and aud claim of every Parley access token.
const Issuer = "parley"

// DefaultAccessTTL is how long an access token is valid by default.
const DefaultAccessTTL = 15 * time.Minute

// signingMethod is the only algorithm Parley signs or accepts.
var signingMethod = jwt.SigningMethodHS256

// Sign returns an access token for user, valid from now for ttl, signed by
// the current key, and its expiry (at the second precision of the token).
func (kr *Keyring) Sign(user, sid string, now time.Time, ttl time.Duration) (string, time.Time, error) {
	exp := jwt.NewNumericDate(now.Add(ttl))
	claims := tokenClaims{
		RegisteredClaims: jwt.RegisteredClaims{
			Subject:   user,
			Issuer:    Issuer,
			Audience:  jwt.ClaimStrings{Issuer},
			IssuedAt:  jwt.NewNumericDate(now),
			ExpiresAt: exp,
		},
		SID: sid,
	}
	tok := jwt.NewWithClaims(signingMethod, claims)
	tok.Header["kid"] = kr.current.ID
	s, err := tok.SignedString(kr.current.Secret)
	if err != nil {
		return "", time.Time{}, fmt.Errorf("sign access token: %w", err)
	}
	return s, exp.Time, nil
}

// Verify checks an access token at time now and returns its claims. The error wraps ErrTokenExpired for a genuine but expired token
// and ErrTokenInvalid for anything else.
func (kr *Keyring) Verify(token string, now time.Time) (Claims, error) {
	if len(token) > protocol.MaxTokenLen {
		return Claims{}, fmt.Errorf("%w: token too long", ErrTokenInvalid)
	}
	var claims tokenClaims
	p := jwt.NewParser(
		jwt.WithValidMethods([]string{signingMethod.Alg()}),
		jwt.WithIssuer(Issuer),
		jwt.WithAudience(Issuer),
		jwt.WithExpirationRequired(),
		jwt.WithTimeFunc(func() time.Time { return now }),
	)
	_, err := p.ParseWithClaims(token, &claims, kr.keyFunc)
	switch {
	case errors.Is(err, jwt.ErrTokenExpired):
		// The signature was checked before the claims: it is genuine.
		return Claims{}, fmt.Errorf("%w: %v", ErrTokenExpired, err)
	case err != nil:
		return Claims{}, fmt.Errorf("%w: %v", ErrTokenInvalid, err)
	case !protocol.ValidUsername(claims.Subject):
		return Claims{}, fmt.Errorf("%w: bad subject", ErrTokenInvalid)
	case len(claims.SID) > maxSIDLen:
		return Claims{}, fmt.Errorf("%w: bad sid", ErrTokenInvalid)
	}
	return Claims{User: claims.Subject, Session: claims.SID, ExpiresAt: claims.ExpiresAt.Time}, nil
}

// maxSIDLen bounds the sid claim; newSessionID makes 22 characters.
const maxSIDLen = 64

// tokenClaims is an access token's payload: the registered claims and the
// session id.
type tokenClaims struct {
	jwt.RegisteredClaims
	SID string `json:"sid,omitempty"`
}

// Claims is what a verified access token says: who, in which session
// (empty for tokens signed before sessions existed; they expire within
// one access TTL), until when.
type Claims struct {
	User      string
	Session   string
	ExpiresAt time.Time
}

func (kr *Keyring) keyFunc(t *jwt.Token) (any, error) {
	kid, ok := t.Header["kid"].(string)
	if !ok {
		return nil, errors.New("no kid header")
	}
	secret, ok := kr.secret(kid)
	if !ok {
		return nil, fmt.Errorf("unknown kid %q", kid)
	}
	return secret, nil
}
