//go:build !js

package testenv

import (
	"testing"

	"github.com/parleychat/parley/server/certs"
)

// TLSFiles are the PEM files of a throwaway certificate authority and one
// server certificate it signed for 127.0.0.1 and localhost.
type TLSFiles = certs.Files

// NewTLS writes a fresh test CA and a server certificate for 127.0.0.1
// and localhost, signed by it, into a temporary directory of t. Every
// call makes a different CA, so a second call is the "wrong CA" of the
// first.
func NewTLS(t testing.TB) TLSFiles {
	t.Helper()
	f, err := certs.Generate(t.TempDir(), []string{"127.0.0.1", "localhost"})
	if err != nil {
		t.Fatalf("generate test certificates: %v", err)
	}
	return f
}
