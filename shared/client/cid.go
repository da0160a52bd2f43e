package client

import (
	"crypto/rand"
	"encoding/base32"
)

var cidEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// NewCID returns a random client message id: 16 random bytes in base32
// (26 characters), well within protocol.MaxCIDLen.
func NewCID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never returns an error
	return cidEncoding.EncodeToString(b[:])
}
