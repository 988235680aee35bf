package test

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cloudrun-authn/pushgate/authn/authntest"
	"github.com/cloudrun-authn/pushgate/authn/mint"
)

// provider is one token issuer as the key tests see it.
type provider struct {
	name  string
	keys  func(*stack) *authntest.KeyServer
	token func(t *testing.T) string // a fresh valid token: a cache miss
}

func providers() []provider {
	return []provider{
		{"google", func(s *stack) *authntest.KeyServer { return s.googleKeys }, func(t *testing.T) string { return e2e.serviceToken(t) }},
		{"clerk", func(s *stack) *authntest.KeyServer { return s.clerkKeys }, func(t *testing.T) string { return e2e.userToken(t) }},
	}
}

func whoami(t *testing.T, svc *proc, token string) response {
	t.Helper()
	return send(t, request{method: "GET", url: svc.url + "/whoami", token: token})
}

// TestKeysDownFromStart: with the key servers down from the start, a token
// gets 503 with Retry-After (never 401: the token may be good); once the
// key servers are back, the same kind of token is accepted.
func TestKeysDownFromStart(t *testing.T) {
	t.Parallel()
	s := newStack(t)
	for _, p := range providers() {
		p.keys(s).SetDown(true)
	}
	svc := s.start(t)
	for _, p := range providers() {
		t.Run(p.name+" down", func(t *testing.T) {
			r := whoami(t, svc, p.token(t))
			if r.status != http.StatusServiceUnavailable {
				t.Fatalf("got %d, want 503: %.300s", r.status, r.body)
			}
			ra, err := strconv.Atoi(r.header.Get("Retry-After"))
			if err != nil || ra < 1 || ra > 3600 {
				t.Errorf("Retry-After: got %q, want a number of seconds", r.header.Get("Retry-After"))
			}
			if msg, _ := r.object(t)["error"].(string); msg == "" {
				t.Errorf("503 without an error reason: %s", r.body)
			}
		})
	}
	for _, p := range providers() {
		p.keys(s).SetDown(false)
	}
	for _, p := range providers() {
		t.Run(p.name+" recovers", func(t *testing.T) {
			n := pollUntil(t, func() bool {
				r := whoami(t, svc, p.token(t))
				if r.status != http.StatusOK && r.status != http.StatusServiceUnavailable {
					t.Fatalf("while recovering: got %d, want 503 or 200: %.300s", r.status, r.body)
				}
				return r.status == http.StatusOK
			})
			t.Logf("%s: accepted after %d more attempts", p.name, n)
		})
	}
	svc.stopOK(t)
}

// TestKeyRotation: a key Google publishes just after the service fetched
// its keys is accepted at first sight, with one refetch; the old key keeps
// working.
func TestKeyRotation(t *testing.T) {
	t.Parallel()
	s := newStack(t)
	svc := s.start(t)
	if r := whoami(t, svc, e2e.serviceToken(t)); r.status != http.StatusOK {
		t.Fatalf("before rotation: got %d, want 200", r.status)
	}
	before := s.googleKeys.Fetches()
	s.googleKeys.SetKeys(e2e.google, e2e.google2)
	if r := whoami(t, svc, e2e.sign(t, e2e.google2, serviceClaims())); r.status != http.StatusOK {
		t.Fatalf("the new key's first token: got %d, want 200", r.status)
	}
	if r := whoami(t, svc, e2e.serviceToken(t)); r.status != http.StatusOK {
		t.Fatalf("the old key after rotation: got %d, want 200", r.status)
	}
	fetches := s.googleKeys.Fetches() - before
	reportFigures(t, fmt.Sprintf("rotation: the new key accepted at first sight, %d key fetch", fetches))
	if fetches != 1 {
		t.Errorf("key fetches during rotation: got %d, want 1", fetches)
	}
	svc.stopOK(t)
}

// TestUnknownKidStorm: hundreds of tokens with random kids are all refused
// while the key servers see only a few fetches, tokens from an unknown
// issuer cause none, and good tokens still pass afterwards.
func TestUnknownKidStorm(t *testing.T) {
	t.Parallel()
	s := newStack(t)
	svc := s.start(t)
	for _, p := range providers() {
		if r := whoami(t, svc, p.token(t)); r.status != http.StatusOK {
			t.Fatalf("%s before the storm: got %d, want 200", p.name, r.status)
		}
	}

	unknownIssuer := make([]string, 50)
	for i := range unknownIssuer {
		c := userClaims()
		c["iss"] = "https://issuer.evil.example"
		unknownIssuer[i] = e2e.sign(t, e2e.attacker, c)
	}
	g0, c0 := s.googleKeys.Fetches(), s.clerkKeys.Fetches()
	storm(t, svc, unknownIssuer)
	if g, c := s.googleKeys.Fetches()-g0, s.clerkKeys.Fetches()-c0; g != 0 || c != 0 {
		t.Errorf("unknown issuer: got %d Google and %d Clerk key fetches, want none", g, c)
	}

	var kids []string
	for i := range 300 {
		signer := &mint.Signer{Key: e2e.attacker.Key, KID: "storm-" + randomHex(6)}
		claims := serviceClaims()
		if i%3 == 0 {
			claims = userClaims()
		}
		kids = append(kids, e2e.sign(t, signer, claims))
	}
	g0, c0 = s.googleKeys.Fetches(), s.clerkKeys.Fetches()
	storm(t, svc, kids)
	g, c := s.googleKeys.Fetches()-g0, s.clerkKeys.Fetches()-c0
	t.Logf("unknown-kid storm: %d tokens, %d Google and %d Clerk key fetches", len(kids), g, c)
	if g > 2 || c > 2 {
		t.Errorf("key fetches during the storm: got %d Google and %d Clerk, want at most 2 each", g, c)
	}
	for _, p := range providers() {
		if r := whoami(t, svc, p.token(t)); r.status != http.StatusOK {
			t.Errorf("%s after the storm: got %d, want 200", p.name, r.status)
		}
	}
	svc.stopOK(t)
}

// storm sends every token to /whoami from 32 goroutines; each must get 401
// with error="invalid_token".
func storm(t *testing.T, svc *proc, tokens []string) {
	t.Helper()
	var wg sync.WaitGroup
	work := make(chan string)
	var mu sync.Mutex
	got := map[int]int{}
	for range 32 {
		wg.Go(func() {
			for tok := range work {
				r, err := trySend(t.Context(), request{method: "GET", url: svc.url + "/whoami", token: tok})
				if err != nil {
					t.Errorf("GET /whoami: %v", err)
				}
				mu.Lock()
				got[r.status]++
				mu.Unlock()
			}
		})
	}
	for _, tok := range tokens {
		work <- tok
	}
	close(work)
	wg.Wait()
	if got[http.StatusUnauthorized] != len(tokens) {
		t.Errorf("statuses: got %v, want %d × 401", got, len(tokens))
	}
}

// TestKeyOutageKeepsServing: once keys were fetched, an outage of the key
// servers does not stop the service. The keys are published with a short
// lifetime (max-age=1, which the service raises to its one-minute floor), so
// the service tries to refresh them during the outage; it keeps accepting
// fresh tokens (no cache hits) with the keys it has, before and after that
// failed refresh. It waits a minute or so of wall-clock time, in parallel
// with the other slow tests.
func TestKeyOutageKeepsServing(t *testing.T) {
	t.Parallel()
	s := newStack(t)
	for _, p := range providers() {
		p.keys(s).SetCacheControl("public, max-age=1")
	}
	svc := s.start(t)
	before := map[string]int{}
	for _, p := range providers() {
		if r := whoami(t, svc, p.token(t)); r.status != http.StatusOK {
			t.Fatalf("%s before the outage: got %d, want 200", p.name, r.status)
		}
		before[p.name] = p.keys(s).Fetches()
		p.keys(s).SetDown(true)
	}
	start := time.Now()
	refreshFailed, after := false, 0
	n := pollUntil(t, func() bool {
		for _, p := range providers() {
			if r := whoami(t, svc, p.token(t)); r.status != http.StatusOK {
				t.Fatalf("%s during the outage (%v in): got %d, want 200: %.300s",
					p.name, time.Since(start).Round(time.Second), r.status, r.body)
			}
		}
		if !refreshFailed {
			refreshFailed = s.googleKeys.Fetches() > before["google"] && s.clerkKeys.Fetches() > before["clerk"]
			return false
		}
		after++
		return after >= 10 // ten more rounds with stale keys
	})
	t.Logf("key outage: %d rounds over %v, all accepted; key fetches during the outage: Google %d, Clerk %d",
		n, time.Since(start).Round(time.Second), s.googleKeys.Fetches()-before["google"], s.clerkKeys.Fetches()-before["clerk"])
	svc.stopOK(t)
}

// pollUntil calls try every 250 ms until it returns true and returns how
// many calls it took; it fails the test after waitLimit.
func pollUntil(t *testing.T, try func() bool) int {
	t.Helper()
	deadline := time.Now().Add(waitLimit)
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	for n := 1; ; n++ {
		if try() {
			return n
		}
		if time.Now().After(deadline) {
			t.Fatalf("condition not reached within %v (%d attempts)", waitLimit, n)
		}
		<-tick.C
	}
}

// TestClerkJWTKey: with CLERK_JWT_KEY (Clerk's PEM public key, also as
// Cloud Run users often pass it, with literal \n) and no secret key, user
// tokens are verified without any network call, and a token signed by
// another key is refused.
func TestClerkJWTKey(t *testing.T) {
	pem := string(e2e.clerk.PublicKeyPEM())
	tests := []struct {
		name string
		pem  string
	}{
		{"PEM", pem},
		{"PEM with literal \\n", strings.ReplaceAll(strings.TrimSpace(pem), "\n", `\n`)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newStack(t)
			delete(s.env, "CLERK_SECRET_KEY")
			delete(s.env, "CLERK_API_URL")
			s.env["CLERK_JWT_KEY"] = tt.pem
			svc := s.start(t)
			if r := whoami(t, svc, e2e.userToken(t)); r.status != http.StatusOK {
				t.Errorf("user token: got %d, want 200: %.300s", r.status, r.body)
			}
			forged := e2e.sign(t, &mint.Signer{Key: e2e.attacker.Key, KID: e2e.clerk.KID}, userClaims())
			if r := whoami(t, svc, forged); r.status != http.StatusUnauthorized {
				t.Errorf("token signed by another key: got %d, want 401", r.status)
			}
			if n := s.clerkKeys.Fetches(); n != 0 {
				t.Errorf("Clerk's key server was asked %d times, want never", n)
			}
			svc.stopOK(t)
		})
	}
}
