package test

import (
	"crypto/rand"
	"encoding/hex"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cloudrun-authn/pushgate/authn/mint"
)

// tokenTTL is the lifetime of the tokens the tests mint: longer than any
// test, so that no test depends on the clock.
const tokenTTL = time.Hour

// sign signs claims with signer and registers the token, so that the log
// checks look for it.
func (s *suite) sign(t testing.TB, signer *mint.Signer, claims map[string]any) string {
	t.Helper()
	tok, err := signer.Sign(claims)
	if err != nil {
		t.Fatalf("sign: %v", err)
	}
	s.tokens.add(tok)
	return tok
}

// signRaw signs an arbitrary header and payload (odd algorithms, removed
// signatures) and registers the token.
func (s *suite) signRaw(t testing.TB, signer *mint.Signer, header, payload string) string {
	t.Helper()
	tok, err := signer.SignRaw([]byte(header), []byte(payload))
	if err != nil {
		t.Fatalf("sign: %v", err)
	}
	s.tokens.add(tok)
	return tok
}

// serviceClaims are the claims of a push token for the test project; every
// call gives a different token (jti), so that each one misses the
// service's token cache.
func serviceClaims() map[string]any {
	c := mint.GoogleClaims(audience, pushEmail, time.Now(), tokenTTL)
	c["jti"] = randomHex(8)
	return c
}

// userClaims are the claims of a Clerk session token of the test instance;
// every call gives a different token (sid).
func userClaims() map[string]any {
	return mint.ClerkClaims(clerkIssuer, userID, time.Now(), tokenTTL)
}

// serviceToken mints a valid Google token for the test project, after
// applying edits to its claims.
func (s *suite) serviceToken(t testing.TB, edits ...func(map[string]any)) string {
	t.Helper()
	c := serviceClaims()
	for _, e := range edits {
		e(c)
	}
	return s.sign(t, s.google, c)
}

// userToken mints a valid Clerk session token, after applying edits to its
// claims.
func (s *suite) userToken(t testing.TB, edits ...func(map[string]any)) string {
	t.Helper()
	c := userClaims()
	for _, e := range edits {
		e(c)
	}
	return s.sign(t, s.clerk, c)
}

// set returns an edit that sets claim k to v (nil deletes it).
func set(k string, v any) func(map[string]any) {
	return func(c map[string]any) {
		if v == nil {
			delete(c, k)
			return
		}
		c[k] = v
	}
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// tokenRegistry remembers every token and secret the tests minted, so that
// the log checks can look for them, whole or in part.
type tokenRegistry struct {
	mu      sync.Mutex
	secrets []string
}

func newTokenRegistry() *tokenRegistry { return &tokenRegistry{} }

func (r *tokenRegistry) add(secret string) {
	r.mu.Lock()
	r.secrets = append(r.secrets, secret)
	r.mu.Unlock()
}

func (r *tokenRegistry) all() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.secrets...)
}

// leakWindow is the shortest part of a token the log check finds: any run
// of this many characters of a token's header, payload or signature (or of
// a secret). 16 base64url characters are 96 bits: no chance match.
const leakWindow = 16

// jwtShape matches anything that looks like a JSON Web Token, whoever
// minted it (dev mode's own push tokens included).
var jwtShape = regexp.MustCompile(`eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}`)

// leak reports the first line holding a registered token or secret (whole
// or any leakWindow-long part of one) or anything shaped like a JWT: its
// index and a description that does not repeat the secret.
func (r *tokenRegistry) leak(lines []string) (int, string, bool) {
	// Index the log side: every window of every base64url run long enough.
	windows := make(map[string]int)
	for i, line := range lines {
		if loc := jwtShape.FindStringIndex(line); loc != nil {
			return i, "a JWT-shaped string at byte " + strconv.Itoa(loc[0]), true
		}
		for _, run := range base64urlRuns(line) {
			for j := 0; j+leakWindow <= len(run); j++ {
				if _, ok := windows[run[j:j+leakWindow]]; !ok {
					windows[run[j:j+leakWindow]] = i
				}
			}
		}
	}
	if len(windows) == 0 {
		return 0, "", false
	}
	for n, secret := range r.all() {
		for _, part := range strings.Split(secret, ".") {
			for j := 0; j+leakWindow <= len(part); j++ {
				if i, ok := windows[part[j:j+leakWindow]]; ok {
					return i, "part of registered token or secret #" + strconv.Itoa(n), true
				}
			}
		}
	}
	return 0, "", false
}

// base64urlRuns returns the maximal runs of base64url characters in s that
// are at least leakWindow long.
func base64urlRuns(s string) []string {
	var runs []string
	start := -1
	for i := 0; i <= len(s); i++ {
		in := i < len(s) && isBase64URL(s[i])
		switch {
		case in && start < 0:
			start = i
		case !in && start >= 0:
			if i-start >= leakWindow {
				runs = append(runs, s[start:i])
			}
			start = -1
		}
	}
	return runs
}

func isBase64URL(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_'
}
