package authn_test

import (
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/cloudrun-authn/pushgate/authn"
	"github.com/cloudrun-authn/pushgate/authn/authntest"
	"github.com/cloudrun-authn/pushgate/authn/mint"
)

// TestSharedIssuerDispatch: Google's service tokens and a "Sign in with
// Google" provider share Google's issuer (both spellings); the token's aud
// chooses the rule set, and an aud in neither is refused without any key
// being fetched.
func TestSharedIssuerDispatch(t *testing.T) {
	t.Parallel()
	const clientID = "1234-abc.apps.googleusercontent.com"
	newAuth := func(t *testing.T) (*authn.Authenticator, *authntest.KeyServer, *fakeClock) {
		t.Helper()
		keys := authntest.NewKeyServer(t, googleKey)
		clock := newFakeClock()
		a, err := authn.New(authn.Config{
			Google: &authn.GoogleConfig{Audiences: []string{testAudience}, ProjectID: testProject, CertsURL: keys.URL},
			Providers: []authn.OIDCProvider{{
				Name: "workspace", Issuer: "accounts.google.com", Audiences: []string{clientID}, JWKSURL: keys.URL,
				Claims: map[string]authn.ClaimValues{"hd": {"acme.com"}}, RequireEmailVerified: true,
			}},
			Logger: slog.New(slog.DiscardHandler),
			Now:    clock.Now,
		})
		if err != nil {
			t.Fatal(err)
		}
		return a, keys, clock
	}
	user := func(now time.Time, edit func(c map[string]any)) map[string]any {
		c := mint.GoogleClaims(clientID, "ada@acme.com", now, time.Hour)
		c["sub"], c["hd"] = "1098765", "acme.com"
		if edit != nil {
			edit(c)
		}
		return c
	}
	tests := []struct {
		name         string
		claims       func(now time.Time) map[string]any
		want         error
		wantKind     authn.Kind
		wantProvider string
	}{
		{"service token", func(now time.Time) map[string]any { return mint.GoogleClaims(testAudience, testEmail, now, time.Hour) }, nil, authn.KindService, ""},
		{"user of the workspace", func(now time.Time) map[string]any { return user(now, nil) }, nil, authn.KindUser, "workspace"},
		{"user, short issuer spelling", func(now time.Time) map[string]any {
			return user(now, func(c map[string]any) { c["iss"] = "accounts.google.com" })
		}, nil, authn.KindUser, "workspace"},
		{"user of another domain", func(now time.Time) map[string]any {
			return user(now, func(c map[string]any) { c["hd"] = "evil.com" })
		}, authn.ErrClaimNotAllowed, "", ""},
		{"user, email not verified", func(now time.Time) map[string]any {
			return user(now, func(c map[string]any) { c["email_verified"] = false })
		}, authn.ErrEmailNotVerified, "", ""},
		{"a user's token with a service account's email is still a user's", func(now time.Time) map[string]any {
			return user(now, func(c map[string]any) { c["email"] = testEmail })
		}, nil, authn.KindUser, "workspace"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a, _, clock := newAuth(t)
			p, err := a.Authenticate(bearer(http.MethodGet, sign(t, googleKey, tt.claims(clock.Now()))))
			if !errors.Is(err, tt.want) || (tt.want == nil && err != nil) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
			if err == nil && (p.Kind != tt.wantKind || p.Provider != tt.wantProvider) {
				t.Errorf("principal %s of %q, want %s of %q", p.Kind, p.Provider, tt.wantKind, tt.wantProvider)
			}
		})
	}
	t.Run("aud in neither", func(t *testing.T) {
		t.Parallel()
		a, keys, clock := newAuth(t)
		tok := sign(t, googleKey, mint.GoogleClaims("https://svc.example/pubsub/push", testEmail, clock.Now(), time.Hour))
		if _, err := a.Authenticate(bearer(http.MethodGet, tok)); !errors.Is(err, authn.ErrWrongAudience) {
			t.Errorf("got %v, want ErrWrongAudience", err)
		}
		if n := keys.Fetches(); n != 0 {
			t.Errorf("key fetches = %d, want 0", n)
		}
	})
}

// TestSharedIssuerNeedsDistinctAudiences: rule sets that share an issuer
// and an audience could not be told apart: New refuses them.
func TestSharedIssuerNeedsDistinctAudiences(t *testing.T) {
	t.Parallel()
	_, err := authn.New(authn.Config{
		Google: &authn.GoogleConfig{Audiences: []string{testAudience}, ProjectID: testProject},
		Providers: []authn.OIDCProvider{
			{Name: "workspace", Issuer: authn.GoogleIssuer, Audiences: []string{testAudience}},
		},
	})
	if err == nil {
		t.Error("New accepted a provider sharing Google's issuer and audience")
	}
	_, err = authn.New(authn.Config{
		Providers: []authn.OIDCProvider{
			{Name: "cognito", Issuer: "https://cognito.example/pool", Audiences: []string{"client"}},
			{Name: "cognito-api", Issuer: "https://cognito.example/pool", Audiences: []string{"client"}, AudienceClaim: "client_id"},
		},
	})
	if err != nil {
		t.Errorf("New refused two providers of one issuer that read the audience from different claims: %v", err)
	}
	_, err = authn.New(authn.Config{
		Clerk:     &authn.ClerkConfig{Issuer: clerkIssuer, SecretKey: clerkSecret},
		Providers: []authn.OIDCProvider{{Name: "copy", Issuer: clerkIssuer, Audiences: []string{"x"}}},
	})
	if err == nil {
		t.Error("New accepted a provider with the Clerk issuer")
	}
}

// TestClerkIssuerMustNotBeGoogles: a Clerk issuer that is Google's would
// share Google's issuer with no audience to tell them apart.
func TestClerkIssuerMustNotBeGoogles(t *testing.T) {
	t.Parallel()
	for _, iss := range []string{authn.GoogleIssuer, authn.GoogleIssuerShort} {
		_, err := authn.New(authn.Config{
			Google: &authn.GoogleConfig{Audiences: []string{testAudience}, ProjectID: testProject},
			Clerk:  &authn.ClerkConfig{Issuer: iss, SecretKey: clerkSecret},
		})
		if err == nil {
			t.Errorf("New accepted the Clerk issuer %s", iss)
		}
	}
}

// googleTransport answers for Google's discovery document and key set, so
// that a provider with Google's short issuer spelling is tested offline.
type googleTransport struct{ jwks []byte }

func (g googleTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	body := ""
	switch r.URL.String() {
	case "https://accounts.google.com/.well-known/openid-configuration":
		body = `{"issuer":"https://accounts.google.com","jwks_uri":"https://www.googleapis.com/oauth2/v3/certs"}`
	case "https://www.googleapis.com/oauth2/v3/certs":
		body = string(g.jwks)
	default:
		return &http.Response{StatusCode: http.StatusNotFound, Body: http.NoBody, Request: r}, nil
	}
	return &http.Response{StatusCode: http.StatusOK, Header: http.Header{}, Body: io.NopCloser(strings.NewReader(body)), Request: r}, nil
}

// TestDiscoveryOfGoogleShortIssuer: a provider configured with Google's
// short spelling finds its keys through Google's discovery document, which
// names the long one (either spelling counts as Google's issuer).
func TestDiscoveryOfGoogleShortIssuer(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	a, err := authn.New(authn.Config{
		Providers:  []authn.OIDCProvider{{Name: "workspace", Issuer: authn.GoogleIssuerShort, Audiences: []string{"client-1"}}},
		HTTPClient: &http.Client{Transport: googleTransport{jwks: mint.JWKSOf(googleKey)}},
		Now:        clock.Now,
	})
	if err != nil {
		t.Fatal(err)
	}
	tok := sign(t, googleKey, mint.GoogleClaims("client-1", "ada@acme.com", clock.Now(), time.Hour))
	if p, err := a.Authenticate(bearer(http.MethodGet, tok)); err != nil || p.Provider != "workspace" {
		t.Fatalf("got %+v, %v; want a workspace user", p, err)
	}
}
