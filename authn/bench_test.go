package authn_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"math/big"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/clerk/clerk-sdk-go/v2"
	"github.com/clerk/clerk-sdk-go/v2/jwks"
	clerkjwt "github.com/clerk/clerk-sdk-go/v2/jwt"
	"google.golang.org/api/idtoken"
	"google.golang.org/api/option"

	"github.com/cloudrun-authn/pushgate/authn"
	"github.com/cloudrun-authn/pushgate/authn/authntest"
	"github.com/cloudrun-authn/pushgate/authn/mint"
)

// These benchmarks compare, on the same tokens and keys:
//   - Cached: a repeated token (the Pub/Sub push case), served by the token cache;
//   - UncachedGoogle / UncachedClerk: full verification, token cache off
//     (for Clerk, our rules then clerk-sdk-go's jwt.Verify);
//   - RSAFloor: rsa.VerifyPKCS1v15 alone on a precomputed hash, the floor;
//   - IDTokenValidate: google.golang.org/api/idtoken, keys from the local server;
//   - ClerkJWTVerify: clerk-sdk-go's jwt.Verify with the key passed in, and
//     fetching the key set from a local Clerk API stand-in on every call.
// They print figures; none is asserted. Wall-clock time is real here,
// because idtoken and the Clerk SDK read it themselves.

type benchEnv struct {
	google, clerk *authntest.KeyServer
	googleTok     string
	clerkTok      string
}

func newBenchEnv(b *testing.B) *benchEnv {
	b.Helper()
	e := &benchEnv{
		google: authntest.NewKeyServer(b, googleKey, googleKey2),
		clerk:  authntest.NewClerkKeyServer(b, clerkSecret, clerkKey),
	}
	e.google.SetCacheControl("public, max-age=3600")
	now := time.Now()
	e.googleTok = sign(b, googleKey, mint.GoogleClaims(testAudience, testEmail, now, time.Hour))
	c := mint.ClerkClaims(clerkIssuer, clerkUser, now, time.Hour)
	c["azp"] = clerkParty
	e.clerkTok = sign(b, clerkKey, c)
	return e
}

func (e *benchEnv) authenticator(b *testing.B, cacheSize int) *authn.Authenticator {
	b.Helper()
	a, err := authn.New(authn.Config{
		Google:         &authn.GoogleConfig{Audiences: []string{testAudience}, ProjectID: testProject, CertsURL: e.google.URL},
		Clerk:          &authn.ClerkConfig{Issuer: clerkIssuer, SecretKey: clerkSecret, APIURL: e.clerk.URL, AuthorizedParties: []string{clerkParty}},
		TokenCacheSize: cacheSize,
	})
	if err != nil {
		b.Fatal(err)
	}
	return a
}

func benchAuthenticate(b *testing.B, a *authn.Authenticator, tok string) {
	b.Helper()
	r := bearer(http.MethodPost, tok)
	if _, err := a.Authenticate(r); err != nil { // warm keys (and cache)
		b.Fatalf("Authenticate: %v", err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := a.Authenticate(r); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkCached(b *testing.B) {
	e := newBenchEnv(b)
	benchAuthenticate(b, e.authenticator(b, 0), e.googleTok)
}

func BenchmarkUncachedGoogle(b *testing.B) {
	e := newBenchEnv(b)
	benchAuthenticate(b, e.authenticator(b, -1), e.googleTok)
}

func BenchmarkUncachedClerk(b *testing.B) {
	e := newBenchEnv(b)
	benchAuthenticate(b, e.authenticator(b, -1), e.clerkTok)
}

func BenchmarkRSAFloor(b *testing.B) {
	e := newBenchEnv(b)
	i := strings.LastIndexByte(e.googleTok, '.')
	sum := sha256.Sum256([]byte(e.googleTok[:i]))
	sig, err := base64.RawURLEncoding.DecodeString(e.googleTok[i+1:])
	if err != nil {
		b.Fatal(err)
	}
	pub := googleKey.PublicKey()
	b.ReportAllocs()
	for b.Loop() {
		if err := rsa.VerifyPKCS1v15(pub, crypto.SHA256, sum[:], sig); err != nil {
			b.Fatal(err)
		}
	}
}

// redirectTransport sends every request to target, keeping path and query:
// idtoken's certs URL is fixed at https://www.googleapis.com/oauth2/v3/certs.
type redirectTransport struct{ target *url.URL }

func (t redirectTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.URL.Scheme, r.URL.Host, r.Host = t.target.Scheme, t.target.Host, t.target.Host
	return http.DefaultTransport.RoundTrip(r)
}

func BenchmarkIDTokenValidate(b *testing.B) {
	e := newBenchEnv(b)
	target, err := url.Parse(e.google.URL)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	v, err := idtoken.NewValidator(ctx, option.WithHTTPClient(&http.Client{Transport: redirectTransport{target}}))
	if err != nil {
		b.Fatal(err)
	}
	if _, err := v.Validate(ctx, e.googleTok, testAudience); err != nil {
		b.Fatalf("Validate: %v", err)
	}
	fetches := e.google.Fetches()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := v.Validate(ctx, e.googleTok, testAudience); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	if got := e.google.Fetches(); got != fetches {
		b.Logf("idtoken refetched the key set %d times", got-fetches)
	}
}

func BenchmarkClerkJWTVerify(b *testing.B) {
	e := newBenchEnv(b)
	ctx := context.Background()
	b.Run("JWKPassed", func(b *testing.B) {
		jwk, err := clerk.JSONWebKeyFromPEM(string(clerkKey.PublicKeyPEM()))
		if err != nil {
			b.Fatal(err)
		}
		params := &clerkjwt.VerifyParams{Token: e.clerkTok, JWK: jwk}
		b.ReportAllocs()
		for b.Loop() {
			if _, err := clerkjwt.Verify(ctx, params); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("FetchingJWKS", func(b *testing.B) {
		apiURL, secret := e.clerk.URL+"/v1", clerkSecret
		client := &jwks.Client{Backend: clerk.NewBackend(&clerk.BackendConfig{
			HTTPClient: &http.Client{Timeout: 10 * time.Second}, URL: &apiURL, Key: &secret,
		})}
		params := &clerkjwt.VerifyParams{Token: e.clerkTok, JWKSClient: client}
		b.ReportAllocs()
		for b.Loop() {
			if _, err := clerkjwt.Verify(ctx, params); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkUncachedOIDC verifies a provider's token in full (token cache
// off) for each algorithm, beside BenchmarkSignatureOnly's bare library
// call on the same token: the difference is what parsing, the rules and
// the key lookup cost.
func BenchmarkUncachedOIDC(b *testing.B) {
	for _, alg := range []string{"RS256", "PS256", "ES256", "ES384", "EdDSA"} {
		b.Run(alg, func(b *testing.B) {
			s := algSigner(b, alg)
			keys := authntest.NewKeyServer(b)
			keys.SetBody(mint.JWKSOfAlg(s))
			a, err := authn.New(authn.Config{
				Providers:      []authn.OIDCProvider{{Name: "idp", Issuer: "https://idp.example", Audiences: []string{"api"}, JWKSURL: keys.URL, Algorithms: []string{alg}}},
				TokenCacheSize: -1,
			})
			if err != nil {
				b.Fatal(err)
			}
			now := time.Now()
			tok, err := s.Sign(map[string]any{"iss": "https://idp.example", "aud": "api", "sub": "u1", "iat": now.Unix(), "exp": now.Add(time.Hour).Unix()})
			if err != nil {
				b.Fatal(err)
			}
			benchAuthenticate(b, a, tok)
		})
	}
}

// BenchmarkSignatureOnly is the standard library's verification alone, on
// the tokens BenchmarkUncachedOIDC verifies: the floor under it.
func BenchmarkSignatureOnly(b *testing.B) {
	for _, alg := range []string{"RS256", "PS256", "ES256", "ES384", "EdDSA"} {
		b.Run(alg, func(b *testing.B) {
			s := algSigner(b, alg)
			tok, err := s.Sign(map[string]any{"iss": "https://idp.example", "aud": "api", "sub": "u1"})
			if err != nil {
				b.Fatal(err)
			}
			i := strings.LastIndexByte(tok, '.')
			input := []byte(tok[:i])
			sig, err := base64.RawURLEncoding.DecodeString(tok[i+1:])
			if err != nil {
				b.Fatal(err)
			}
			verify := libraryVerifier(b, alg, s.Key.Public())
			b.ReportAllocs()
			for b.Loop() {
				if !verify(input, sig) {
					b.Fatal("signature does not verify")
				}
			}
		})
	}
}

// libraryVerifier is the one standard-library call that checks alg's
// signature, with the hashing it needs.
func libraryVerifier(b *testing.B, alg string, pub crypto.PublicKey) func(input, sig []byte) bool {
	b.Helper()
	switch alg {
	case "RS256":
		return func(input, sig []byte) bool {
			sum := sha256.Sum256(input)
			return rsa.VerifyPKCS1v15(pub.(*rsa.PublicKey), crypto.SHA256, sum[:], sig) == nil
		}
	case "PS256":
		return func(input, sig []byte) bool {
			sum := sha256.Sum256(input)
			return rsa.VerifyPSS(pub.(*rsa.PublicKey), crypto.SHA256, sum[:], sig, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash}) == nil
		}
	case "ES256", "ES384":
		h := crypto.SHA256
		if alg == "ES384" {
			h = crypto.SHA384
		}
		return func(input, sig []byte) bool {
			d := h.New()
			d.Write(input)
			n := len(sig) / 2
			return ecdsa.Verify(pub.(*ecdsa.PublicKey), d.Sum(nil), new(big.Int).SetBytes(sig[:n]), new(big.Int).SetBytes(sig[n:]))
		}
	case "EdDSA":
		return func(input, sig []byte) bool { return ed25519.Verify(pub.(ed25519.PublicKey), input, sig) }
	}
	b.Fatalf("no verifier for %s", alg)
	return nil
}
