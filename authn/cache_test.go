package authn_test

import (
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cloudrun-authn/pushgate/authn"
	"github.com/cloudrun-authn/pushgate/authn/mint"
)

// A token's first use verifies it; later uses find it in the token cache.
// These tests use tokens several times.

func TestCachedTokenRechecksExpiryAgain(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	tok := sign(t, googleKey, f.googleClaims()) // exp now+1h
	for i := range 3 {
		if _, err := f.auth.Authenticate(bearer(http.MethodGet, tok)); err != nil {
			t.Fatalf("use %d: %v", i+1, err)
		}
	}
	f.clock.Advance(time.Hour + 29*time.Second) // inside the skew
	if _, err := f.auth.Authenticate(bearer(http.MethodGet, tok)); err != nil {
		t.Fatalf("inside skew: %v", err)
	}
	if hits := f.metrics.count(t, "pushgate.token_cache.lookups", "result=hit"); hits != 3 {
		t.Errorf("hits = %d, want 3", hits)
	}
	f.clock.Advance(2 * time.Second)
	if _, err := f.auth.Authenticate(bearer(http.MethodGet, tok)); !errors.Is(err, authn.ErrTokenExpired) {
		t.Fatalf("after exp+skew: got %v, want ErrTokenExpired", err)
	}
}

func TestCachedTokenCookieCheckEveryUse(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	c := f.clerkClaims()
	delete(c, "azp")
	tok := sign(t, clerkKey, c)
	for range 3 {
		if _, err := f.auth.Authenticate(cookie(http.MethodGet, tok)); err != nil {
			t.Fatalf("cookie GET: %v", err)
		}
	}
	if _, err := f.auth.Authenticate(cookie(http.MethodPost, tok)); !errors.Is(err, authn.ErrCookieNeedsParty) {
		t.Fatalf("cookie POST of a cached token: got %v, want ErrCookieNeedsParty", err)
	}
	if _, err := f.auth.Authenticate(bearer(http.MethodPost, tok)); err != nil {
		t.Fatalf("bearer POST of the same token: %v", err)
	}
}

// TestCachedTokenOnlyExactly: a token that differs from a cached one in a
// byte, or is a prefix or extension of it, is verified on its own (and
// refused), and a cached token is not confused with another valid one.
func TestCachedTokenOnlyExactly(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	a := sign(t, googleKey, f.googleClaims())
	other := mint.GoogleClaims(testAudience, "other@"+testProject+".iam.gserviceaccount.com", f.clock.Now(), time.Hour)
	other["sub"] = "200000000000000000002"
	b := sign(t, googleKey, other)
	use := func(tok string) (authn.Principal, error) { return f.auth.Authenticate(bearer(http.MethodPost, tok)) }
	for range 2 {
		if _, err := use(a); err != nil {
			t.Fatal(err)
		}
	}
	flipped := []byte(a)
	flipped[len(flipped)-2] ^= 0x01
	for name, forged := range map[string]string{
		"last signature byte changed": string(flipped),
		"truncated":                   a[:len(a)-1],
		"extended":                    a + "A",
		"payload changed":             a[:len(a)/2] + string(a[len(a)/2]^0x01) + a[len(a)/2+1:],
	} {
		if _, err := use(forged); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	for range 3 {
		pa, err := use(a)
		if err != nil || pa.Email != testEmail {
			t.Fatalf("a: %+v, %v", pa, err)
		}
		pb, err := use(b)
		if err != nil || pb.Subject != "200000000000000000002" {
			t.Fatalf("b: %+v, %v", pb, err)
		}
	}
}

func TestCachedTokensConcurrent(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	toks := []string{sign(t, googleKey, f.googleClaims()), sign(t, clerkKey, f.clerkClaims())}
	want := []authn.Kind{authn.KindService, authn.KindUser}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 200 {
				k := (g + i) % 2
				p, err := f.auth.Authenticate(bearer(http.MethodGet, toks[k]))
				if err != nil || p.Kind != want[k] {
					t.Errorf("token %d: %v, %v", k, p.Kind, err)
					return
				}
			}
		})
	}
	wg.Wait()
}

// TestSignatureHasOneSpelling: base64url lets the last character of a
// signature carry trailing bits that decode to nothing; a spelling with
// them set is refused, so one valid token cannot be presented (and cached)
// under many spellings.
func TestSignatureHasOneSpelling(t *testing.T) {
	t.Parallel()
	f := newFixture(t, func(c *authn.Config) { c.TokenCacheSize = -1 })
	tok := sign(t, googleKey, f.googleClaims())
	if _, err := f.auth.Authenticate(bearer(http.MethodGet, tok)); err != nil {
		t.Fatal(err)
	}
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	last := strings.IndexByte(alphabet, tok[len(tok)-1])
	sigLen := len(tok) - strings.LastIndexByte(tok, '.') - 1
	if sigLen%4 != 2 && sigLen%4 != 3 {
		t.Fatalf("signature of %d characters has no trailing bits", sigLen)
	}
	respelled := tok[:len(tok)-1] + string(alphabet[last|1])
	if _, err := f.auth.Authenticate(bearer(http.MethodGet, respelled)); !errors.Is(err, authn.ErrBadSignature) {
		t.Fatalf("signature with trailing bits set: got %v, want ErrBadSignature", err)
	}
}

// TestSharedPermissionsAreClipped: cache hits share a principal's
// OrgPermissions; with no spare capacity, a handler's append copies them
// instead of writing into what the next request with the token sees.
func TestSharedPermissionsAreClipped(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	for name, set := range map[string]func(c map[string]any){
		"v1": func(c map[string]any) {
			c["org_id"], c["org_role"] = "org_1", "org:admin"
			c["org_permissions"] = []string{"org:a:read", "org:a:write", "org:b:read"}
		},
		"v2": func(c map[string]any) {
			c["v"], c["fea"] = 2, "o:a,o:b"
			c["o"] = map[string]any{"id": "org_1", "rol": "admin", "per": "read,write,manage", "fpm": "3,5"}
		},
	} {
		c := f.clerkClaims()
		set(c)
		tok := sign(t, clerkKey, c)
		for range 3 {
			p, err := f.auth.Authenticate(bearer(http.MethodGet, tok))
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if len(p.OrgPermissions) < 3 || cap(p.OrgPermissions) != len(p.OrgPermissions) {
				t.Fatalf("%s: OrgPermissions %q has len %d, cap %d; want 3 or more, no spare capacity",
					name, p.OrgPermissions, len(p.OrgPermissions), cap(p.OrgPermissions))
			}
		}
	}
}
