package auth

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// MinKeyBytes is the shortest accepted HS256 secret (RFC 7518 §3.2: at
// least the hash output size).
const MinKeyBytes = 32

// KeyFileName is the name of the key file LoadOrCreateKeyFile keeps.
const KeyFileName = "jwt.key"

// Key is one HS256 signing key, named by ID in the token's "kid" header.
type Key struct {
	ID     string
	Secret []byte
}

// Keyring holds the keys a node accepts. The first key signs; every key
// verifies. A Keyring is immutable and safe for concurrent use.
type Keyring struct {
	current Key
	byID    map[string][]byte
}

// NewKeyring returns a keyring whose current (signing) key is keys[0].
// IDs must be unique, non-empty printable ASCII without ':' or ','; secrets
// at least MinKeyBytes long.
func NewKeyring(keys ...Key) (*Keyring, error) {
	if len(keys) == 0 {
		return nil, errors.New("new keyring: no keys")
	}
	kr := &Keyring{byID: make(map[string][]byte, len(keys))}
	for _, k := range keys {
		if err := checkKeyID(k.ID); err != nil {
			return nil, fmt.Errorf("new keyring: %w", err)
		}
		if len(k.Secret) < MinKeyBytes {
			return nil, fmt.Errorf("new keyring: key %q is %d bytes, want at least %d", k.ID, len(k.Secret), MinKeyBytes)
		}
		if _, dup := kr.byID[k.ID]; dup {
			return nil, fmt.Errorf("new keyring: duplicate key id %q", k.ID)
		}
		secret := append([]byte(nil), k.Secret...)
		kr.byID[k.ID] = secret
		if kr.current.ID == "" {
			kr.current = Key{ID: k.ID, Secret: secret}
		}
	}
	return kr, nil
}

// CurrentID returns the id of the signing key.
func (kr *Keyring) CurrentID() string { return kr.current.ID }

// IDs returns the ids of all keys, the current one first.
func (kr *Keyring) IDs() []string {
	ids := []string{kr.current.ID}
	for id := range kr.byID {
		if id != kr.current.ID {
			ids = append(ids, id)
		}
	}
	return ids
}

func (kr *Keyring) secret(kid string) ([]byte, bool) {
	s, ok := kr.byID[kid]
	return s, ok
}

func checkKeyID(id string) error {
	if id == "" || len(id) > 64 {
		return errors.New("key id must be 1–64 characters")
	}
	for i := 0; i < len(id); i++ {
		if c := id[i]; c < 0x21 || c > 0x7e || c == ':' || c == ',' {
			return fmt.Errorf("key id %q must be printable ASCII without spaces, ':' or ','", id)
		}
	}
	return nil
}

// ParseKeys parses a key list as given in a flag or environment variable:
// "kid1:secret1,kid2:secret2", each secret in base64 (standard or URL
// alphabet, padding optional). The first key is the current signer.
func ParseKeys(spec string) (*Keyring, error) {
	var keys []Key
	for i, item := range strings.Split(spec, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		id, enc, ok := strings.Cut(item, ":")
		if !ok {
			return nil, fmt.Errorf("parse keys: item %d is not kid:base64secret", i+1)
		}
		secret, err := decodeSecret(enc)
		if err != nil {
			return nil, fmt.Errorf("parse keys: key %q: %w", id, err)
		}
		keys = append(keys, Key{ID: id, Secret: secret})
	}
	kr, err := NewKeyring(keys...)
	if err != nil {
		return nil, fmt.Errorf("parse keys: %w", err)
	}
	return kr, nil
}

func decodeSecret(s string) ([]byte, error) {
	s = strings.TrimRight(strings.TrimSpace(s), "=")
	if b, err := base64.RawStdEncoding.DecodeString(s); err == nil {
		return b, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return nil, errors.New("secret is not base64")
	}
	return b, nil
}

// FormatKey renders k in the form ParseKeys reads, for copying a generated
// key to other nodes.
func FormatKey(k Key) string {
	return k.ID + ":" + base64.RawURLEncoding.EncodeToString(k.Secret)
}

// GenerateKey returns a random 32-byte key with a random 8-character hex id.
func GenerateKey() (Key, error) {
	var id [4]byte
	secret := make([]byte, MinKeyBytes)
	if _, err := rand.Read(id[:]); err != nil {
		return Key{}, fmt.Errorf("generate key id: %w", err)
	}
	if _, err := rand.Read(secret); err != nil {
		return Key{}, fmt.Errorf("generate key: %w", err)
	}
	return Key{ID: hex.EncodeToString(id[:]), Secret: secret}, nil
}

// LoadOrCreateKeyFile returns the keyring kept in dir/jwt.key, creating the
// file with a fresh random key (mode 0600, directory 0700 if it has to be
// made) when it does not exist. The file holds one line in ParseKeys form,
// so it can be copied into other nodes' configuration. A file readable or
// writable by group or others is refused, as ssh refuses such keys.
//
// A single-node default: nodes of a cluster must share keys, so configure
// them explicitly (ParseKeys) there.
func LoadOrCreateKeyFile(dir string) (*Keyring, error) {
	path := filepath.Join(dir, KeyFileName)
	kr, err := loadKeyFile(path)
	if !errors.Is(err, fs.ErrNotExist) {
		return kr, err
	}
	if err := createKeyFile(dir, path); err != nil {
		return nil, err
	}
	return loadKeyFile(path)
}

func loadKeyFile(path string) (*Keyring, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("load key file: %w", err)
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		return nil, fmt.Errorf("load key file: %s has mode %#o, readable by others; run chmod 600 on it", path, perm)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("load key file: %w", err)
	}
	kr, err := ParseKeys(string(data))
	if err != nil {
		return nil, fmt.Errorf("load key file %s: %w", path, err)
	}
	return kr, nil
}

// createKeyFile writes a new key to a temporary file and links it into
// place, so a reader never sees a partial file and two nodes starting at
// once on one directory end up with the same key.
func createKeyFile(dir, path string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create key dir: %w", err)
	}
	k, err := GenerateKey()
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, ".jwt.key.*") // mode 0600
	if err != nil {
		return fmt.Errorf("create key file: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.WriteString(FormatKey(k) + "\n"); err != nil {
		tmp.Close()
		return fmt.Errorf("write key file: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("sync key file: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("close key file: %w", err)
	}
	if err := os.Link(tmp.Name(), path); err != nil && !errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("install key file: %w", err)
	}
	return nil
}
