package auth

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/crypto/argon2"
)

// Params are argon2id cost parameters.
type Params struct {
	// Memory is the memory cost in KiB.
	Memory uint32
	// Time is the number of passes over the memory.
	Time uint32
	// Threads is the degree of parallelism.
	Threads uint8
	// SaltLen and KeyLen are the salt and derived key lengths in bytes.
	SaltLen uint32
	KeyLen  uint32
}

// DefaultParams is sized for a small (2-core) server: 64 MiB, two passes,
// two lanes takes about 40–50 ms of wall time there (both cores busy), which
// caps one node at roughly 20–25 password checks a second. The memory cost
// follows RFC 9106's memory-constrained recommendation (64 MiB); OWASP's
// minimum for argon2id is 19 MiB with t=2 (OWASPParams). Service bounds how
// many hashes run at once, so memory stays at most that many times 64 MiB.
var DefaultParams = Params{Memory: 64 << 10, Time: 2, Threads: 2, SaltLen: 16, KeyLen: 32}

// OWASPParams is OWASP's lower-memory argon2id setting (m=19 MiB, t=2,
// p=1), for nodes short of memory. Existing hashes keep their own
// parameters; only new ones use the node's.
var OWASPParams = Params{Memory: 19 << 10, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 32}

// Bounds on parameters read back from an encoded hash, so a corrupted or
// hostile row cannot make a login allocate gigabytes or spin for minutes.
const (
	maxMemoryKiB = 1 << 20 // 1 GiB
	maxTime      = 64
	minSaltLen   = 8
	maxSaltLen   = 64
	minKeyLen    = 16
	maxKeyLen    = 128
)

// ErrMalformedHash is returned by CheckPassword for an encoded string that
// is not an argon2id hash it can check.
var ErrMalformedHash = errors.New("malformed password hash")

var b64 = base64.RawStdEncoding

// HashPassword hashes pw with DefaultParams and returns the PHC-style
// encoding: $argon2id$v=19$m=65536,t=2,p=2$<salt>$<hash>.
func HashPassword(pw string) (string, error) {
	return HashPasswordWith(DefaultParams, pw)
}

// HashPasswordWith hashes pw with p and returns its PHC-style encoding.
func HashPasswordWith(p Params, pw string) (string, error) {
	if err := p.check(); err != nil {
		return "", err
	}
	salt := make([]byte, p.SaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("read salt: %w", err)
	}
	key := argon2.IDKey([]byte(pw), salt, p.Time, p.Memory, p.Threads, p.KeyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, p.Memory, p.Time, p.Threads, b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// CheckPassword reports whether pw matches encoded, comparing in constant
// time. It errs only when encoded is not a hash it can check.
func CheckPassword(encoded, pw string) (bool, error) {
	p, salt, want, err := decodeHash(encoded)
	if err != nil {
		return false, err
	}
	got := argon2.IDKey([]byte(pw), salt, p.Time, p.Memory, p.Threads, p.KeyLen)
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}

// Check reports whether p can hash: the bounds a stored hash is held to.
func (p Params) Check() error { return p.check() }

func (p Params) check() error {
	switch {
	case p.Threads == 0:
		return fmt.Errorf("argon2 params: threads must be positive")
	case p.Time == 0 || p.Time > maxTime:
		return fmt.Errorf("argon2 params: time must be in 1..%d", maxTime)
	case p.Memory < 8*uint32(p.Threads) || p.Memory > maxMemoryKiB:
		return fmt.Errorf("argon2 params: memory must be in %d..%d KiB", 8*uint32(p.Threads), maxMemoryKiB)
	case p.SaltLen < minSaltLen || p.SaltLen > maxSaltLen:
		return fmt.Errorf("argon2 params: salt length must be in %d..%d", minSaltLen, maxSaltLen)
	case p.KeyLen < minKeyLen || p.KeyLen > maxKeyLen:
		return fmt.Errorf("argon2 params: key length must be in %d..%d", minKeyLen, maxKeyLen)
	}
	return nil
}

// decodeHash parses $argon2id$v=19$m=…,t=…,p=…$salt$hash.
func decodeHash(encoded string) (p Params, salt, key []byte, err error) {
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return p, nil, nil, fmt.Errorf("%w: not an argon2id hash", ErrMalformedHash)
	}
	var version int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return p, nil, nil, fmt.Errorf("%w: unsupported version %q", ErrMalformedHash, parts[2])
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.Memory, &p.Time, &p.Threads); err != nil {
		return p, nil, nil, fmt.Errorf("%w: parameters %q", ErrMalformedHash, parts[3])
	}
	if salt, err = b64.DecodeString(parts[4]); err != nil {
		return p, nil, nil, fmt.Errorf("%w: salt: %v", ErrMalformedHash, err)
	}
	if key, err = b64.DecodeString(parts[5]); err != nil {
		return p, nil, nil, fmt.Errorf("%w: key: %v", ErrMalformedHash, err)
	}
	p.SaltLen, p.KeyLen = uint32(len(salt)), uint32(len(key))
	if err := p.check(); err != nil {
		return p, nil, nil, fmt.Errorf("%w: %v", ErrMalformedHash, err)
	}
	return p, salt, key, nil
}
