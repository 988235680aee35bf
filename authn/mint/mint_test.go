package mint_test

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/cloudrun-authn/pushgate/authn/mint"
)

func newSigner(t *testing.T, kid string) *mint.Signer {
	t.Helper()
	s, err := mint.NewSigner(kid)
	if err != nil {
		t.Fatalf("NewSigner: %v", err)
	}
	return s
}

func decodeJSON(t *testing.T, seg string, v any) {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(seg)
	if err != nil {
		t.Fatalf("segment is not unpadded base64url: %v", err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("segment is not JSON: %v", err)
	}
}

func TestSignProducesVerifiableRS256(t *testing.T) {
	t.Parallel()
	s := newSigner(t, "kid-1")
	tok, err := s.Sign(map[string]any{"sub": "x", "exp": int64(1893456000)})
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("got %d segments, want 3", len(parts))
	}
	var header map[string]string
	decodeJSON(t, parts[0], &header)
	if want := (map[string]string{"alg": "RS256", "kid": "kid-1", "typ": "JWT"}); len(header) != 3 || header["alg"] != want["alg"] || header["kid"] != want["kid"] || header["typ"] != want["typ"] {
		t.Errorf("header = %v, want %v", header, want)
	}
	var claims map[string]any
	decodeJSON(t, parts[1], &claims)
	if claims["sub"] != "x" || claims["exp"] != float64(1893456000) {
		t.Errorf("claims = %v", claims)
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if err := rsa.VerifyPKCS1v15(s.PublicKey(), crypto.SHA256, sum[:], sig); err != nil {
		t.Errorf("signature does not verify: %v", err)
	}
}

func TestJWKSOf(t *testing.T) {
	t.Parallel()
	a, b := newSigner(t, "a"), newSigner(t, "b")
	var set struct {
		Keys []mint.JWK `json:"keys"`
	}
	if err := json.Unmarshal(mint.JWKSOf(a, nil, b), &set); err != nil {
		t.Fatal(err)
	}
	if len(set.Keys) != 2 {
		t.Fatalf("got %d keys, want 2", len(set.Keys))
	}
	for i, s := range []*mint.Signer{a, b} {
		k := set.Keys[i]
		if k.Kid != s.KID || k.Kty != "RSA" || k.Alg != "RS256" || k.Use != "sig" {
			t.Errorf("key %d = %+v", i, k)
		}
		n, _ := base64.RawURLEncoding.DecodeString(k.N)
		e, _ := base64.RawURLEncoding.DecodeString(k.E)
		if new(big.Int).SetBytes(n).Cmp(s.Key.N) != 0 || int(new(big.Int).SetBytes(e).Int64()) != s.Key.E {
			t.Errorf("key %d: n/e do not match the signer's public key", i)
		}
	}
	if got := string(mint.JWKSOf()); got != `{"keys":[]}` {
		t.Errorf("empty set = %s", got)
	}
}

func TestPEMRoundTrip(t *testing.T) {
	t.Parallel()
	s := newSigner(t, "k")
	back, err := mint.NewSignerFromPEM("k", s.PrivateKeyPEM())
	if err != nil {
		t.Fatal(err)
	}
	if !back.Key.Equal(s.Key) {
		t.Error("private key changed in the round trip")
	}
	if _, err := mint.NewSignerFromPEM("k", s.PublicKeyPEM()); err == nil {
		t.Error("NewSignerFromPEM accepted a public key")
	}
	if _, err := mint.NewSignerFromPEM("", s.PrivateKeyPEM()); err == nil {
		t.Error("NewSignerFromPEM accepted an empty key ID")
	}
}

func TestClaims(t *testing.T) {
	t.Parallel()
	now := time.Unix(1893456000, 0)
	g := mint.GoogleClaims("aud-1", "sa@p.iam.gserviceaccount.com", now, time.Hour)
	if g["iss"] != "https://accounts.google.com" || g["aud"] != "aud-1" || g["email"] != "sa@p.iam.gserviceaccount.com" ||
		g["email_verified"] != true || g["iat"] != now.Unix() || g["exp"] != now.Add(time.Hour).Unix() || g["azp"] != g["sub"] {
		t.Errorf("GoogleClaims = %v", g)
	}
	sub, _ := g["sub"].(string)
	if len(sub) != 21 || strings.Trim(sub, "0123456789") != "" {
		t.Errorf("sub = %q, want 21 digits", sub)
	}
	if again := mint.GoogleClaims("aud-1", "sa@p.iam.gserviceaccount.com", now, time.Hour); again["sub"] != sub {
		t.Error("sub is not stable for one email")
	}
	c := mint.ClerkClaims("https://clerk.x", "user_1", now, time.Minute)
	sid, _ := c["sid"].(string)
	if c["iss"] != "https://clerk.x" || c["sub"] != "user_1" || !strings.HasPrefix(sid, "sess_") ||
		c["nbf"] != now.Unix() || c["exp"] != now.Add(time.Minute).Unix() {
		t.Errorf("ClerkClaims = %v", c)
	}
}
