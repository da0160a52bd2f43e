package main

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
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
	caPath := filepath.Join(dir, certs.CAFile)
	roots := func() *x509.CertPool {
		c, err := certs.ClientConfig(caPath, "", "")
		if err != nil {
			t.Fatal(err)
		}
		return c.RootCAs
	}
	first := roots()
	pair, err := tls.LoadX509KeyPair(filepath.Join(dir, certs.ServerCertFile), filepath.Join(dir, certs.ServerKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(pair.Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
	for _, host := range []string{"redis", "postgres"} {
		if _, err := leaf.Verify(x509.VerifyOptions{Roots: first, DNSName: host}); err != nil {
			t.Errorf("server certificate for %s: %v", host, err)
		}
	}
	// A second run keeps the CA; --force replaces it.
	if code, out := gen("--hosts", "redis"); code != 0 || !strings.Contains(out, "keeping") {
		t.Fatalf("second run: exit %d, %s", code, out)
	}
	if !first.Equal(roots()) {
		t.Fatal("a second run without --force replaced the CA")
	}
	if code, out := gen("--hosts", "redis", "--force"); code != 0 {
		t.Fatalf("--force: exit %d, %s", code, out)
	}
	if first.Equal(roots()) {
		t.Fatal("--force kept the old CA")
	}
}
