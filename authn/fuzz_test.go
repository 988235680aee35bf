package authn_test

import (
	"crypto/rsa"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/cloudrun-authn/pushgate/authn"
)

// FuzzAuthenticate feeds arbitrary tokens, by header or cookie, through
// token parsing, dispatch and verification (static keys: no network). It
// must never panic, never admit a principal without a subject, refuse only
// with a known status, and never echo the token in the response or the log.
// The seed corpus is in testdata/fuzz/FuzzAuthenticate: its tokens reach
// the parsing, dispatch and claim checks, but their signatures cannot
// verify, since the keys are made anew on every run (TestMain); the tokens
// signed with this run's keys, added below, reach the paths behind the
// signature.
func FuzzAuthenticate(f *testing.F) {
	clock := newFakeClock()
	now := clock.Now()
	googleClaims := map[string]any{
		"iss": "https://accounts.google.com", "aud": testAudience, "sub": "1234567890",
		"email": testEmail, "email_verified": true, "iat": now.Unix(), "exp": now.Add(time.Hour).Unix(),
	}
	clerkClaims := map[string]any{"iss": clerkIssuer, "sub": clerkUser, "azp": clerkParty, "exp": now.Add(time.Minute).Unix()}
	valid := sign(f, googleKey, googleClaims)
	f.Add(valid, false)
	f.Add(sign(f, clerkKey, clerkClaims), true)
	f.Add(valid[:strings.LastIndexByte(valid, '.')+1]+"SIGNATURE_REMOVED_BY_GOOGLE", false)
	f.Add(unsigned(f, map[string]any{"alg": "ES256", "kid": googleKey.KID}, googleClaims, "AAAA"), false)
	// Signed tokens that reach the claims decoder's and the Clerk session's
	// less common paths: escapes, organization claims of both versions,
	// a duplicate name, a name differing only in case.
	escaped, err := googleKey.SignRaw([]byte(`{"alg":"RS256","kid":"`+googleKey.KID+`"}`), []byte(fmt.Sprintf(
		`{"iss":"https:\/\/accounts.google.com","aud":["x",%q],"sub":"1\u0032","email":%q,"email_verified":true,"exp":%d,"n":"\ud83d\ude00"}`,
		testAudience, testEmail, now.Add(time.Hour).Unix())))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(escaped, false)
	for _, more := range []string{
		`"v":2,"fea":"o:events","o":{"id":"org_1","rol":"admin","per":"read,manage","fpm":"3"}`,
		`"org_id":"org_1","org_role":"org:admin","org_permissions":["org:events:read"]`,
		`"sub":"user_again"`,
		`"Sid":"sess_x"`,
	} {
		raw := fmt.Sprintf(`{"iss":%q,"sub":%q,"azp":%q,"exp":%d,%s}`, clerkIssuer, clerkUser, clerkParty, now.Add(time.Minute).Unix(), more)
		tok, err := clerkKey.SignRaw([]byte(`{"alg":"RS256","kid":"`+clerkKey.KID+`"}`), []byte(raw))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(tok, true)
	}

	logs := &syncBuffer{}
	auth, err := authn.New(authn.Config{
		Google: &authn.GoogleConfig{
			Audiences: []string{testAudience}, ProjectID: testProject,
			Keys: authn.NewStaticKeySet(map[string]*rsa.PublicKey{googleKey.KID: googleKey.PublicKey()}),
		},
		Clerk: &authn.ClerkConfig{
			Issuer: clerkIssuer, AuthorizedParties: []string{clerkParty},
			Keys: authn.NewStaticKeySet(map[string]*rsa.PublicKey{clerkKey.KID: clerkKey.PublicKey()}),
		},
		TokenCacheSize: 64,
		Logger:         slog.New(slog.NewJSONHandler(logs, nil)),
		Now:            clock.Now,
	})
	if err != nil {
		f.Fatal(err)
	}
	h := auth.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, ok := authn.PrincipalFrom(r.Context())
		if !ok || p.Subject == "" || (p.Kind != authn.KindService && p.Kind != authn.KindUser) {
			w.WriteHeader(http.StatusInternalServerError)
		}
	}))

	f.Fuzz(func(t *testing.T, tok string, viaCookie bool) {
		logs.Reset() // the fuzz function runs serially within a process
		r := httptest.NewRequest(http.MethodGet, "/target", nil)
		if viaCookie {
			r.Header.Set("Cookie", authn.SessionCookie+"="+tok)
		} else {
			r.Header.Set("Authorization", "Bearer "+tok)
		}
		p, err := auth.Authenticate(r)
		var ae *authn.Error
		switch {
		case err == nil:
			if p.Subject == "" || p.Expiry.IsZero() {
				t.Fatalf("admitted an incomplete principal: %+v", p)
			}
		case !errors.As(err, &ae):
			t.Fatalf("error %v is not an *authn.Error", err)
		case ae.Status != http.StatusUnauthorized:
			t.Fatalf("status %d for a token with static keys, want 401", ae.Status)
		}

		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		if rec.Code == http.StatusInternalServerError {
			t.Fatal("middleware admitted a request without a complete principal")
		}
		if len(tok) >= 16 {
			if strings.Contains(rec.Body.String(), tok) || strings.Contains(headerText(rec.Header()), tok) {
				t.Fatal("response echoes the token")
			}
			if strings.Contains(logs.String(), tok) {
				t.Fatal("log contains the token")
			}
		}
	})
}
