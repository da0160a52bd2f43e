package certs_test

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/parleychat/parley/server/certs"
)

func TestGenerateVerifies(t *testing.T) {
	dir := t.TempDir()
	f, err := certs.Generate(dir, []string{"redis", "10.0.0.7"})
	if err != nil {
		t.Fatal(err)
	}
	for path, mode := range map[string]os.FileMode{f.CA: 0o644, f.ServerCert: 0o644, f.CAKey: 0o600, f.ServerKey: 0o600} {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != mode {
			t.Errorf("%s: mode %v, want %v", filepath.Base(path), fi.Mode().Perm(), mode)
		}
	}
	c, err := certs.ClientConfig(f.CA, "", "")
	if err != nil {
		t.Fatal(err)
	}
	pair, err := tls.LoadX509KeyPair(f.ServerCert, f.ServerKey)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(pair.Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"redis", "10.0.0.7"} {
		if _, err := leaf.Verify(x509.VerifyOptions{Roots: c.RootCAs, DNSName: name}); err != nil {
			t.Errorf("verify for %s: %v", name, err)
		}
	}
	if _, err := leaf.Verify(x509.VerifyOptions{Roots: c.RootCAs, DNSName: "postgres"}); err == nil {
		t.Error("certificate verified for a host it does not name")
	}
	other, err := certs.Generate(t.TempDir(), []string{"redis"})
	if err != nil {
		t.Fatal(err)
	}
	oc, err := certs.ClientConfig(other.CA, "", "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := leaf.Verify(x509.VerifyOptions{Roots: oc.RootCAs, DNSName: "redis"}); err == nil {
		t.Error("certificate verified under another CA")
	}
	// A second run replaces the files (a new CA).
	before := readPEM(t, f.CA)
	g, err := certs.Generate(dir, []string{"redis"})
	if err != nil {
		t.Fatal(err)
	}
	if after := readPEM(t, g.CA); string(before) == string(after) {
		t.Error("second Generate kept the old CA")
	}
}

func readPEM(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	blk, _ := pem.Decode(b)
	if blk == nil {
		t.Fatalf("%s: no PEM", path)
	}
	return blk.Bytes
}

func TestClientConfigErrors(t *testing.T) {
	f, err := certs.Generate(t.TempDir(), []string{"localhost"})
	if err != nil {
		t.Fatal(err)
	}
	if c, err := certs.ClientConfig("", "", ""); c != nil || err != nil {
		t.Errorf("no files: %v, %v; want nil, nil", c, err)
	}
	notPEM := filepath.Join(t.TempDir(), "x.crt")
	if err := os.WriteFile(notPEM, []byte("hello"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		ca, cert, key, want string
	}{
		{filepath.Join(t.TempDir(), "none"), "", "", "read CA file"},
		{notPEM, "", "", "no PEM certificate"},
		{"", f.ServerCert, "", "both"},
		{"", f.ServerCert, f.CAKey, "client certificate"},
	} {
		_, err := certs.ClientConfig(tc.ca, tc.cert, tc.key)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ClientConfig(%q, %q, %q) = %v, want %q", tc.ca, tc.cert, tc.key, err, tc.want)
		}
	}
	c, err := certs.ClientConfig(f.CA, f.ServerCert, f.ServerKey)
	if err != nil || len(c.Certificates) != 1 || c.RootCAs == nil {
		t.Fatalf("ClientConfig with CA and client certificate: %+v, %v", c, err)
	}
}

func TestForURL(t *testing.T) {
	custom := &tls.Config{RootCAs: x509.NewCertPool(), MinVersion: tls.VersionTLS12}
	if _, err := certs.ForURL(nil, custom); err == nil || !strings.Contains(err.Error(), "rediss://") {
		t.Errorf("custom TLS over a plaintext URL: %v, want an error", err)
	}
	parsed := &tls.Config{ServerName: "redis.internal"}
	got, err := certs.ForURL(parsed, custom)
	if err != nil {
		t.Fatal(err)
	}
	if got.ServerName != "redis.internal" || got.RootCAs != custom.RootCAs || got.MinVersion != tls.VersionTLS12 || got == parsed {
		t.Errorf("merged %+v", got)
	}
	if parsed.RootCAs != nil {
		t.Error("ForURL changed the parsed config")
	}
	if got, _ := certs.ForURL(parsed, nil); got != parsed {
		t.Error("ForURL without custom settings did not return the parsed config")
	}
}
