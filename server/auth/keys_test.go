package auth

import (
	"bytes"
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseKeys(t *testing.T) {
	s1 := bytes.Repeat([]byte{1}, 32)
	s2 := bytes.Repeat([]byte{0xfb}, 48)
	spec := "new:" + base64.StdEncoding.EncodeToString(s1) + ", old:" + base64.RawURLEncoding.EncodeToString(s2)
	kr, err := ParseKeys(spec)
	if err != nil {
		t.Fatal(err)
	}
	if kr.CurrentID() != "new" {
		t.Errorf("current = %q", kr.CurrentID())
	}
	if got, _ := kr.secret("old"); !bytes.Equal(got, s2) {
		t.Errorf("old secret = %x", got)
	}
	if ids := kr.IDs(); len(ids) != 2 || ids[0] != "new" {
		t.Errorf("IDs = %v", ids)
	}
	// FormatKey is ParseKeys' inverse.
	again, err := ParseKeys(FormatKey(Key{ID: "new", Secret: s1}))
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := again.secret("new"); !bytes.Equal(got, s1) {
		t.Error("FormatKey/ParseKeys round trip lost the secret")
	}
}

func TestParseKeysErrors(t *testing.T) {
	good := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 32))
	short := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 31))
	for name, spec := range map[string]string{
		"empty":        "",
		"only commas":  " , ,",
		"no colon":     good,
		"empty kid":    ":" + good,
		"space in kid": "a b:" + good,
		"short secret": "k:" + short,
		"not base64":   "k:!!!!" + good,
		"duplicate":    "k:" + good + ",k:" + good,
	} {
		if _, err := ParseKeys(spec); err == nil {
			t.Errorf("%s: ParseKeys(%q) succeeded", name, spec)
		} else if strings.Contains(err.Error(), good) {
			t.Errorf("%s: error echoes the secret: %v", name, err)
		}
	}
}

func TestLoadOrCreateKeyFile(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	kr, err := LoadOrCreateKeyFile(dir)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, KeyFileName)
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if perm := fi.Mode().Perm(); perm != 0o600 {
		t.Errorf("key file mode = %#o, want 0600", perm)
	}
	if di, err := os.Stat(dir); err != nil || di.Mode().Perm() != 0o700 {
		t.Errorf("dir mode = %v, %v; want 0700", di.Mode().Perm(), err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("dir holds %d entries, want only the key file", len(entries))
	}

	again, err := LoadOrCreateKeyFile(dir)
	if err != nil {
		t.Fatal(err)
	}
	if again.CurrentID() != kr.CurrentID() {
		t.Fatalf("restart changed the key: %q → %q", kr.CurrentID(), again.CurrentID())
	}
	tok, _, err := kr.Sign("alice", "s1", t0, DefaultAccessTTL)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := again.Verify(tok, t0); err != nil {
		t.Fatalf("token from before the restart: %v", err)
	}

	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadOrCreateKeyFile(dir); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Fatalf("world-readable key file: err = %v, want refusal", err)
	}
}

func TestLoadKeyFileCorrupt(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, KeyFileName), []byte("garbage\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadOrCreateKeyFile(dir); err == nil {
		t.Fatal("corrupt key file accepted")
	}
}
