package authn_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/cloudrun-authn/pushgate/authn"
)

func TestCachedTokenRechecksExpiry(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	tok := sign(t, googleKey, f.googleClaims()) // exp now+1h
	if _, err := f.auth.Authenticate(bearer(http.MethodGet, tok)); err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(time.Hour + 29*time.Second) // inside the skew: still good, from the cache
	if _, err := f.auth.Authenticate(bearer(http.MethodGet, tok)); err != nil {
		t.Fatalf("inside skew: %v", err)
	}
	if hits := f.metrics.count(t, "pushgate.token_cache.lookups", "result=hit"); hits != 1 {
		t.Errorf("hits = %d, want 1", hits)
	}
	f.clock.Advance(2 * time.Second)
	if _, err := f.auth.Authenticate(bearer(http.MethodGet, tok)); !errors.Is(err, authn.ErrTokenExpired) {
		t.Fatalf("after exp+skew: got %v, want ErrTokenExpired", err)
	}
	if hits := f.metrics.count(t, "pushgate.token_cache.lookups", "result=hit"); hits != 1 {
		t.Errorf("hits = %d, want still 1 (expired entry is not a hit)", hits)
	}
}

func TestCachedTokenStillGetsCookieCheck(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	c := f.clerkClaims()
	delete(c, "azp")
	tok := sign(t, clerkKey, c)
	if _, err := f.auth.Authenticate(cookie(http.MethodGet, tok)); err != nil {
		t.Fatalf("cookie GET: %v", err)
	}
	if _, err := f.auth.Authenticate(cookie(http.MethodPost, tok)); !errors.Is(err, authn.ErrCookieNeedsParty) {
		t.Fatalf("cookie POST of a cached token: got %v, want ErrCookieNeedsParty", err)
	}
	if _, err := f.auth.Authenticate(bearer(http.MethodPost, tok)); err != nil {
		t.Fatalf("bearer POST of the same token: %v", err)
	}
	if hits := f.metrics.count(t, "pushgate.token_cache.lookups", "result=hit"); hits != 2 {
		t.Errorf("hits = %d, want 2", hits)
	}
}

func TestCacheDisabled(t *testing.T) {
	t.Parallel()
	f := newFixture(t, func(c *authn.Config) { c.TokenCacheSize = -1 })
	tok := sign(t, googleKey, f.googleClaims())
	for range 2 {
		if _, err := f.auth.Authenticate(bearer(http.MethodGet, tok)); err != nil {
			t.Fatal(err)
		}
	}
	if n := f.metrics.count(t, "pushgate.token_cache.lookups"); n != 0 {
		t.Errorf("cache lookups = %d, want none", n)
	}
}

func TestPolicies(t *testing.T) {
	t.Parallel()
	service := authn.Principal{Kind: authn.KindService, Subject: "1", Email: testEmail}
	user := authn.Principal{Kind: authn.KindUser, Subject: clerkUser, OrgRole: "org:admin", OrgPermissions: []string{"org:events:publish"}}
	tests := []struct {
		name      string
		policy    func(http.Handler) http.Handler
		principal *authn.Principal
		want      int
	}{
		{"service: no principal", authn.RequireService(), nil, 401},
		{"service: service", authn.RequireService(), &service, 200},
		{"service: user", authn.RequireService(), &user, 403},
		{"service: listed email", authn.RequireService("x@y", testEmail), &service, 200},
		{"service: unlisted email", authn.RequireService("other@acme.iam.gserviceaccount.com"), &service, 403},
		{"user: no principal", authn.RequireUser(), nil, 401},
		{"user: user", authn.RequireUser(), &user, 200},
		{"user: service", authn.RequireUser(), &service, 403},
		{"user: role with prefix", authn.RequireUser(authn.WithOrgRole("org:admin")), &user, 200},
		{"user: role without prefix", authn.RequireUser(authn.WithOrgRole("admin")), &user, 200},
		{"user: other role", authn.RequireUser(authn.WithOrgRole("org:member")), &user, 403},
		{"user: permission", authn.RequireUser(authn.WithOrgPermission("org:events:publish")), &user, 200},
		{"user: missing permission", authn.RequireUser(authn.WithOrgPermission("org:events:delete")), &user, 403},
		{"user: role and missing permission", authn.RequireUser(authn.WithOrgRole("admin"), authn.WithOrgPermission("x")), &user, 403},
		{"any: no principal", authn.RequireAny(), nil, 401},
		{"any: service", authn.RequireAny(), &service, 200},
		{"any: user", authn.RequireAny(), &user, 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			if tt.principal != nil {
				r = r.WithContext(authn.ContextWithPrincipal(r.Context(), *tt.principal))
			}
			rec := httptest.NewRecorder()
			tt.policy(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})).ServeHTTP(rec, r)
			if rec.Code != tt.want {
				t.Errorf("status = %d, want %d (body %s)", rec.Code, tt.want, rec.Body)
			}
			if tt.want != 200 && decodeError(t, rec) == "" {
				t.Error("refusal without an error reason")
			}
		})
	}
}

func TestPolicyRefusalIsCountedAndLogged(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	h := f.auth.Middleware(authn.RequireService()(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, bearer(http.MethodGet, sign(t, clerkKey, f.clerkClaims())))
	if rec.Code != http.StatusForbidden {
		t.Fatalf("status = %d, want 403", rec.Code)
	}
	if got := f.metrics.count(t, "pushgate.auth.decisions", "decision=refused", "provider=clerk", "reason=wrong_kind"); got != 1 {
		t.Errorf("refused wrong_kind = %d, want 1", got)
	}
	if got := f.metrics.count(t, "pushgate.auth.decisions", "decision=allowed"); got != 0 {
		t.Errorf("allowed = %d, want 0: the request is one decision, refused by the policy", got)
	}
	ok := httptest.NewRecorder()
	f.auth.Middleware(authn.RequireUser()(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))).
		ServeHTTP(ok, bearer(http.MethodGet, sign(t, clerkKey, f.clerkClaims())))
	if got := f.metrics.count(t, "pushgate.auth.decisions", "decision=allowed", "provider=clerk"); ok.Code != http.StatusOK || got != 1 {
		t.Errorf("a request the policy admits: status %d, allowed = %d; want 200 and 1", ok.Code, got)
	}
	if !strings.Contains(f.logs.String(), "refused by policy") {
		t.Error("the policy refusal is not logged")
	}
}

func TestPrincipalFromEmptyContext(t *testing.T) {
	t.Parallel()
	if p, ok := authn.PrincipalFrom(httptest.NewRequest(http.MethodGet, "/", nil).Context()); ok || p.Kind != "" {
		t.Errorf("PrincipalFrom(empty) = %+v, %v", p, ok)
	}
}
