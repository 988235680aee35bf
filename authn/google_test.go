package authn_test

import (
	"crypto"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/cloudrun-authn/pushgate/authn"
	"github.com/cloudrun-authn/pushgate/authn/authntest"
	"github.com/cloudrun-authn/pushgate/authn/mint"
)

// hs256WithPublicKey forges the classic algorithm-confusion token: HMAC-SHA256
// keyed with the verifier's public key.
func hs256WithPublicKey(t *testing.T, claims map[string]any) string {
	t.Helper()
	tok := unsigned(t, map[string]any{"alg": "HS256", "kid": googleKey.KID, "typ": "JWT"}, claims, "")
	input := strings.TrimSuffix(tok, ".")
	mac := hmac.New(sha256.New, googleKey.PublicKeyPEM())
	mac.Write([]byte(input))
	return input + "." + base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

// rs512 signs with RSA PKCS #1 v1.5 over SHA-512 under an RS512 header.
func rs512(t *testing.T, claims map[string]any) string {
	t.Helper()
	tok := unsigned(t, map[string]any{"alg": "RS512", "kid": googleKey.KID, "typ": "JWT"}, claims, "")
	input := strings.TrimSuffix(tok, ".")
	sum := sha512.Sum512([]byte(input))
	sig, err := rsa.SignPKCS1v15(rand.Reader, googleKey.Key, crypto.SHA512, sum[:])
	if err != nil {
		t.Fatal(err)
	}
	return input + "." + base64.RawURLEncoding.EncodeToString(sig)
}

// swapPayload puts b's payload between a's header and a's signature.
func swapPayload(a, b string) string {
	pa, pb := strings.Split(a, "."), strings.Split(b, ".")
	return pa[0] + "." + pb[1] + "." + pa[2]
}

func TestGoogleRules(t *testing.T) {
	t.Parallel()
	type edit func(c map[string]any, now time.Time)
	claimsCase := func(e edit) func(t *testing.T, f *fixture) string {
		return func(t *testing.T, f *fixture) string {
			c := f.googleClaims()
			if e != nil {
				e(c, f.clock.Now())
			}
			return sign(t, googleKey, c)
		}
	}
	tests := []struct {
		name  string
		token func(t *testing.T, f *fixture) string
		want  error // nil: accepted as a service
	}{
		{"valid", claimsCase(nil), nil},
		{"short issuer form", claimsCase(func(c map[string]any, _ time.Time) { c["iss"] = "accounts.google.com" }), nil},
		{"second key of the set", func(t *testing.T, f *fixture) string { return sign(t, googleKey2, f.googleClaims()) }, nil},
		{"aud array with a member", claimsCase(func(c map[string]any, _ time.Time) { c["aud"] = []string{"https://x.example", testAudience} }), nil},
		{"aud array without a member", claimsCase(func(c map[string]any, _ time.Time) { c["aud"] = []string{"https://x.example"} }), authn.ErrWrongAudience},
		{"wrong audience", claimsCase(func(c map[string]any, _ time.Time) { c["aud"] = "https://evil.example" }), authn.ErrWrongAudience},
		{"audience prefix", claimsCase(func(c map[string]any, _ time.Time) { c["aud"] = testAudience + "/" }), authn.ErrWrongAudience},
		{"missing audience", claimsCase(func(c map[string]any, _ time.Time) { delete(c, "aud") }), authn.ErrWrongAudience},
		{"other issuer", claimsCase(func(c map[string]any, _ time.Time) { c["iss"] = "https://accounts.google.com.evil.test" }), authn.ErrUnknownIssuer},
		{"http issuer", claimsCase(func(c map[string]any, _ time.Time) { c["iss"] = "http://accounts.google.com" }), authn.ErrUnknownIssuer},
		{"missing exp", claimsCase(func(c map[string]any, _ time.Time) { delete(c, "exp") }), authn.ErrMissingExpiry},
		{"exp not a number", claimsCase(func(c map[string]any, now time.Time) { c["exp"] = "4102444800" }), authn.ErrMalformedToken},
		{"expired inside skew", claimsCase(func(c map[string]any, now time.Time) { c["exp"] = now.Add(-29 * time.Second).Unix() }), nil},
		{"expired outside skew", claimsCase(func(c map[string]any, now time.Time) { c["exp"] = now.Add(-31 * time.Second).Unix() }), authn.ErrTokenExpired},
		{"iat in future inside skew", claimsCase(func(c map[string]any, now time.Time) { c["iat"] = now.Add(29 * time.Second).Unix() }), nil},
		{"iat in future outside skew", claimsCase(func(c map[string]any, now time.Time) { c["iat"] = now.Add(31 * time.Second).Unix() }), authn.ErrIssuedInFuture},
		{"nbf in future", claimsCase(func(c map[string]any, now time.Time) { c["nbf"] = now.Add(time.Hour).Unix() }), authn.ErrNotYetValid},
		{"email_verified false", claimsCase(func(c map[string]any, _ time.Time) { c["email_verified"] = false }), authn.ErrEmailNotVerified},
		{"email_verified missing", claimsCase(func(c map[string]any, _ time.Time) { delete(c, "email_verified") }), authn.ErrEmailNotVerified},
		{"email_verified string", claimsCase(func(c map[string]any, _ time.Time) { c["email_verified"] = "true" }), authn.ErrEmailNotVerified},
		{"email lookalike suffix", claimsCase(func(c map[string]any, _ time.Time) { c["email"] = "x@acme.iam.gserviceaccount.com.evil.test" }), authn.ErrEmailNotAllowed},
		{"email lookalike project", claimsCase(func(c map[string]any, _ time.Time) { c["email"] = "x@evil-acme.iam.gserviceaccount.com" }), authn.ErrEmailNotAllowed},
		{"email two at signs", claimsCase(func(c map[string]any, _ time.Time) { c["email"] = "x@evil.test@acme.iam.gserviceaccount.com" }), authn.ErrEmailNotAllowed},
		{"email empty local part", claimsCase(func(c map[string]any, _ time.Time) { c["email"] = "@acme.iam.gserviceaccount.com" }), authn.ErrEmailNotAllowed},
		{"person's account", claimsCase(func(c map[string]any, _ time.Time) { c["email"] = "someone@gmail.com" }), authn.ErrEmailNotAllowed},
		{"missing email", claimsCase(func(c map[string]any, _ time.Time) { delete(c, "email") }), authn.ErrEmailNotAllowed},
		{"listed email", claimsCase(func(c map[string]any, _ time.Time) { c["email"] = "123456789-compute@developer.gserviceaccount.com" }), nil},
		{"missing sub", claimsCase(func(c map[string]any, _ time.Time) { delete(c, "sub") }), authn.ErrMissingSubject},
		{"alg none", func(t *testing.T, f *fixture) string {
			return unsigned(t, map[string]any{"alg": "none", "typ": "JWT"}, f.googleClaims(), "")
		}, authn.ErrUnsupportedAlgorithm},
		{"alg none with kid", func(t *testing.T, f *fixture) string {
			return unsigned(t, map[string]any{"alg": "none", "kid": googleKey.KID}, f.googleClaims(), "")
		}, authn.ErrUnsupportedAlgorithm},
		{"HS256 keyed with the public key", func(t *testing.T, f *fixture) string { return hs256WithPublicKey(t, f.googleClaims()) }, authn.ErrUnsupportedAlgorithm},
		{"RS512", func(t *testing.T, f *fixture) string { return rs512(t, f.googleClaims()) }, authn.ErrUnsupportedAlgorithm},
		{"ES256 header with short signature", func(t *testing.T, f *fixture) string {
			return unsigned(t, map[string]any{"alg": "ES256", "kid": googleKey.KID}, f.googleClaims(), "AAAA")
		}, authn.ErrUnsupportedAlgorithm},
		{"unknown kid", func(t *testing.T, f *fixture) string { return sign(t, mustSigner(t, "nope"), f.googleClaims()) }, authn.ErrUnknownKey},
		{"right kid wrong key", func(t *testing.T, f *fixture) string { return sign(t, otherKeySameKID, f.googleClaims()) }, authn.ErrBadSignature},
		{"payload swapped between two valid tokens", func(t *testing.T, f *fixture) string {
			a := sign(t, googleKey, f.googleClaims())
			c := f.googleClaims()
			c["email"] = "admin@acme.iam.gserviceaccount.com"
			return swapPayload(a, sign(t, googleKey, c))
		}, authn.ErrBadSignature},
		{"signature truncated", func(t *testing.T, f *fixture) string {
			tok := sign(t, googleKey, f.googleClaims())
			return tok[:len(tok)-4]
		}, authn.ErrBadSignature},
		{"signature removed by Cloud Run", func(t *testing.T, f *fixture) string {
			tok := sign(t, googleKey, f.googleClaims())
			return tok[:strings.LastIndexByte(tok, '.')+1] + "SIGNATURE_REMOVED_BY_GOOGLE"
		}, authn.ErrSignatureRemoved},
		{"Clerk-signed token claiming Google's issuer", func(t *testing.T, f *fixture) string { return sign(t, clerkKey, f.googleClaims()) }, authn.ErrUnknownKey},
		{"Clerk key under Google's kid", func(t *testing.T, f *fixture) string {
			return sign(t, &mint.Signer{Key: clerkKey.Key, KID: googleKey.KID}, f.googleClaims())
		}, authn.ErrBadSignature},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			tok := tt.token(t, f)
			p, err := f.auth.Authenticate(bearer(http.MethodPost, tok))
			if !errors.Is(err, tt.want) || (tt.want == nil && err != nil) {
				t.Fatalf("Authenticate: got error %v, want %v", err, tt.want)
			}
			if tt.want == nil {
				var claims struct {
					Email string `json:"email"`
				}
				if err := p.Claims(&claims); err != nil {
					t.Errorf("Claims: %v", err)
				}
				if p.Kind != authn.KindService || p.Email == "" || p.Subject == "" || p.Expiry.IsZero() || claims.Email != p.Email {
					t.Errorf("principal = %+v, want a service with email, subject, expiry and claims", p)
				}
			}
			assertNoTokenLeak(t, "log", f.logs.String(), tok)
		})
	}
}

func TestGoogleDisabledRefusesGoogleTokens(t *testing.T) {
	t.Parallel()
	f := newFixture(t, func(c *authn.Config) { c.Google = nil })
	_, err := f.auth.Authenticate(bearer(http.MethodGet, sign(t, googleKey, f.googleClaims())))
	if !errors.Is(err, authn.ErrUnknownIssuer) {
		t.Fatalf("got %v, want ErrUnknownIssuer", err)
	}
	if got := f.google.Fetches(); got != 0 {
		t.Errorf("google key fetches = %d, want 0", got)
	}
}

func TestNoClockSkew(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		skew time.Duration
		want error
	}{
		{"default skew admits 20 s late", 0, nil},
		{"no skew refuses 20 s late", authn.NoClockSkew, authn.ErrTokenExpired},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, func(c *authn.Config) { c.ClockSkew = tt.skew })
			claims := f.googleClaims()
			claims["exp"] = f.clock.Now().Add(-20 * time.Second).Unix()
			_, err := f.auth.Authenticate(bearer(http.MethodGet, sign(t, googleKey, claims)))
			if !errors.Is(err, tt.want) {
				t.Errorf("got %v, want %v", err, tt.want)
			}
		})
	}
}

// TestDomainScopedProject: a domain-scoped project (example.com:app) has
// service accounts named …@app.example.com.iam.gserviceaccount.com.
func TestDomainScopedProject(t *testing.T) {
	t.Parallel()
	keys := authntest.NewKeyServer(t, googleKey)
	clock := newFakeClock()
	a, err := authn.New(authn.Config{
		Google: &authn.GoogleConfig{Audiences: []string{testAudience}, ProjectID: "example.com:app", CertsURL: keys.URL},
		Now:    clock.Now,
	})
	if err != nil {
		t.Fatal(err)
	}
	for email, want := range map[string]error{
		"push@app.example.com.iam.gserviceaccount.com": nil,
		"push@example.com:app.iam.gserviceaccount.com": authn.ErrEmailNotAllowed,
		"push@app.iam.gserviceaccount.com":             authn.ErrEmailNotAllowed,
	} {
		_, err := a.Authenticate(bearer(http.MethodGet, sign(t, googleKey, mint.GoogleClaims(testAudience, email, clock.Now(), time.Hour))))
		if !errors.Is(err, want) || want == nil && err != nil {
			t.Errorf("%s: got %v, want %v", email, err, want)
		}
	}
}
