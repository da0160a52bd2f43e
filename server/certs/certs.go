// Package certs is Parley's TLS plumbing to its own dependencies: it
// generates a private certificate authority and a server certificate
// signed by it (parley gen-certs, the shipped compose file, the tests),
// and builds the client side a node uses towards Redis (rediss://) from
// PEM files: the CA to trust and an optional client certificate.
//
// PostgreSQL needs nothing from here: pgx reads sslmode=verify-full,
// sslrootcert, sslcert and sslkey from the --postgres URL itself.
package certs

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"
)

// Files names the PEM files Generate writes.
type Files struct {
	CA         string // the CA certificate: what clients trust
	CAKey      string // the CA's private key
	ServerCert string // the server certificate, signed by the CA
	ServerKey  string // its private key
}

// File names inside the directory given to Generate.
const (
	CAFile         = "ca.crt"
	CAKeyFile      = "ca.key"
	ServerCertFile = "server.crt"
	ServerKeyFile  = "server.key"
)

// Validity is how long generated certificates are valid.
const Validity = 10 * 365 * 24 * time.Hour

// Generate creates a new CA and a server certificate for hosts (DNS
// names or IP addresses, at least one) in dir, which must exist. Private
// keys are written 0600, certificates 0644. Existing files are replaced.
func Generate(dir string, hosts []string) (Files, error) {
	if len(hosts) == 0 {
		return Files{}, errors.New("generate certificates: no host names")
	}
	f := Files{
		CA:         filepath.Join(dir, CAFile),
		CAKey:      filepath.Join(dir, CAKeyFile),
		ServerCert: filepath.Join(dir, ServerCertFile),
		ServerKey:  filepath.Join(dir, ServerKeyFile),
	}
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return Files{}, fmt.Errorf("generate CA key: %w", err)
	}
	now := time.Now().Add(-time.Hour) // tolerate clocks a little behind
	caSerial := serial()
	ca := &x509.Certificate{
		SerialNumber: caSerial,
		// A name of its own: an error about a wrong CA says which one.
		Subject:               pkix.Name{CommonName: fmt.Sprintf("Parley private CA %.8x", caSerial)},
		NotBefore:             now,
		NotAfter:              now.Add(Validity),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, ca, ca, &caKey.PublicKey, caKey)
	if err != nil {
		return Files{}, fmt.Errorf("sign CA certificate: %w", err)
	}
	caCert, err := x509.ParseCertificate(caDER)
	if err != nil {
		return Files{}, fmt.Errorf("parse CA certificate: %w", err)
	}
	srvKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return Files{}, fmt.Errorf("generate server key: %w", err)
	}
	srv := &x509.Certificate{
		SerialNumber: serial(),
		Subject:      pkix.Name{CommonName: hosts[0]},
		NotBefore:    now,
		NotAfter:     now.Add(Validity),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
	}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			srv.IPAddresses = append(srv.IPAddresses, ip)
		} else {
			srv.DNSNames = append(srv.DNSNames, h)
		}
	}
	srvDER, err := x509.CreateCertificate(rand.Reader, srv, caCert, &srvKey.PublicKey, caKey)
	if err != nil {
		return Files{}, fmt.Errorf("sign server certificate: %w", err)
	}
	for _, w := range []struct {
		path, kind string
		der        []byte
		mode       os.FileMode
	}{
		{f.CA, "CERTIFICATE", caDER, 0o644},
		{f.ServerCert, "CERTIFICATE", srvDER, 0o644},
		{f.CAKey, "EC PRIVATE KEY", mustMarshal(caKey), 0o600},
		{f.ServerKey, "EC PRIVATE KEY", mustMarshal(srvKey), 0o600},
	} {
		if err := writePEM(w.path, w.kind, w.der, w.mode); err != nil {
			return Files{}, err
		}
	}
	return f, nil
}

func serial() *big.Int {
	n, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	return n
}

func mustMarshal(k *ecdsa.PrivateKey) []byte {
	der, err := x509.MarshalECPrivateKey(k)
	if err != nil {
		panic(err) // a P-256 key from GenerateKey always marshals
	}
	return der
}

// writePEM replaces path with one PEM block of mode.
func writePEM(path, kind string, der []byte, mode os.FileMode) error {
	_ = os.Remove(path) // a new file gets mode; an old one would keep its own
	fh, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	err = pem.Encode(fh, &pem.Block{Type: kind, Bytes: der})
	if err := errors.Join(err, fh.Close()); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// ClientConfig builds the TLS settings of a client from PEM files: caFile
// (empty: the system roots) is the only authority trusted; certFile and
// keyFile (both or neither) are the client certificate presented to
// servers that ask for one. It returns nil, nil when all three are empty.
// The server name is left to the caller (it comes from the URL).
func ClientConfig(caFile, certFile, keyFile string) (*tls.Config, error) {
	if caFile == "" && certFile == "" && keyFile == "" {
		return nil, nil
	}
	c := &tls.Config{MinVersion: tls.VersionTLS12}
	if caFile != "" {
		b, err := os.ReadFile(caFile)
		if err != nil {
			return nil, fmt.Errorf("read CA file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(b) {
			return nil, fmt.Errorf("CA file %s: no PEM certificate in it", caFile)
		}
		c.RootCAs = pool
	}
	if (certFile == "") != (keyFile == "") {
		return nil, errors.New("a client certificate needs both its certificate and its key file")
	}
	if certFile != "" {
		pair, err := tls.LoadX509KeyPair(certFile, keyFile)
		if err != nil {
			return nil, fmt.Errorf("load client certificate: %w", err)
		}
		c.Certificates = []tls.Certificate{pair}
	}
	return c, nil
}

// ForURL merges custom, the settings from ClientConfig, into parsed, the
// TLS settings a client library derived from a URL (go-redis sets them,
// with the server name, for rediss:// only). It returns parsed when
// custom is nil, and an error when custom is set but the URL asks for no
// TLS: trusting a CA over a plaintext connection would be a silent
// downgrade. The server name and any verification setting of the URL
// stay; the roots and client certificate come from custom.
func ForURL(parsed, custom *tls.Config) (*tls.Config, error) {
	if custom == nil {
		return parsed, nil
	}
	if parsed == nil {
		return nil, errors.New("TLS files given but the URL is not a TLS one (use rediss://)")
	}
	c := parsed.Clone()
	c.RootCAs = custom.RootCAs
	c.Certificates = custom.Certificates
	if c.MinVersion < custom.MinVersion {
		c.MinVersion = custom.MinVersion
	}
	return c, nil
}
