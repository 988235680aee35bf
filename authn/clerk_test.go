package authn_test

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cloudrun-authn/pushgate/authn"
)

func TestClerkRules(t *testing.T) {
	t.Parallel()
	type edit func(c map[string]any, now time.Time)
	claimsCase := func(e edit) func(t *testing.T, f *fixture) string {
		return func(t *testing.T, f *fixture) string {
			c := f.clerkClaims()
			if e != nil {
				e(c, f.clock.Now())
			}
			return sign(t, clerkKey, c)
		}
	}
	tests := []struct {
		name   string
		token  func(t *testing.T, f *fixture) string
		cookie bool
		origin string // the request's Origin header
		method string
		want   error
	}{
		{name: "valid", token: claimsCase(nil)},
		{name: "no azp by bearer", token: claimsCase(func(c map[string]any, _ time.Time) { delete(c, "azp") })},
		{name: "azp not listed", token: claimsCase(func(c map[string]any, _ time.Time) { c["azp"] = "https://evil.example" }), want: authn.ErrUnauthorizedParty},
		{name: "azp empty string", token: claimsCase(func(c map[string]any, _ time.Time) { c["azp"] = "" }), want: authn.ErrUnauthorizedParty},
		{name: "azp not a string", token: claimsCase(func(c map[string]any, _ time.Time) { c["azp"] = 1 }), want: authn.ErrUnauthorizedParty},
		{name: "lookalike issuer clerk.evil.com", token: claimsCase(func(c map[string]any, _ time.Time) { c["iss"] = "https://clerk.evil.com" }), want: authn.ErrUnknownIssuer},
		{name: "issuer with trailing slash", token: claimsCase(func(c map[string]any, _ time.Time) { c["iss"] = clerkIssuer + "/" }), want: authn.ErrUnknownIssuer},
		{name: "issuer with other host prefix", token: claimsCase(func(c map[string]any, _ time.Time) { c["iss"] = "https://xclerk.acme.example" }), want: authn.ErrUnknownIssuer},
		{name: "issuer as suffix domain", token: claimsCase(func(c map[string]any, _ time.Time) { c["iss"] = clerkIssuer + ".evil.com" }), want: authn.ErrUnknownIssuer},
		{name: "issuer over http", token: claimsCase(func(c map[string]any, _ time.Time) { c["iss"] = strings.Replace(clerkIssuer, "https", "http", 1) }), want: authn.ErrUnknownIssuer},
		{name: "sts active", token: claimsCase(func(c map[string]any, _ time.Time) { c["sts"] = "active" })},
		{name: "sts pending", token: claimsCase(func(c map[string]any, _ time.Time) { c["sts"] = "pending" }), want: authn.ErrSessionNotActive},
		{name: "sts null", token: claimsCase(func(c map[string]any, _ time.Time) { c["sts"] = nil }), want: authn.ErrSessionNotActive},
		{name: "sts empty", token: claimsCase(func(c map[string]any, _ time.Time) { c["sts"] = "" }), want: authn.ErrSessionNotActive},
		{name: "sts not a string", token: claimsCase(func(c map[string]any, _ time.Time) { c["sts"] = true }), want: authn.ErrSessionNotActive},
		{name: "sts Active (case)", token: claimsCase(func(c map[string]any, _ time.Time) { c["sts"] = "Active" }), want: authn.ErrSessionNotActive},
		{name: "sts pending by cookie GET", cookie: true, method: http.MethodGet, token: claimsCase(func(c map[string]any, _ time.Time) { c["sts"] = "pending" }), want: authn.ErrSessionNotActive},
		{name: "missing sub", token: claimsCase(func(c map[string]any, _ time.Time) { delete(c, "sub") }), want: authn.ErrMissingSubject},
		{name: "missing exp", token: claimsCase(func(c map[string]any, _ time.Time) { delete(c, "exp") }), want: authn.ErrMissingExpiry},
		{name: "expired inside skew", token: claimsCase(func(c map[string]any, now time.Time) { c["exp"] = now.Add(-20 * time.Second).Unix() })},
		{name: "expired outside skew", token: claimsCase(func(c map[string]any, now time.Time) { c["exp"] = now.Add(-31 * time.Second).Unix() }), want: authn.ErrTokenExpired},
		{name: "nbf in future outside skew", token: claimsCase(func(c map[string]any, now time.Time) { c["nbf"] = now.Add(31 * time.Second).Unix() }), want: authn.ErrNotYetValid},
		{name: "nbf in future inside skew", token: claimsCase(func(c map[string]any, now time.Time) { c["nbf"] = now.Add(29 * time.Second).Unix() })},
		{name: "iat in future outside skew", token: claimsCase(func(c map[string]any, now time.Time) { c["iat"] = now.Add(31 * time.Second).Unix() }), want: authn.ErrIssuedInFuture},
		{name: "alg HS256", token: func(t *testing.T, f *fixture) string {
			return signWithHeader(t, clerkKey, map[string]any{"alg": "HS256", "kid": clerkKey.KID}, f.clerkClaims())
		}, want: authn.ErrUnsupportedAlgorithm},
		{name: "alg none", token: func(t *testing.T, f *fixture) string {
			return unsigned(t, map[string]any{"alg": "none"}, f.clerkClaims(), "")
		}, want: authn.ErrUnsupportedAlgorithm},
		{name: "unknown kid", token: func(t *testing.T, f *fixture) string { return sign(t, mustSigner(t, "ins_other"), f.clerkClaims()) }, want: authn.ErrUnknownKey},
		{name: "Google-signed token claiming the Clerk issuer", token: func(t *testing.T, f *fixture) string {
			return sign(t, googleKey, f.clerkClaims())
		}, want: authn.ErrUnknownKey},
		{name: "payload swapped", token: func(t *testing.T, f *fixture) string {
			a := sign(t, clerkKey, f.clerkClaims())
			c := f.clerkClaims()
			c["sub"] = "user_admin"
			return swapPayload(a, sign(t, clerkKey, c))
		}, want: authn.ErrBadSignature},
		{name: "cookie GET without azp", cookie: true, method: http.MethodGet, token: claimsCase(func(c map[string]any, _ time.Time) { delete(c, "azp") })},
		{name: "cookie POST with listed azp and origin", cookie: true, origin: clerkParty, method: http.MethodPost, token: claimsCase(nil)},
		{name: "cookie POST with listed azp, no origin", cookie: true, method: http.MethodPost, token: claimsCase(nil), want: authn.ErrCookieNeedsOrigin},
		{name: "cookie POST with listed azp from another origin", cookie: true, origin: "https://evil.example", method: http.MethodPost, token: claimsCase(nil), want: authn.ErrCookieNeedsOrigin},
		{name: "bearer POST from another origin", origin: "https://evil.example", method: http.MethodPost, token: claimsCase(nil)},
		{name: "cookie POST without azp", cookie: true, method: http.MethodPost, token: claimsCase(func(c map[string]any, _ time.Time) { delete(c, "azp") }), want: authn.ErrCookieNeedsParty},
		{name: "cookie DELETE without azp", cookie: true, method: http.MethodDelete, token: claimsCase(func(c map[string]any, _ time.Time) { delete(c, "azp") }), want: authn.ErrCookieNeedsParty},
		{name: "cookie PATCH with wrong azp", cookie: true, method: http.MethodPatch, token: claimsCase(func(c map[string]any, _ time.Time) { c["azp"] = "https://evil.example" }), want: authn.ErrUnauthorizedParty},
		{name: "cookie PUT with a Google token", cookie: true, method: http.MethodPut, token: func(t *testing.T, f *fixture) string { return sign(t, googleKey, f.googleClaims()) }, want: authn.ErrCookieNotSession},
		{name: "cookie GET with a Google token", cookie: true, method: http.MethodGet, token: func(t *testing.T, f *fixture) string { return sign(t, googleKey, f.googleClaims()) }, want: authn.ErrCookieNotSession},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			tok := tt.token(t, f)
			method := tt.method
			if method == "" {
				method = http.MethodPost
			}
			r := bearer(method, tok)
			if tt.cookie {
				r = cookie(method, tok)
			}
			if tt.origin != "" {
				r.Header.Set("Origin", tt.origin)
			}
			p, err := f.auth.Authenticate(r)
			if !errors.Is(err, tt.want) || (tt.want == nil && err != nil) {
				t.Fatalf("Authenticate: got error %v, want %v", err, tt.want)
			}
			if tt.want == nil && (p.Kind != authn.KindUser || p.Subject != clerkUser || p.SessionID == "" || p.Issuer != clerkIssuer) {
				t.Errorf("principal = %+v, want user %s with a session", p, clerkUser)
			}
			assertNoTokenLeak(t, "log", f.logs.String(), tok)
		})
	}
}

func TestClerkOrganizationClaims(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		edit      func(c map[string]any)
		wantID    string
		wantRole  string
		wantPerms []string
	}{
		{"none", func(map[string]any) {}, "", "", nil},
		{"version 1", func(c map[string]any) {
			c["org_id"], c["org_role"], c["org_permissions"] = "org_1", "org:admin", []string{"org:events:read"}
		}, "org_1", "org:admin", []string{"org:events:read"}},
		{"version 2", func(c map[string]any) {
			c["v"] = 2
			c["fea"] = "o:events"
			c["o"] = map[string]any{"id": "org_2", "rol": "admin", "per": "read,manage", "fpm": "3"}
		}, "org_2", "org:admin", []string{"org:events:read", "org:events:manage"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			c := f.clerkClaims()
			tt.edit(c)
			p, err := f.auth.Authenticate(bearer(http.MethodGet, sign(t, clerkKey, c)))
			if err != nil {
				t.Fatalf("Authenticate: %v", err)
			}
			if p.OrgID != tt.wantID || p.OrgRole != tt.wantRole || !slices.Equal(p.OrgPermissions, tt.wantPerms) {
				t.Errorf("org = (%q, %q, %v), want (%q, %q, %v)", p.OrgID, p.OrgRole, p.OrgPermissions, tt.wantID, tt.wantRole, tt.wantPerms)
			}
		})
	}
}

func TestClerkStaticPEMKey(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	pemWithEscapes := strings.ReplaceAll(string(clerkKey.PublicKeyPEM()), "\n", `\n`)
	metrics := newMetricReader()
	a, err := authn.New(authn.Config{
		Clerk:         &authn.ClerkConfig{Issuer: clerkIssuer, JWTKeyPEM: pemWithEscapes},
		Now:           clock.Now,
		MeterProvider: metrics.provider,
	})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	tok := sign(t, clerkKey, map[string]any{"iss": clerkIssuer, "sub": "user_1", "exp": clock.Now().Add(time.Minute).Unix()})
	if _, err := a.Authenticate(bearer(http.MethodGet, tok)); err != nil {
		t.Errorf("Authenticate with PEM key: %v", err)
	}
	forged := sign(t, googleKey, map[string]any{"iss": clerkIssuer, "sub": "user_1", "exp": clock.Now().Add(time.Minute).Unix()})
	if _, err := a.Authenticate(bearer(http.MethodGet, forged)); !errors.Is(err, authn.ErrBadSignature) {
		t.Errorf("token of another key: got %v, want ErrBadSignature", err)
	}
	if got := metrics.count(t, "pushgate.keys.fetches"); got != 0 {
		t.Errorf("key fetches = %d, want 0 with a static key", got)
	}
}

func TestClerkJWKSNeedsSecret(t *testing.T) {
	t.Parallel()
	f := newFixture(t, func(c *authn.Config) { c.Clerk.SecretKey = "sk_test_wrong" })
	_, err := f.auth.Authenticate(bearer(http.MethodGet, sign(t, clerkKey, f.clerkClaims())))
	if !errors.Is(err, authn.ErrKeysUnavailable) {
		t.Fatalf("with a wrong secret: got %v, want ErrKeysUnavailable", err)
	}
	if strings.Contains(f.logs.String(), "sk_test_wrong") {
		t.Error("log contains the secret key")
	}
}

func TestIssuerFromPublishableKey(t *testing.T) {
	t.Parallel()
	enc := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	tests := []struct {
		pk      string
		want    string
		wantErr bool
	}{
		{pk: "pk_test_" + enc("clerk.acme.example$"), want: "https://clerk.acme.example"},
		{pk: "pk_live_" + enc("clerk.acme.com$"), want: "https://clerk.acme.com"},
		{pk: "pk_test_" + strings.TrimRight(enc("happy-otter-12.clerk.accounts.dev$"), "="), want: "https://happy-otter-12.clerk.accounts.dev"},
		{pk: "pk_test_" + enc("clerk.acme.example"), wantErr: true},    // no $
		{pk: "pk_test_" + enc("$"), wantErr: true},                     // empty host
		{pk: "pk_test_" + enc("evil.example/path$"), wantErr: true},    // not a host
		{pk: "pk_test_" + enc("clerk.acme.example$x$"), wantErr: true}, // stray $
		{pk: "sk_test_" + enc("clerk.acme.example$"), wantErr: true},   // secret key prefix
		{pk: "pk_prod_" + enc("clerk.acme.example$"), wantErr: true},   // unknown prefix
		{pk: "pk_test_!!!notbase64", wantErr: true},
		{pk: "", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.pk, func(t *testing.T) {
			t.Parallel()
			got, err := authn.IssuerFromPublishableKey(tt.pk)
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Errorf("IssuerFromPublishableKey = %q, %v; want %q, error %v", got, err, tt.want, tt.wantErr)
			}
		})
	}
}

func TestParseRSAPublicKeyPEM(t *testing.T) {
	t.Parallel()
	got, err := authn.ParseRSAPublicKeyPEM(string(clerkKey.PublicKeyPEM()))
	if err != nil || !got.Equal(clerkKey.PublicKey()) {
		t.Errorf("ParseRSAPublicKeyPEM(PKIX) = %v, %v", got, err)
	}
	weak, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	pemOf := func(pub *rsa.PublicKey) string {
		der, err := x509.MarshalPKIXPublicKey(pub)
		if err != nil {
			t.Fatal(err)
		}
		return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
	}
	even := new(big.Int).SetBit(new(big.Int).Set(clerkKey.PublicKey().N), 0, 0)
	for _, bad := range []string{"", "not pem", string(clerkKey.PrivateKeyPEM()), pemOf(&weak.PublicKey),
		pemOf(&rsa.PublicKey{N: clerkKey.PublicKey().N, E: 4}), pemOf(&rsa.PublicKey{N: even, E: 65537})} {
		if _, err := authn.ParseRSAPublicKeyPEM(bad); err == nil {
			t.Errorf("ParseRSAPublicKeyPEM(%.20q…) succeeded, want an error", bad)
		}
	}
}

func TestClerkConfigRedactsSecret(t *testing.T) {
	t.Parallel()
	cfg := authn.ClerkConfig{Issuer: clerkIssuer, SecretKey: clerkSecret}
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("config", "clerk", cfg, "ptr", &cfg)
	outputs := map[string]string{
		"slog":   buf.String(),
		"%v":     fmt.Sprintf("%v", cfg),
		"%+v":    fmt.Sprintf("%+v", cfg),
		"%#v":    fmt.Sprintf("%#v", cfg),
		"%v ptr": fmt.Sprintf("%v", &cfg),
	}
	//lint:ignore S1025 the %s verb is what this case checks
	outputs["%s"] = fmt.Sprintf("%s", cfg)
	for how, out := range outputs {
		if strings.Contains(out, clerkSecret) {
			t.Errorf("%s output contains the secret: %s", how, out)
		}
		if !strings.Contains(out, "REDACTED") {
			t.Errorf("%s output = %s, want a redaction marker", how, out)
		}
	}
}
