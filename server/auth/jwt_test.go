package auth

import (
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/parleychat/parley/shared/protocol"
)

func testKey(t testing.TB, id string) Key {
	t.Helper()
	k, err := GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	k.ID = id
	return k
}

func testRing(t testing.TB, keys ...Key) *Keyring {
	t.Helper()
	kr, err := NewKeyring(keys...)
	if err != nil {
		t.Fatal(err)
	}
	return kr
}

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func TestSignVerifyRoundTrip(t *testing.T) {
	kr := testRing(t, testKey(t, "k1"))
	tok, exp, err := kr.Sign("alice", "s1", t0, DefaultAccessTTL)
	if err != nil {
		t.Fatal(err)
	}
	if !exp.Equal(t0.Add(DefaultAccessTTL)) {
		t.Errorf("exp = %v, want %v", exp, t0.Add(DefaultAccessTTL))
	}
	c, err := kr.Verify(tok, t0.Add(time.Minute))
	user, gotExp := c.User, c.ExpiresAt
	if c.Session != "s1" {
		t.Errorf("sid = %q, want s1", c.Session)
	}
	if err != nil || user != "alice" || !gotExp.Equal(exp) {
		t.Fatalf("Verify = %q, %v, %v", user, gotExp, err)
	}
	// The header names the key and the algorithm.
	parsed, _, err := jwt.NewParser().ParseUnverified(tok, &jwt.RegisteredClaims{})
	if err != nil {
		t.Fatal(err)
	}
	if parsed.Header["kid"] != "k1" || parsed.Header["alg"] != "HS256" {
		t.Errorf("header = %v", parsed.Header)
	}
}

func TestVerifyExpired(t *testing.T) {
	kr := testRing(t, testKey(t, "k1"))
	tok, exp, err := kr.Sign("alice", "s1", t0, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	_, err = kr.Verify(tok, exp.Add(time.Second))
	if !errors.Is(err, ErrTokenExpired) || errors.Is(err, ErrTokenInvalid) {
		t.Fatalf("err = %v, want ErrTokenExpired only", err)
	}
	if CloseCode(err) != protocol.CloseTokenExpired {
		t.Errorf("CloseCode = %d", CloseCode(err))
	}
}

// signRaw signs claims with any method and key, setting kid.
func signRaw(t *testing.T, m jwt.SigningMethod, kid string, key any, claims jwt.Claims) string {
	t.Helper()
	tok := jwt.NewWithClaims(m, claims)
	if kid != "" {
		tok.Header["kid"] = kid
	}
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func goodClaims() jwt.RegisteredClaims {
	return jwt.RegisteredClaims{
		Subject:   "alice",
		Issuer:    Issuer,
		Audience:  jwt.ClaimStrings{Issuer},
		IssuedAt:  jwt.NewNumericDate(t0),
		ExpiresAt: jwt.NewNumericDate(t0.Add(time.Hour)),
	}
}

func TestVerifyRejects(t *testing.T) {
	k1 := testKey(t, "k1")
	kr := testRing(t, k1)
	good, _, err := kr.Sign("alice", "s1", t0, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	other := testKey(t, "k1") // same kid, different secret
	claimsWith := func(f func(*jwt.RegisteredClaims)) jwt.RegisteredClaims {
		c := goodClaims()
		f(&c)
		return c
	}
	// Flip a character of the signature (not the last one, whose low
	// bits base64url may ignore).
	sig := strings.LastIndexByte(good, '.') + 1
	flipped := []byte(good)
	flipped[sig] ^= 'A' ^ 'B'
	if flipped[sig] == good[sig] {
		t.Fatal("flip did nothing")
	}

	cases := map[string]string{
		"empty":            "",
		"garbage":          "not.a.jwt",
		"tampered sig":     string(flipped),
		"tampered payload": swapPayload(good, claimsWith(func(c *jwt.RegisteredClaims) { c.Subject = "mallory" })),
		"forged secret":    signRaw(t, jwt.SigningMethodHS256, "k1", other.Secret, goodClaims()),
		"alg none":         signRaw(t, jwt.SigningMethodNone, "k1", jwt.UnsafeAllowNoneSignatureType, goodClaims()),
		"HS384":            signRaw(t, jwt.SigningMethodHS384, "k1", k1.Secret, goodClaims()),
		"HS512":            signRaw(t, jwt.SigningMethodHS512, "k1", k1.Secret, goodClaims()),
		"RS256":            signRaw(t, jwt.SigningMethodRS256, "k1", rsaKey, goodClaims()),
		"unknown kid":      signRaw(t, jwt.SigningMethodHS256, "k2", k1.Secret, goodClaims()),
		"no kid":           signRaw(t, jwt.SigningMethodHS256, "", k1.Secret, goodClaims()),
		"wrong issuer":     signRaw(t, jwt.SigningMethodHS256, "k1", k1.Secret, claimsWith(func(c *jwt.RegisteredClaims) { c.Issuer = "other" })),
		"wrong audience":   signRaw(t, jwt.SigningMethodHS256, "k1", k1.Secret, claimsWith(func(c *jwt.RegisteredClaims) { c.Audience = jwt.ClaimStrings{"other"} })),
		"no exp":           signRaw(t, jwt.SigningMethodHS256, "k1", k1.Secret, claimsWith(func(c *jwt.RegisteredClaims) { c.ExpiresAt = nil })),
		"bad subject":      signRaw(t, jwt.SigningMethodHS256, "k1", k1.Secret, claimsWith(func(c *jwt.RegisteredClaims) { c.Subject = "" })),
		"not yet valid":    signRaw(t, jwt.SigningMethodHS256, "k1", k1.Secret, claimsWith(func(c *jwt.RegisteredClaims) { c.NotBefore = jwt.NewNumericDate(t0.Add(time.Minute)) })),
		"too long":         good + strings.Repeat("A", protocol.MaxTokenLen),
	}
	for name, tok := range cases {
		_, err := kr.Verify(tok, t0)
		if !errors.Is(err, ErrTokenInvalid) {
			t.Errorf("%s: err = %v, want ErrTokenInvalid", name, err)
			continue
		}
		if CloseCode(err) != protocol.CloseUnauthorized {
			t.Errorf("%s: CloseCode = %d", name, CloseCode(err))
		}
	}
}

// swapPayload replaces the payload of token with claims, keeping the
// header and signature.
func swapPayload(token string, claims jwt.RegisteredClaims) string {
	parts := strings.Split(token, ".")
	unsigned, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SigningString()
	parts[1] = strings.Split(unsigned, ".")[1]
	return strings.Join(parts, ".")
}

func TestKeyRotation(t *testing.T) {
	oldKey, newKey := testKey(t, "old"), testKey(t, "new")
	before := testRing(t, oldKey)
	tokOld, _, err := before.Sign("alice", "s1", t0, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	during := testRing(t, newKey, oldKey)
	if _, err := during.Verify(tokOld, t0); err != nil {
		t.Fatalf("old-key token during rotation: %v", err)
	}
	tokNew, _, err := during.Sign("bob", "s1", t0, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if c, err := during.Verify(tokNew, t0); err != nil || c.User != "bob" {
		t.Fatalf("new-key token: %+v, %v", c, err)
	}
	// A node not yet rotated still accepts nothing signed by the new key.
	if _, err := before.Verify(tokNew, t0); !errors.Is(err, ErrTokenInvalid) {
		t.Fatalf("new token on old ring: %v", err)
	}
	after := testRing(t, newKey)
	if _, err := after.Verify(tokOld, t0); !errors.Is(err, ErrTokenInvalid) {
		t.Fatalf("old-key token after rotation: %v", err)
	}
}

func BenchmarkVerify(b *testing.B) {
	kr := testRing(b, testKey(b, "k1"), testKey(b, "k0"))
	tok, _, err := kr.Sign("alice", "s1", t0, time.Hour)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := kr.Verify(tok, t0); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSign(b *testing.B) {
	kr := testRing(b, testKey(b, "k1"))
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := kr.Sign("alice", "s1", t0, time.Hour); err != nil {
			b.Fatal(err)
		}
	}
}
