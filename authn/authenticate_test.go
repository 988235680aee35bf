package authn_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/cloudrun-authn/pushgate/authn"
	"github.com/cloudrun-authn/pushgate/authn/mint"
)

func TestCredentials(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	good := sign(t, googleKey, f.googleClaims())
	session := sign(t, clerkKey, f.clerkClaims())
	huge := good + strings.Repeat("A", authn.MaxTokenBytes)
	tests := []struct {
		name    string
		request func() *http.Request
		want    error
	}{
		{"bearer", func() *http.Request { return bearer(http.MethodGet, good) }, nil},
		{"scheme lower case", func() *http.Request { return withAuth("bearer " + good) }, nil},
		{"scheme upper case", func() *http.Request { return withAuth("BEARER " + good) }, nil},
		{"scheme mixed case", func() *http.Request { return withAuth("bEaReR " + good) }, nil},
		{"bearer without token", func() *http.Request { return withAuth("Bearer ") }, authn.ErrMalformedAuthorization},
		{"other scheme", func() *http.Request { return withAuth("Basic " + good) }, authn.ErrNoToken},
		{"no credentials", func() *http.Request { return httptest.NewRequest(http.MethodGet, "/", nil) }, authn.ErrNoToken},
		{"token in query string ignored", func() *http.Request {
			return httptest.NewRequest(http.MethodGet, "/?access_token="+url.QueryEscape(good)+"&token="+url.QueryEscape(good), nil)
		}, authn.ErrNoToken},
		{"token in form ignored", func() *http.Request {
			r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader("access_token="+good))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			return r
		}, authn.ErrNoToken},
		{"cookie fallback", func() *http.Request { return cookie(http.MethodGet, session) }, nil},
		{"Google token in the cookie", func() *http.Request { return cookie(http.MethodGet, good) }, authn.ErrCookieNotSession},
		{"two Authorization headers", func() *http.Request {
			r := bearer(http.MethodGet, good)
			r.Header.Add("Authorization", "Bearer "+session)
			return r
		}, authn.ErrMalformedAuthorization},
		{"header wins over cookie", func() *http.Request {
			r := bearer(http.MethodGet, good)
			r.AddCookie(&http.Cookie{Name: authn.SessionCookie, Value: "garbage"})
			return r
		}, nil},
		{"other cookie ignored", func() *http.Request {
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			r.AddCookie(&http.Cookie{Name: "session", Value: good})
			return r
		}, authn.ErrNoToken},
		{"token over 16 KiB", func() *http.Request { return bearer(http.MethodGet, huge) }, authn.ErrTokenTooLarge},
		{"token over 16 KiB in cookie", func() *http.Request { return cookie(http.MethodGet, huge) }, authn.ErrTokenTooLarge},
		{"two segments", func() *http.Request { return bearer(http.MethodGet, "abc.def") }, authn.ErrMalformedToken},
		{"four segments", func() *http.Request { return bearer(http.MethodGet, good+".x") }, authn.ErrMalformedToken},
		{"bad base64", func() *http.Request { return bearer(http.MethodGet, "!!!."+strings.Split(good, ".")[1]+".sig") }, authn.ErrMalformedToken},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := f.auth.Authenticate(tt.request())
			if !errors.Is(err, tt.want) || (tt.want == nil && err != nil) {
				t.Errorf("got %v, want %v", err, tt.want)
			}
		})
	}
	t.Run("oversize token is not parsed", func(t *testing.T) {
		// A huge token that is not even a JWT still gets the size reason.
		_, err := f.auth.Authenticate(bearer(http.MethodGet, strings.Repeat("x", authn.MaxTokenBytes+1)))
		if !errors.Is(err, authn.ErrTokenTooLarge) {
			t.Errorf("got %v, want ErrTokenTooLarge", err)
		}
	})
}

func withAuth(v string) *http.Request {
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.Header.Set("Authorization", v)
	return r
}

func TestUnknownIssuerFetchesNoKey(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	for _, iss := range []string{"https://evil.example", "", "https://clerk.evil.com"} {
		c := f.googleClaims()
		c["iss"] = iss
		if _, err := f.auth.Authenticate(bearer(http.MethodGet, sign(t, googleKey, c))); !errors.Is(err, authn.ErrUnknownIssuer) {
			t.Errorf("iss %q: got %v, want ErrUnknownIssuer", iss, err)
		}
	}
	if g, c := f.google.Fetches(), f.clerk.Fetches(); g != 0 || c != 0 {
		t.Errorf("key fetches = google %d, clerk %d; want none", g, c)
	}
}

func TestSignatureRemovedLogsIAMHint(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	tok := sign(t, googleKey, f.googleClaims())
	tok = tok[:strings.LastIndexByte(tok, '.')+1] + "SIGNATURE_REMOVED_BY_GOOGLE"
	rec := f.serve(bearer(http.MethodPost, tok))
	if rec.Code != http.StatusUnauthorized {
		t.Fatalf("status = %d, want 401", rec.Code)
	}
	if got := decodeError(t, rec); got != "signature removed by Cloud Run IAM" {
		t.Errorf("error = %q", got)
	}
	logs := f.logs.String()
	for _, want := range []string{"IAM", "--no-invoker-iam-check", "--allow-unauthenticated", "gcloud run deploy"} {
		if !strings.Contains(logs, want) {
			t.Errorf("log does not mention %q: %s", want, logs)
		}
	}
	if f.google.Fetches() != 0 {
		t.Error("a removed signature caused a key fetch")
	}
	assertNoTokenLeak(t, "log", logs, tok)
}

func decodeError(t *testing.T, rec *httptest.ResponseRecorder) string {
	t.Helper()
	var body struct {
		Error string `json:"error"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
		t.Fatalf("body %q is not JSON: %v", rec.Body.String(), err)
	}
	return body.Error
}

func TestErrorResponses(t *testing.T) {
	t.Parallel()
	type check struct {
		status     int
		errorBody  string
		wwwAuth    string // exact, or "" for absent
		retryAfter bool
	}
	tests := []struct {
		name  string
		setup func(t *testing.T, f *fixture) (*http.Request, func(http.Handler) http.Handler)
		want  check
	}{
		{"no token", func(t *testing.T, f *fixture) (*http.Request, func(http.Handler) http.Handler) {
			return httptest.NewRequest(http.MethodGet, "/", nil), nil
		}, check{401, "no token", "Bearer", false}},
		{"expired token", func(t *testing.T, f *fixture) (*http.Request, func(http.Handler) http.Handler) {
			c := f.googleClaims()
			c["exp"] = f.clock.Now().Add(-time.Hour).Unix()
			return bearer(http.MethodGet, sign(t, googleKey, c)), nil
		}, check{401, "token expired", `Bearer error="invalid_token", error_description="token expired"`, false}},
		{"wrong audience", func(t *testing.T, f *fixture) (*http.Request, func(http.Handler) http.Handler) {
			c := f.googleClaims()
			c["aud"] = "https://elsewhere.example"
			return bearer(http.MethodGet, sign(t, googleKey, c)), nil
		}, check{401, "wrong audience", `Bearer error="invalid_token", error_description="wrong audience"`, false}},
		{"service on a user route", func(t *testing.T, f *fixture) (*http.Request, func(http.Handler) http.Handler) {
			return bearer(http.MethodGet, sign(t, googleKey, f.googleClaims())), authn.RequireUser()
		}, check{403, "user principal required", `Bearer error="insufficient_scope", error_description="user principal required"`, false}},
		{"user on a service route", func(t *testing.T, f *fixture) (*http.Request, func(http.Handler) http.Handler) {
			return bearer(http.MethodGet, sign(t, clerkKey, f.clerkClaims())), authn.RequireService()
		}, check{403, "service principal required", `Bearer error="insufficient_scope", error_description="service principal required"`, false}},
		{"keys unavailable", func(t *testing.T, f *fixture) (*http.Request, func(http.Handler) http.Handler) {
			f.google.SetDown(true)
			return bearer(http.MethodGet, sign(t, googleKey, f.googleClaims())), nil
		}, check{503, "signing keys unavailable", "", true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			r, policy := tt.setup(t, f)
			var final http.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusTeapot) })
			if policy != nil {
				final = policy(final)
			}
			rec := httptest.NewRecorder()
			f.auth.Middleware(final).ServeHTTP(rec, r)
			if rec.Code != tt.want.status {
				t.Fatalf("status = %d, want %d (body %s)", rec.Code, tt.want.status, rec.Body)
			}
			if got := decodeError(t, rec); got != tt.want.errorBody {
				t.Errorf("error = %q, want %q", got, tt.want.errorBody)
			}
			if got := rec.Header().Get("WWW-Authenticate"); got != tt.want.wwwAuth {
				t.Errorf("WWW-Authenticate = %q, want %q", got, tt.want.wwwAuth)
			}
			if got := rec.Header().Get("Retry-After"); (got != "") != tt.want.retryAfter {
				t.Errorf("Retry-After = %q, want present=%v", got, tt.want.retryAfter)
			}
			if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
				t.Errorf("Content-Type = %q, want JSON", ct)
			}
			tok := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
			assertNoTokenLeak(t, "body", rec.Body.String(), tok)
			assertNoTokenLeak(t, "headers", headerText(rec.Header()), tok)
			assertNoTokenLeak(t, "log", f.logs.String(), tok)
			if n := strings.Count(f.logs.String(), "request refused"); n != 1 {
				t.Errorf("%d refusal log lines, want exactly one:\n%s", n, f.logs)
			}
		})
	}
}

func headerText(h http.Header) string {
	var b strings.Builder
	for k, vs := range h {
		b.WriteString(k + ": " + strings.Join(vs, ", ") + "\n")
	}
	return b.String()
}

func TestNoTokenInAnyOutput(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	// A spread of refusals; every token is long enough to be recognisable.
	tokens := []string{}
	c := f.googleClaims()
	c["aud"] = "https://nope.example"
	tokens = append(tokens, sign(t, googleKey, c))
	tokens = append(tokens, sign(t, mustSigner(t, "unknown"), f.googleClaims()))
	tokens = append(tokens, sign(t, otherKeySameKID, f.googleClaims()))
	cc := f.clerkClaims()
	cc["azp"] = "https://evil.example"
	tokens = append(tokens, sign(t, clerkKey, cc))
	tokens = append(tokens, unsigned(t, map[string]any{"alg": "none"}, f.googleClaims(), ""))
	for _, tok := range tokens {
		for _, r := range []*http.Request{bearer(http.MethodPost, tok), cookie(http.MethodPost, tok)} {
			rec := f.serve(r)
			if rec.Code != http.StatusUnauthorized {
				t.Errorf("status = %d, want 401", rec.Code)
			}
			assertNoTokenLeak(t, "body", rec.Body.String(), tok)
			assertNoTokenLeak(t, "headers", headerText(rec.Header()), tok)
		}
	}
	for _, tok := range tokens {
		assertNoTokenLeak(t, "log", f.logs.String(), tok)
	}
	if !strings.Contains(f.logs.String(), `"reason":"wrong audience"`) || !strings.Contains(f.logs.String(), `"kid":"unknown"`) {
		t.Errorf("log lacks reasons or kid: %s", f.logs)
	}
}

func TestMetrics(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	tok := sign(t, googleKey, f.googleClaims())
	for range 3 {
		if _, err := f.auth.Authenticate(bearer(http.MethodGet, tok)); err != nil {
			t.Fatal(err)
		}
	}
	_, _ = f.auth.Authenticate(httptest.NewRequest(http.MethodGet, "/", nil))
	c := f.googleClaims()
	c["exp"] = f.clock.Now().Add(-time.Hour).Unix()
	_, _ = f.auth.Authenticate(bearer(http.MethodGet, sign(t, googleKey, c)))
	_, _ = f.auth.Authenticate(bearer(http.MethodGet, sign(t, googleKey, c)))

	m := f.metrics
	for _, tc := range []struct {
		attrs []string
		want  int64
	}{
		{[]string{"decision=allowed", "provider=google"}, 3},
		{[]string{"decision=refused", "provider=none", "reason=no_token"}, 1},
		{[]string{"decision=refused", "provider=google", "reason=expired"}, 2},
	} {
		if got := m.count(t, "pushgate.auth.decisions", tc.attrs...); got != tc.want {
			t.Errorf("decisions %v = %d, want %d", tc.attrs, got, tc.want)
		}
	}
	if hits, misses := m.count(t, "pushgate.token_cache.lookups", "result=hit"), m.count(t, "pushgate.token_cache.lookups", "result=miss"); hits != 2 || misses != 3 {
		t.Errorf("cache hits/misses = %d/%d, want 2/3", hits, misses)
	}
	if ok, failed := m.count(t, "pushgate.keys.fetches", "provider=google", "result=ok"), m.count(t, "pushgate.keys.fetches", "result=error"); ok != 1 || failed != 0 {
		t.Errorf("key fetches ok/error = %d/%d, want 1/0", ok, failed)
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		cfg  authn.Config
	}{
		{"no provider", authn.Config{}},
		{"google without audience", authn.Config{Google: &authn.GoogleConfig{ProjectID: "p"}}},
		{"google without project", authn.Config{Google: &authn.GoogleConfig{Audiences: []string{"a"}}}},
		{"clerk without issuer", authn.Config{Clerk: &authn.ClerkConfig{SecretKey: "sk"}}},
		{"clerk without key source", authn.Config{Clerk: &authn.ClerkConfig{Issuer: clerkIssuer}}},
		{"clerk with bad PEM", authn.Config{Clerk: &authn.ClerkConfig{Issuer: clerkIssuer, JWTKeyPEM: "nope"}}},
		{"negative skew", authn.Config{ClockSkew: -time.Second, Clerk: &authn.ClerkConfig{Issuer: clerkIssuer, SecretKey: "sk"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if _, err := authn.New(tt.cfg); err == nil {
				t.Error("New succeeded, want an error")
			}
		})
	}
}

// TestStrictTokenParsing: signed tokens that only the claims decoder can
// refuse or must decode carefully, through Authenticate.
func TestStrictTokenParsing(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	now := f.clock.Now()
	googleHeader := `{"alg":"RS256","kid":"` + googleKey.KID + `","typ":"JWT"}`
	clerkHeader := `{"alg":"RS256","kid":"` + clerkKey.KID + `","typ":"JWT"}`
	google := fmt.Sprintf(`"iss":"https://accounts.google.com","aud":%q,"sub":"1","email":%q,"email_verified":true,"exp":%d`,
		testAudience, testEmail, now.Add(time.Hour).Unix())
	clerk := fmt.Sprintf(`"iss":%q,"sub":%q,"sid":"sess_1","azp":%q,"exp":%d`, clerkIssuer, clerkUser, clerkParty, now.Add(time.Minute).Unix())
	tests := []struct {
		name           string
		signer         *mint.Signer
		header, claims string
		want           error
		wantEmail      string
	}{
		{"google", googleKey, googleHeader, `{` + google + `}`, nil, testEmail},
		{"google, a claim twice", googleKey, googleHeader, `{` + google + `,"email":"admin@acme.iam.gserviceaccount.com"}`, authn.ErrMalformedToken, ""},
		{"google, aud twice", googleKey, googleHeader, `{"aud":"https://evil.example",` + google + `}`, authn.ErrMalformedToken, ""},
		{"google, a claim twice, once escaped", googleKey, googleHeader, `{` + google + `,"\u0065mail":"x@acme.iam.gserviceaccount.com"}`, authn.ErrMalformedToken, ""},
		{"google, a claim twice in a custom object", googleKey, googleHeader, `{` + google + `,"x":{"a":1,"a":2}}`, authn.ErrMalformedToken, ""},
		{"google, escaped strings", googleKey, googleHeader,
			fmt.Sprintf(`{"iss":"https:\/\/accounts.google.com","aud":["x",%q],"sub":"\u0031","email":"\u0070ubsub-push@acme.iam.gserviceaccount.com","email_verified":true,"exp":%d}`,
				testAudience, now.Add(time.Hour).Unix()), nil, testEmail},
		{"google, aud array with a number", googleKey, googleHeader,
			fmt.Sprintf(`{"iss":"https://accounts.google.com","aud":[1,%q],"sub":"1","email":%q,"email_verified":true,"exp":%d}`,
				testAudience, testEmail, now.Add(time.Hour).Unix()), authn.ErrMalformedToken, ""},
		{"google, iss not a string", googleKey, googleHeader, `{` + google + `,"iss":1}`, authn.ErrMalformedToken, ""},
		{"google, invalid UTF-8 in a claim", googleKey, googleHeader, `{` + google + ",\"x\":\"\xff\"}", authn.ErrMalformedToken, ""},
		{"google, trailing data", googleKey, googleHeader, `{` + google + `} {}`, authn.ErrMalformedToken, ""},
		{"google, number out of range in a custom claim (not read)", googleKey, googleHeader, `{` + google + `,"x":[1e400]}`, nil, testEmail},
		{"google, exp out of range", googleKey, googleHeader, `{"iss":"https://accounts.google.com","aud":"` + testAudience + `","sub":"1","email":"` + testEmail + `","email_verified":true,"exp":1e400}`, authn.ErrMalformedToken, ""},
		{"google, header member twice", googleKey, `{"alg":"RS256","kid":"other","kid":"` + googleKey.KID + `"}`, `{` + google + `}`, authn.ErrMalformedToken, ""},
		{"google, header Alg (not alg)", googleKey, `{"Alg":"RS256","kid":"` + googleKey.KID + `"}`, `{` + google + `}`, authn.ErrUnsupportedAlgorithm, ""},
		{"google, header crit", googleKey, `{"alg":"RS256","kid":"` + googleKey.KID + `","crit":["exp"]}`, `{` + google + `}`, authn.ErrMalformedToken, ""},
		{"google, header null", googleKey, `null`, `{` + google + `}`, authn.ErrUnsupportedAlgorithm, ""},
		{"google, header with a jwk (ignored, as before)", googleKey, `{"alg":"RS256","kid":"` + googleKey.KID + `","jwk":{"kty":"RSA"}}`, `{` + google + `}`, nil, testEmail},
		{"clerk", clerkKey, clerkHeader, `{` + clerk + `}`, nil, ""},
		{"clerk, sub twice", clerkKey, clerkHeader, `{` + clerk + `,"sub":"user_admin"}`, authn.ErrMalformedToken, ""},
		{"clerk, a name differing in case (the SDK reads it)", clerkKey, clerkHeader, `{` + clerk + `,"Sub":"user_admin"}`, authn.ErrMalformedToken, ""},
		{"clerk, azp differing in case (the SDK reads it)", clerkKey, clerkHeader, `{` + clerk + `,"AZP":"https://evil.example"}`, authn.ErrMalformedToken, ""},
		{"clerk, org_role differing in case", clerkKey, clerkHeader, `{` + clerk + `,"org_role":"org:member","ORG_ROLE":"org:admin"}`, authn.ErrMalformedToken, ""},
		{"clerk, org_permissions differing in case", clerkKey, clerkHeader, `{` + clerk + `,"Org_Permissions":["org:events:publish"]}`, authn.ErrMalformedToken, ""},
		{"clerk, sid by Unicode folding", clerkKey, clerkHeader, `{` + clerk + `,"ſid":"sess_2"}`, authn.ErrMalformedToken, ""},
		{"clerk, a custom claim of another name", clerkKey, clerkHeader, `{` + clerk + `,"org_roles":["a"]}`, nil, ""},
		{"clerk, header with a jwk", clerkKey, `{"alg":"RS256","kid":"` + clerkKey.KID + `","jwk":{"kty":"RSA"}}`, `{` + clerk + `}`, authn.ErrMalformedToken, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tok, err := tt.signer.SignRaw([]byte(tt.header), []byte(tt.claims))
			if err != nil {
				t.Fatal(err)
			}
			p, err := f.auth.Authenticate(bearer(http.MethodGet, tok))
			if !errors.Is(err, tt.want) || (tt.want == nil && err != nil) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
			if err == nil && p.Email != tt.wantEmail {
				t.Errorf("Email = %q, want %q", p.Email, tt.wantEmail)
			}
		})
	}
}

// TestTokenSpelledOneWay: the base64url decoder skips line breaks, so a
// token with one inside a segment would verify under a second spelling
// (and a second cache key); it is refused.
func TestTokenSpelledOneWay(t *testing.T) {
	t.Parallel()
	f := newFixture(t, func(c *authn.Config) { c.TokenCacheSize = -1 })
	tok := sign(t, googleKey, f.googleClaims())
	dot := strings.IndexByte(tok, '.')
	for name, respelled := range map[string]string{
		"LF in the payload":   tok[:dot+5] + "\n" + tok[dot+5:],
		"CR in the header":    tok[:3] + "\r" + tok[3:],
		"CRLF in the payload": tok[:dot+5] + "\r\n" + tok[dot+5:],
	} {
		r := httptest.NewRequest(http.MethodGet, "/target", nil)
		r.Header["Authorization"] = []string{"Bearer " + respelled}
		if _, err := f.auth.Authenticate(r); !errors.Is(err, authn.ErrMalformedToken) {
			t.Errorf("%s: got %v, want ErrMalformedToken", name, err)
		}
	}
}

// TestKeyForAnotherAlgorithm: a JWK that names its algorithm is used for
// that algorithm only, even when the signature would verify.
func TestKeyForAnotherAlgorithm(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	jwk := googleKey.JWK()
	f.google.SetBody([]byte(`{"keys":[{"kty":"RSA","kid":"` + jwk.Kid + `","alg":"RS384","n":"` + jwk.N + `","e":"` + jwk.E + `"}]}`))
	tok := sign(t, googleKey, f.googleClaims())
	if _, err := f.auth.Authenticate(bearer(http.MethodGet, tok)); !errors.Is(err, authn.ErrBadSignature) {
		t.Errorf("RS256 token, key marked RS384: got %v, want ErrBadSignature", err)
	}
}

// TestMetricsReasons: each refusal of the contract's list is counted with
// the rule set that judged it (none when none did) and its reason, an
// outage as unavailable; no attribute value holds a token, an email or a
// subject.
func TestMetricsReasons(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	g := func(edit func(c map[string]any)) string {
		c := f.googleClaims()
		edit(c)
		return sign(t, googleKey, c)
	}
	good := sign(t, googleKey, f.googleClaims())
	session := sign(t, clerkKey, f.clerkClaims())
	tests := []struct {
		r     *http.Request
		attrs []string
	}{
		{bearer(http.MethodGet, "x.y.z"), []string{"decision=refused", "provider=none", "reason=malformed"}},
		{bearer(http.MethodGet, sign(t, googleKey, mint.ClerkClaims("https://evil.example", "u", f.clock.Now(), time.Minute))), []string{"decision=refused", "provider=none", "reason=unknown_issuer"}},
		{bearer(http.MethodGet, g(func(c map[string]any) { c["aud"] = "https://other" })), []string{"decision=refused", "provider=google", "reason=wrong_audience"}},
		{bearer(http.MethodGet, g(func(c map[string]any) { c["email"] = "x@other.iam.gserviceaccount.com" })), []string{"decision=refused", "provider=google", "reason=wrong_email"}},
		{bearer(http.MethodGet, sign(t, mustSigner(t, "google-x"), f.googleClaims())), []string{"decision=refused", "provider=google", "reason=unknown_key"}},
		{bearer(http.MethodGet, swapPayload(good, g(func(c map[string]any) { c["sub"] = "2" }))), []string{"decision=refused", "provider=google", "reason=bad_signature"}},
		{cookie(http.MethodPost, session), []string{"decision=refused", "provider=clerk", "reason=csrf"}},
		{bearer(http.MethodGet, sign(t, clerkKey, func() map[string]any { c := f.clerkClaims(); c["azp"] = "https://evil.example"; return c }())), []string{"decision=refused", "provider=clerk", "reason=wrong_party"}},
	}
	for _, tt := range tests {
		_, _ = f.auth.Authenticate(tt.r)
		if got := f.metrics.count(t, "pushgate.auth.decisions", tt.attrs...); got != 1 {
			t.Errorf("decisions %v = %d, want 1", tt.attrs, got)
		}
	}
	fresh := newFixture(t)
	fresh.clerk.SetDown(true)
	_, _ = fresh.auth.Authenticate(bearer(http.MethodGet, sign(t, clerkKey, fresh.clerkClaims())))
	if got := fresh.metrics.count(t, "pushgate.auth.decisions", "decision=unavailable", "provider=clerk"); got != 1 {
		t.Errorf("unavailable = %d, want 1", got)
	}
	if got := fresh.metrics.count(t, "pushgate.keys.fetches", "provider=clerk", "result=error"); got != 1 {
		t.Errorf("failed Clerk key fetches = %d, want 1", got)
	}
	for _, name := range []string{"pushgate.auth.decisions", "pushgate.keys.fetches", "pushgate.token_cache.lookups"} {
		for _, dp := range f.metrics.points(t, name) {
			for _, kv := range dp.Attributes.ToSlice() {
				v := kv.Value.String()
				for _, secret := range []string{testEmail, clerkUser, "@", "."} {
					if strings.Contains(v, secret) {
						t.Errorf("%s attribute %s=%q holds %q", name, kv.Key, v, secret)
					}
				}
			}
		}
	}
}
