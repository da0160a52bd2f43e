package main

import (
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/parleychat/parley/server/certs"
)

func TestGenCerts(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "certs")
	gen := func(args ...string) (int, string) {
		var out bytes.Buffer
		code := run(append([]string{"gen-certs", "--dir", dir}, args...), strings.NewReader(""), &out, &out)
		return code, out.String()
	}
	if code, out := gen(); code != 2 || !strings.Contains(out, "--hosts is required") {
		t.Fatalf("without --hosts: exit %d, %s", code, out)
	}
	if code, out := gen("--hosts", "redis, postgres"); code != 0 {
		t.Fatalf("exit %d: %s", code, out)
	}
	ca := readFile(t, filepath.Join(dir, certs.CAFile))
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(ca) {
		t.Fatal("ca.crt holds no certificate")
	}
	blk, _ := pem.Decode(readFile(t, filepath.Join(dir, certs.ServerCertFile)))
	leaf, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	for _, host := range []string{"redis", "postgres"} {
		if _, err := leaf.Verify(x509.VerifyOptions{Roots: roots, DNSName: host}); err != nil {
			t.Errorf("server certificate for %s: %v", host, err)
		}
	}
	// A second run keeps the CA; --force replaces it.
	if code, out := gen("--hosts", "redis"); code != 0 || !strings.Contains(out, "keeping") {
		t.Fatalf("second run: exit %d, %s", code, out)
	}
	if !bytes.Equal(ca, readFile(t, filepath.Join(dir, certs.CAFile))) {
		t.Fatal("a second run without --force replaced the CA")
	}
	if code, out := gen("--hosts", "redis", "--force"); code != 0 {
		t.Fatalf("--force: exit %d, %s", code, out)
	}
	if bytes.Equal(ca, readFile(t, filepath.Join(dir, certs.CAFile))) {
		t.Fatal("--force kept the old CA")
	}
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
