package authn_test

import (
	"crypto"
	"errors"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cloudrun-authn/pushgate/authn"
	"github.com/cloudrun-authn/pushgate/authn/authntest"
	"github.com/cloudrun-authn/pushgate/authn/mint"
)

// oidcIdP is a stand-in for an OpenID Connect provider: its discovery
// document and JWKS, served on loopback, and its signing key.
type oidcIdP struct {
	srv     *httptest.Server
	signer  *mint.AlgSigner
	mu      sync.Mutex
	issuer  string // what the discovery document says; srv.URL by default
	down    bool
	fetches atomic.Int64 // JWKS fetches
}

// algSigners are generated once per test binary: RSA keys are slow to make.
var (
	algSignersOnce sync.Once
	algSigners     map[string]*mint.AlgSigner
)

func algSigner(t testing.TB, alg string) *mint.AlgSigner {
	t.Helper()
	algSignersOnce.Do(func() {
		algSigners = map[string]*mint.AlgSigner{}
		for _, a := range []string{"RS256", "RS384", "RS512", "PS256", "ES256", "ES384", "EdDSA"} {
			s, err := mint.NewAlgSigner("key-"+a, a)
			if err != nil {
				panic(err)
			}
			algSigners[a] = s
		}
	})
	return algSigners[alg]
}

func newIdP(t *testing.T, alg string) *oidcIdP {
	t.Helper()
	idp := &oidcIdP{signer: algSigner(t, alg)}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		idp.mu.Lock()
		down, issuer := idp.down, idp.issuer
		idp.mu.Unlock()
		if down {
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"issuer":` + strconv.Quote(issuer) + `,"jwks_uri":` + strconv.Quote(idp.srv.URL+"/keys") + `}`))
	})
	mux.HandleFunc("GET /keys", func(w http.ResponseWriter, r *http.Request) {
		idp.fetches.Add(1)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(mint.JWKSOfAlg(idp.signer))
	})
	idp.srv = httptest.NewServer(mux)
	idp.issuer = idp.srv.URL
	t.Cleanup(idp.srv.Close)
	return idp
}

func (idp *oidcIdP) setDown(down bool) {
	idp.mu.Lock()
	defer idp.mu.Unlock()
	idp.down = down
}

// claims are a provider's usual ID token claims for a user.
func (idp *oidcIdP) claims(now time.Time, aud string) map[string]any {
	return map[string]any{
		"iss": idp.srv.URL, "sub": "00u1abcd", "aud": aud, "email": "ada@acme.com", "email_verified": true,
		"iat": now.Unix(), "exp": now.Add(time.Hour).Unix(),
	}
}

func (idp *oidcIdP) sign(t *testing.T, claims map[string]any) string {
	t.Helper()
	tok, err := idp.signer.Sign(claims)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// newOIDCAuth is an Authenticator with Google (for services) and the given
// providers, and its clock.
func newOIDCAuth(t *testing.T, providers ...authn.OIDCProvider) (*authn.Authenticator, *fakeClock, *syncBuffer) {
	t.Helper()
	clock := newFakeClock()
	logs := &syncBuffer{}
	google := authntest.NewKeyServer(t, googleKey)
	a, err := authn.New(authn.Config{
		Google: &authn.GoogleConfig{
			Audiences: []string{testAudience}, ProjectID: testProject, CertsURL: google.URL,
		},
		Providers:              providers,
		GatewayServiceAccounts: []string{gatewayEmail},
		Logger:                 slog.New(slog.NewJSONHandler(logs, nil)),
		Now:                    clock.Now,
	})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return a, clock, logs
}

const gatewayEmail = "gateway@" + testProject + ".iam.gserviceaccount.com"

func edited(c map[string]any, edit func(map[string]any)) map[string]any {
	c = maps.Clone(c)
	if edit != nil {
		edit(c)
	}
	return c
}

// TestOIDCProviderRules: every rule of an OpenID Connect provider, for the
// provider shapes of the README (an Okta-like RS256 provider with a groups
// rule, an Auth0-like ES256 one with an aud array, Cognito access tokens
// by client_id, one signing with EdDSA and one with PS256).
func TestOIDCProviderRules(t *testing.T) {
	t.Parallel()
	type tokenCase struct {
		name string
		edit func(c map[string]any)
		alg  string // sign under another alg's key (and header)
		want error
	}
	shapes := []struct {
		name     string
		alg      string
		provider func(idp *oidcIdP) authn.OIDCProvider
		aud      any
		valid    func(c map[string]any) // what a valid token of the shape adds
		cases    []tokenCase
	}{
		{
			name: "okta, RS256, groups", alg: "RS256", aud: "api://default",
			provider: func(idp *oidcIdP) authn.OIDCProvider {
				return authn.OIDCProvider{Name: "okta", Issuer: idp.srv.URL, Audiences: []string{"api://default"},
					Claims: map[string]authn.ClaimValues{"groups": {"admins", "ops"}}}
			},
			valid: func(c map[string]any) { c["groups"] = []string{"users", "ops"} },
			cases: []tokenCase{
				{name: "group not allowed", edit: func(c map[string]any) { c["groups"] = []string{"users"} }, want: authn.ErrClaimNotAllowed},
				{name: "no groups", edit: func(c map[string]any) { delete(c, "groups") }, want: authn.ErrClaimNotAllowed},
				{name: "groups of another type", edit: func(c map[string]any) { c["groups"] = map[string]any{"admins": true} }, want: authn.ErrClaimNotAllowed},
				{name: "groups a string", edit: func(c map[string]any) { c["groups"] = "admins" }},
			},
		},
		{
			name: "auth0, ES256, aud array, email verified", alg: "ES256", aud: []string{"https://api.acme.com", "https://acme.auth0.com/userinfo"},
			provider: func(idp *oidcIdP) authn.OIDCProvider {
				return authn.OIDCProvider{Name: "auth0", Issuer: idp.srv.URL, Audiences: []string{"https://api.acme.com"},
					Algorithms: []string{"ES256"}, RequireEmailVerified: true}
			},
			cases: []tokenCase{
				{name: "email not verified", edit: func(c map[string]any) { c["email_verified"] = false }, want: authn.ErrEmailNotVerified},
				{name: "email_verified a string", edit: func(c map[string]any) { c["email_verified"] = "true" }, want: authn.ErrEmailNotVerified},
				{name: "aud array without ours", edit: func(c map[string]any) { c["aud"] = []string{"https://other.example"} }, want: authn.ErrWrongAudience},
				{name: "RS256 not accepted", alg: "RS256", want: authn.ErrUnsupportedAlgorithm},
			},
		},
		{
			name: "cognito access token, client_id", alg: "RS256", aud: nil,
			provider: func(idp *oidcIdP) authn.OIDCProvider {
				return authn.OIDCProvider{Name: "cognito", Issuer: idp.srv.URL, Audiences: []string{"4vbo2client"},
					AudienceClaim: "client_id", Claims: map[string]authn.ClaimValues{"token_use": {"access"}}}
			},
			valid: func(c map[string]any) { c["client_id"], c["token_use"] = "4vbo2client", "access" },
			cases: []tokenCase{
				{name: "id token refused", edit: func(c map[string]any) { c["token_use"] = "id" }, want: authn.ErrClaimNotAllowed},
				{name: "other client", edit: func(c map[string]any) { c["client_id"] = "other" }, want: authn.ErrWrongAudience},
				{name: "no client_id", edit: func(c map[string]any) { delete(c, "client_id") }, want: authn.ErrWrongAudience},
				{name: "client_id in aud only", edit: func(c map[string]any) { delete(c, "client_id"); c["aud"] = "4vbo2client" }, want: authn.ErrWrongAudience},
				{name: "client_id not a string", edit: func(c map[string]any) { c["client_id"] = []string{"4vbo2client"} }, want: authn.ErrWrongAudience},
			},
		},
		{
			name: "EdDSA", alg: "EdDSA", aud: "acme",
			provider: func(idp *oidcIdP) authn.OIDCProvider {
				return authn.OIDCProvider{Name: "ed", Issuer: idp.srv.URL, Audiences: []string{"acme"}, Algorithms: []string{"EdDSA"}}
			},
			cases: []tokenCase{{name: "ES256 not accepted", alg: "ES256", want: authn.ErrUnsupportedAlgorithm}},
		},
		{
			name: "PS256 and RS384", alg: "PS256", aud: "acme",
			provider: func(idp *oidcIdP) authn.OIDCProvider {
				return authn.OIDCProvider{Name: "ps", Issuer: idp.srv.URL, Audiences: []string{"acme"}, Algorithms: []string{"PS256", "RS384"}}
			},
			cases: []tokenCase{{name: "RS384, a key of another kid", alg: "RS384", want: authn.ErrUnknownKey}},
		},
	}
	common := []tokenCase{
		{name: "valid"},
		{name: "expired outside skew", edit: func(c map[string]any) { c["exp"] = c["iat"].(int64) - 31 }, want: authn.ErrTokenExpired},
		{name: "no exp", edit: func(c map[string]any) { delete(c, "exp") }, want: authn.ErrMissingExpiry},
		{name: "nbf in the future", edit: func(c map[string]any) { c["nbf"] = c["iat"].(int64) + 31 }, want: authn.ErrNotYetValid},
		{name: "iat in the future", edit: func(c map[string]any) { c["iat"] = c["iat"].(int64) + 31 }, want: authn.ErrIssuedInFuture},
		{name: "no sub", edit: func(c map[string]any) { delete(c, "sub") }, want: authn.ErrMissingSubject},
		{name: "other issuer", edit: func(c map[string]any) { c["iss"] = "https://evil.example" }, want: authn.ErrUnknownIssuer},
	}
	for _, shape := range shapes {
		t.Run(shape.name, func(t *testing.T) {
			t.Parallel()
			idp := newIdP(t, shape.alg)
			p := shape.provider(idp)
			a, clock, logs := newOIDCAuth(t, p)
			base := idp.claims(clock.Now(), "")
			if shape.aud == nil {
				delete(base, "aud")
			} else {
				base["aud"] = shape.aud
			}
			if shape.valid != nil {
				shape.valid(base)
			}
			for _, tc := range append(common, shape.cases...) {
				c := edited(base, tc.edit)
				signer := idp.signer
				if tc.alg != "" {
					signer = algSigner(t, tc.alg)
				}
				tok, err := signer.Sign(c)
				if err != nil {
					t.Fatal(err)
				}
				got, err := a.Authenticate(bearer(http.MethodGet, tok))
				if !errors.Is(err, tc.want) || (tc.want == nil && err != nil) {
					t.Errorf("%s: got %v, want %v", tc.name, err, tc.want)
					continue
				}
				if err == nil && (got.Kind != authn.KindUser || got.Provider != p.Name || got.Subject != "00u1abcd" || got.Email != "ada@acme.com") {
					t.Errorf("%s: principal %+v, want user 00u1abcd of %s with ada's email", tc.name, got, p.Name)
				}
				assertNoTokenLeak(t, "log", logs.String(), tok)
			}
		})
	}
}

// TestOIDCProviderKeys: a token of provider A signed with provider B's key
// (same kid) is refused; keys come from discovery, whose issuer must be the
// configured one; discovery down at start gives 503 with a retry, then
// recovers.
func TestOIDCProviderKeys(t *testing.T) {
	t.Parallel()
	t.Run("signed with another provider's key", func(t *testing.T) {
		t.Parallel()
		a1, b1 := newIdP(t, "ES256"), newIdP(t, "ES256")
		b1.signer = &mint.AlgSigner{KID: a1.signer.KID, Alg: "ES256", Key: mustAlgKey(t, "ES256")}
		a, clock, _ := newOIDCAuth(t,
			authn.OIDCProvider{Name: "a", Issuer: a1.srv.URL, Audiences: []string{"x"}, Algorithms: []string{"ES256"}},
			authn.OIDCProvider{Name: "b", Issuer: b1.srv.URL, Audiences: []string{"x"}, Algorithms: []string{"ES256"}})
		claims := a1.claims(clock.Now(), "x") // A's issuer, B's key under A's kid
		if _, err := a.Authenticate(bearer(http.MethodGet, b1.sign(t, claims))); !errors.Is(err, authn.ErrBadSignature) {
			t.Errorf("got %v, want ErrBadSignature", err)
		}
		if _, err := a.Authenticate(bearer(http.MethodGet, a1.sign(t, claims))); err != nil {
			t.Errorf("A's own token: %v", err)
		}
	})
	t.Run("discovery names another issuer", func(t *testing.T) {
		t.Parallel()
		idp := newIdP(t, "RS256")
		idp.issuer = "https://evil.example"
		a, clock, _ := newOIDCAuth(t, authn.OIDCProvider{Name: "okta", Issuer: idp.srv.URL, Audiences: []string{"x"}})
		_, err := a.Authenticate(bearer(http.MethodGet, idp.sign(t, idp.claims(clock.Now(), "x"))))
		if !errors.Is(err, authn.ErrKeysUnavailable) {
			t.Errorf("got %v, want ErrKeysUnavailable", err)
		}
		if idp.fetches.Load() != 0 {
			t.Error("the JWKS was fetched although discovery named another issuer")
		}
	})
	t.Run("discovery down at start, then up", func(t *testing.T) {
		t.Parallel()
		idp := newIdP(t, "RS256")
		idp.setDown(true)
		a, clock, _ := newOIDCAuth(t, authn.OIDCProvider{Name: "okta", Issuer: idp.srv.URL, Audiences: []string{"x"}})
		tok := idp.sign(t, idp.claims(clock.Now(), "x"))
		rec := httptest.NewRecorder()
		a.Middleware(http.NotFoundHandler()).ServeHTTP(rec, bearer(http.MethodGet, tok))
		if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") == "" {
			t.Fatalf("discovery down: %d, Retry-After %q; want 503 with Retry-After", rec.Code, rec.Header().Get("Retry-After"))
		}
		idp.setDown(false)
		clock.Advance(authn.FetchRetryInterval)
		if _, err := a.Authenticate(bearer(http.MethodGet, tok)); err != nil {
			t.Errorf("after recovery: %v", err)
		}
	})
	t.Run("jwksUrl given: no discovery", func(t *testing.T) {
		t.Parallel()
		idp := newIdP(t, "RS256")
		idp.setDown(true) // discovery would fail
		a, clock, _ := newOIDCAuth(t, authn.OIDCProvider{Name: "okta", Issuer: idp.srv.URL, Audiences: []string{"x"}, JWKSURL: idp.srv.URL + "/keys"})
		if _, err := a.Authenticate(bearer(http.MethodGet, idp.sign(t, idp.claims(clock.Now(), "x")))); err != nil {
			t.Errorf("got %v", err)
		}
	})
	t.Run("a provider token in the session cookie", func(t *testing.T) {
		t.Parallel()
		idp := newIdP(t, "RS256")
		a, clock, _ := newOIDCAuth(t, authn.OIDCProvider{Name: "okta", Issuer: idp.srv.URL, Audiences: []string{"x"}})
		if _, err := a.Authenticate(cookie(http.MethodGet, idp.sign(t, idp.claims(clock.Now(), "x")))); !errors.Is(err, authn.ErrCookieNotSession) {
			t.Errorf("got %v, want ErrCookieNotSession", err)
		}
	})
}

func mustAlgKey(t *testing.T, alg string) crypto.Signer {
	t.Helper()
	s, err := mint.NewAlgSigner("k", alg)
	if err != nil {
		t.Fatal(err)
	}
	return s.Key
}

// TestProviderAndClaimPolicies: RequireUser(FromProvider(…)) admits only
// users of the named providers, and WithClaim a string claim equal to the
// value or an array claim that contains it (Cognito's cognito:groups).
func TestProviderAndClaimPolicies(t *testing.T) {
	t.Parallel()
	idp := newIdP(t, "RS256")
	a, clock, _ := newOIDCAuth(t, authn.OIDCProvider{Name: "okta", Issuer: idp.srv.URL, Audiences: []string{"x"}})
	tokenWith := func(edit func(c map[string]any)) string {
		return idp.sign(t, edited(idp.claims(clock.Now(), "x"), edit))
	}
	service := sign(t, googleKey, mint.GoogleClaims(testAudience, testEmail, clock.Now(), time.Hour))
	tests := []struct {
		name  string
		rules []authn.UserRule
		token string
		want  int
	}{
		{"provider listed", []authn.UserRule{authn.FromProvider("auth0", "okta")}, tokenWith(nil), http.StatusOK},
		{"provider not listed", []authn.UserRule{authn.FromProvider("clerk")}, tokenWith(nil), http.StatusForbidden},
		{"a service is no user of any provider", []authn.UserRule{authn.FromProvider("okta")}, service, http.StatusForbidden},
		{"array claim holds the value", []authn.UserRule{authn.WithClaim("cognito:groups", "admins")},
			tokenWith(func(c map[string]any) { c["cognito:groups"] = []string{"users", "admins"} }), http.StatusOK},
		{"array claim lacks the value", []authn.UserRule{authn.WithClaim("cognito:groups", "admins")},
			tokenWith(func(c map[string]any) { c["cognito:groups"] = []string{"users"} }), http.StatusForbidden},
		{"string claim equal", []authn.UserRule{authn.WithClaim("department", "ops")},
			tokenWith(func(c map[string]any) { c["department"] = "ops" }), http.StatusOK},
		{"string claim other", []authn.UserRule{authn.WithClaim("department", "ops")},
			tokenWith(func(c map[string]any) { c["department"] = "sales" }), http.StatusForbidden},
		{"claim absent", []authn.UserRule{authn.WithClaim("department", "ops")}, tokenWith(nil), http.StatusForbidden},
		{"claim of another type", []authn.UserRule{authn.WithClaim("admin", "true")},
			tokenWith(func(c map[string]any) { c["admin"] = true }), http.StatusForbidden},
		{"both rules", []authn.UserRule{authn.FromProvider("okta"), authn.WithClaim("department", "ops")},
			tokenWith(func(c map[string]any) { c["department"] = "ops" }), http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := a.Middleware(authn.RequireUser(tt.rules...)(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})))
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, bearer(http.MethodGet, tt.token))
			if rec.Code != tt.want {
				t.Errorf("status %d, want %d: %s", rec.Code, tt.want, rec.Body)
			}
		})
	}
	// A principal made without a token has no claims to match.
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r = r.WithContext(authn.ContextWithPrincipal(r.Context(), authn.Principal{Kind: authn.KindUser, Provider: "okta"}))
	rec := httptest.NewRecorder()
	authn.RequireUser(authn.WithClaim("department", "ops"))(http.NotFoundHandler()).ServeHTTP(rec, r)
	if rec.Code != http.StatusForbidden {
		t.Errorf("principal without claims: status %d, want 403", rec.Code)
	}
}
