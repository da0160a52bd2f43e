package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// Session defaults: see Config.
const (
	DefaultRefreshTTL = 30 * 24 * time.Hour
	DefaultSessionTTL = 90 * 24 * time.Hour
	DefaultReuseGrace = 20 * time.Second
	DefaultCheckCache = 10 * time.Second
)

// maxAgentLen bounds the user agent kept with a session.
const maxAgentLen = 256

// newSessionID returns a random session id (128 bits, base64url).
func newSessionID() (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("generate session id: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// clipAgent keeps a user agent printable and short.
func clipAgent(ua string) string {
	ua = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || !utf8.ValidRune(r) {
			return -1
		}
		return r
	}, ua)
	for len(ua) > maxAgentLen {
		_, size := utf8.DecodeLastRuneInString(ua)
		ua = ua[:len(ua)-size]
	}
	return ua
}

const refreshBytes = 32

// refreshLen is the length of an encoded refresh token.
var refreshLen = base64.RawURLEncoding.EncodedLen(refreshBytes)

// newRefreshToken returns a random refresh token and the hash to store.
func newRefreshToken() (token, hash string, err error) {
	b := make([]byte, refreshBytes)
	if _, err := rand.Read(b); err != nil {
		return "", "", fmt.Errorf("generate refresh token: %w", err)
	}
	token = base64.RawURLEncoding.EncodeToString(b)
	return token, hashRefreshToken(token), nil
}

// hashRefreshToken is what the store keeps: SHA-256, hex. A refresh token
// has 256 bits of entropy, so a fast unsalted hash is enough.
func hashRefreshToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// wellFormedRefresh reports whether token could be one newRefreshToken made,
// so garbage never reaches the store.
func wellFormedRefresh(token string) bool {
	if len(token) != refreshLen {
		return false
	}
	_, err := base64.RawURLEncoding.DecodeString(token)
	return err == nil
}
