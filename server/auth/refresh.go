package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"time"
)

// DefaultRefreshTTL is how long a refresh token is valid by default.
const DefaultRefreshTTL = 30 * 24 * time.Hour

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
