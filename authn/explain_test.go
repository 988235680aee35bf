package authn_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/cloudrun-authn/pushgate/authn"
	"github.com/cloudrun-authn/pushgate/authn/mint"
)

// TestExplain: Explain's verdicts are the rules' own: each refusal names
// its rule with what was expected and found, every rule of the rule set is
// reported, the known traps get their hint, and nothing of the token's
// text appears in any of it.
func TestExplain(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	now := f.clock.Now()
	google := func(edit func(c map[string]any)) string {
		c := f.googleClaims()
		if edit != nil {
			edit(c)
		}
		return sign(t, googleKey, c)
	}
	tests := []struct {
		name     string
		tok      string
		req      authn.ExplainRequest
		provider string
		rule     string // the refusing rule; "" when accepted
		found    string // in the refusal's Found
		hint     string // in a hint
	}{
		{name: "accepted service token", tok: google(nil), provider: "google"},
		{name: "accepted Clerk token", tok: sign(t, clerkKey, f.clerkClaims()), provider: "clerk"},
		{name: "full push URL as audience", tok: google(func(c map[string]any) { c["aud"] = testAudience + "/pubsub/push" }),
			provider: "google", rule: "aud", found: testAudience + "/pubsub/push", hint: "full push URL"},
		{name: "default Compute account", tok: google(func(c map[string]any) { c["email"] = "123-compute@developer.gserviceaccount.com" }),
			provider: "google", rule: "email", found: "123-compute@developer.gserviceaccount.com", hint: "default Compute Engine"},
		{name: "signature removed", tok: func() string {
			g := google(nil)
			return g[:strings.LastIndexByte(g, '.')+1] + "SIGNATURE_REMOVED_BY_GOOGLE"
		}(),
			rule: "signature", hint: "--no-invoker-iam-check"},
		{name: "another Clerk instance", tok: sign(t, clerkKey, mint.ClerkClaims("https://clerk.other.example", clerkUser, now, time.Minute)),
			rule: "iss", found: "https://clerk.other.example", hint: "another Clerk instance"},
		{name: "clock skew", tok: google(func(c map[string]any) { c["exp"] = now.Add(-2 * time.Minute).Unix() }),
			provider: "google", rule: "exp", hint: "clock"},
		{name: "old token: no clock hint", tok: google(func(c map[string]any) { c["exp"] = now.Add(-48 * time.Hour).Unix() }),
			provider: "google", rule: "exp"},
		{name: "unknown kid", tok: sign(t, mustSigner(t, "google-9"), f.googleClaims()), provider: "google", rule: "kid"},
		{name: "cookie POST without Origin", tok: sign(t, clerkKey, f.clerkClaims()), req: authn.ExplainRequest{Method: http.MethodPost, Cookie: true},
			provider: "clerk", rule: "cookie"},
		{name: "cookie POST with Origin", tok: sign(t, clerkKey, f.clerkClaims()), req: authn.ExplainRequest{Method: http.MethodPost, Cookie: true, Origin: clerkParty},
			provider: "clerk"},
		{name: "malformed", tok: "not.a.token", rule: "format"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			x := f.auth.Explain(context.Background(), tt.tok, tt.req)
			if x.Provider != tt.provider {
				t.Errorf("Provider = %q, want %q", x.Provider, tt.provider)
			}
			var refused *authn.Check
			for i, c := range x.Checks {
				if !c.OK && !c.Skipped && refused == nil {
					refused = &x.Checks[i]
				}
			}
			switch {
			case tt.rule == "" && (x.Err != nil || x.Principal == nil || refused != nil):
				t.Fatalf("refused (%v, %+v), want accepted", x.Err, refused)
			case tt.rule != "" && (x.Err == nil || refused == nil || refused.Rule != tt.rule):
				t.Fatalf("first refusal %+v (%v), want rule %q", refused, x.Err, tt.rule)
			}
			if tt.found != "" && !strings.Contains(refused.Found, tt.found) {
				t.Errorf("Found = %q, want it to contain %q", refused.Found, tt.found)
			}
			if got := strings.Join(x.Hints, "\n"); tt.hint != "" && !strings.Contains(got, tt.hint) || tt.hint == "" && got != "" {
				t.Errorf("hints %q, want one containing %q", got, tt.hint)
			}
			if tt.provider == "google" && tt.rule != "kid" && len(x.Checks) < 10 {
				t.Errorf("%d checks, want every Google rule reported: %+v", len(x.Checks), x.Checks)
			}
			assertNoTokenLeak(t, "explanation", explanationText(x), tt.tok)
		})
	}
	if errors.Is(f.auth.Explain(context.Background(), "x", authn.ExplainRequest{}).Err, authn.ErrMalformedToken) == false {
		t.Error("a junk token is not malformed")
	}
}

func explanationText(x authn.Explanation) string {
	var b strings.Builder
	b.WriteString(x.Provider)
	for _, c := range x.Checks {
		b.WriteString(c.Rule + c.Reason + c.Expected + c.Found)
	}
	b.WriteString(strings.Join(x.Hints, ""))
	if x.Principal != nil {
		b.WriteString(x.Principal.Subject + x.Principal.Email + x.Principal.Issuer)
	}
	return b.String()
}

// TestExplainFetchesNoKeyForARefusedAlgorithm: the service fetches no key
// for a token whose algorithm its rule set refuses; neither does explain.
func TestExplainFetchesNoKeyForARefusedAlgorithm(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	tok := signWithHeader(t, googleKey, map[string]any{"alg": "HS256", "kid": "google-9"}, f.googleClaims())
	x := f.auth.Explain(context.Background(), tok, authn.ExplainRequest{})
	for _, c := range x.Checks {
		if (c.Rule == "kid" || c.Rule == "signature") && !c.Skipped {
			t.Errorf("%s checked after the algorithm was refused: %+v", c.Rule, c)
		}
	}
	if n := f.google.Fetches(); n != 0 {
		t.Errorf("key fetches = %d, want 0", n)
	}
	bad := f.auth.Explain(context.Background(), sign(t, clerkKey, f.clerkClaims()), authn.ExplainRequest{Cookie: true, Method: "PO ST"})
	if bad.Principal == nil && bad.Err == nil {
		t.Error("an odd method: no verdict")
	}
}
