package auth

import (
	"errors"
	"strings"
	"testing"
)

// testParams are cheap argon2id costs for tests.
var testParams = Params{Memory: 1 << 10, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

func TestHashAndCheckPassword(t *testing.T) {
	enc, err := HashPasswordWith(testParams, "correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(enc, "$argon2id$v=19$m=1024,t=1,p=1$") {
		t.Fatalf("encoding %q lacks the PHC prefix", enc)
	}
	for pw, want := range map[string]bool{
		"correct horse battery":  true,
		"correct horse battery ": false,
		"Correct horse battery":  false,
		"":                       false,
	} {
		ok, err := CheckPassword(enc, pw)
		if err != nil || ok != want {
			t.Errorf("CheckPassword(%q) = %v, %v; want %v", pw, ok, err, want)
		}
	}
	again, err := HashPasswordWith(testParams, "correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	if again == enc {
		t.Error("two hashes of one password are equal: salt not random")
	}
}

func TestDefaultParamsRoundTrip(t *testing.T) {
	enc, err := HashPassword("pw-with-default-cost")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(enc, "$argon2id$v=19$m=65536,t=2,p=2$") {
		t.Fatalf("encoding %q does not carry DefaultParams", enc)
	}
	if ok, err := CheckPassword(enc, "pw-with-default-cost"); !ok || err != nil {
		t.Fatalf("CheckPassword = %v, %v", ok, err)
	}
}

func TestCheckPasswordMalformed(t *testing.T) {
	good, err := HashPasswordWith(testParams, "password1")
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(good, "$")
	salt, key := parts[4], parts[5]
	for name, enc := range map[string]string{
		"empty":        "",
		"bcrypt":       "$2a$10$abcdefghijklmnopqrstuuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ012",
		"argon2i":      "$argon2i$v=19$m=1024,t=1,p=1$" + salt + "$" + key,
		"old version":  "$argon2id$v=16$m=1024,t=1,p=1$" + salt + "$" + key,
		"bad params":   "$argon2id$v=19$m=x,t=1,p=1$" + salt + "$" + key,
		"huge memory":  "$argon2id$v=19$m=4294967295,t=1,p=1$" + salt + "$" + key,
		"huge time":    "$argon2id$v=19$m=1024,t=100000,p=1$" + salt + "$" + key,
		"zero threads": "$argon2id$v=19$m=1024,t=1,p=0$" + salt + "$" + key,
		"bad salt":     "$argon2id$v=19$m=1024,t=1,p=1$!!!$" + key,
		"short key":    "$argon2id$v=19$m=1024,t=1,p=1$" + salt + "$AAAA",
		"extra field":  good + "$x",
	} {
		if _, err := CheckPassword(enc, "password1"); !errors.Is(err, ErrMalformedHash) {
			t.Errorf("%s: err = %v, want ErrMalformedHash", name, err)
		}
	}
}

func TestHashPasswordRejectsBadParams(t *testing.T) {
	p := testParams
	p.Memory = 0
	if _, err := HashPasswordWith(p, "password1"); err == nil {
		t.Fatal("zero memory accepted")
	}
}

func BenchmarkHashPassword(b *testing.B) {
	for b.Loop() {
		if _, err := HashPassword("correct horse battery"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkCheckPassword(b *testing.B) {
	enc, err := HashPassword("correct horse battery")
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if ok, err := CheckPassword(enc, "correct horse battery"); !ok || err != nil {
			b.Fatal(ok, err)
		}
	}
}
