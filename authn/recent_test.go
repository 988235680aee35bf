package authn_test

import (
	"errors"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/cloudrun-authn/pushgate/authn"
	"github.com/cloudrun-authn/pushgate/authn/mint"
)

// A token's first use verifies it, the second finds it in the cache and
// makes it the recent token, the third and later are recognised as the
// recent token. These tests use tokens at least three times.

func TestRecentTokenRechecksExpiry(t *testing.T) {
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
	if hits := f.auth.Stats().TokenCacheHits; hits != 3 {
		t.Errorf("hits = %d, want 3", hits)
	}
	f.clock.Advance(2 * time.Second)
	if _, err := f.auth.Authenticate(bearer(http.MethodGet, tok)); !errors.Is(err, authn.ErrTokenExpired) {
		t.Fatalf("after exp+skew: got %v, want ErrTokenExpired", err)
	}
}

func TestRecentTokenStillGetsCookieCheck(t *testing.T) {
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
		t.Fatalf("cookie POST of the recent token: got %v, want ErrCookieNeedsParty", err)
	}
	if _, err := f.auth.Authenticate(bearer(http.MethodPost, tok)); err != nil {
		t.Fatalf("bearer POST of the same token: %v", err)
	}
}

// TestRecentTokenOnlyExactly: a token that differs from the recent one in
// a byte, or is a prefix or extension of it, is verified on its own (and
// refused), and the recent token is not confused with another valid one.
func TestRecentTokenOnlyExactly(t *testing.T) {
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

func TestRecentTokenConcurrent(t *testing.T) {
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
