package authn

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"
)

// ExplainRequest is what a verdict may depend on besides the token: the
// request's method and Origin, and whether the token came in the
// __session cookie.
type ExplainRequest struct {
	Method string // "" → GET
	Origin string
	Cookie bool
}

// Check is one rule's verdict on a token, as Explain reports it.
type Check struct {
	// Rule names the claim or check: "alg", "iss", "aud", "exp", "kid",
	// "signature", "cookie", …
	Rule string
	// OK is the verdict; Skipped, a rule that could not run because one it
	// depends on failed (the signature without a key).
	OK, Skipped bool
	// Reason, Expected and Found describe a refusal. Found never holds any
	// part of the token's text, only the values of its claims.
	Reason, Expected, Found string
}

// Explanation is how the service would judge one token, rule by rule.
type Explanation struct {
	// Provider is the rule set that judged it: "google", "clerk", an
	// OIDCProvider's Name; "" when none could (a malformed token, an
	// unknown issuer, an audience of none of a shared issuer's sets).
	Provider string
	Checks   []Check
	// Principal is what the service would put in the request's context;
	// nil when the token is refused.
	Principal *Principal
	// Err is the service's answer when the token is refused: the first
	// refusal in the order the service runs the rules.
	Err error
	// Hints name the known traps the token fell into.
	Hints []string
}

// Unavailable reports whether no signing keys could be had for the token's
// issuer: the service would answer 503, so the token was not judged.
func (e *Explanation) Unavailable() bool { return errors.Is(e.Err, ErrKeysUnavailable) }

// Explain judges tok exactly as Authenticate would (the same dispatch, the
// same rules, the same keys), but runs every rule of the chosen rule set
// instead of stopping at the first refusal, and reports each one. It never
// reports the token or any part of it; claims' values are reported.
func (a *Authenticator) Explain(ctx context.Context, tok string, req ExplainRequest) Explanation {
	var x Explanation
	fail := func(rule string, err error) Explanation {
		x.record(rule, err)
		x.Err = err
		x.Hints = append(x.Hints, hintsFor(a, nil, err)...)
		return x
	}
	if len(tok) > MaxTokenBytes {
		return fail("size", ErrTokenTooLarge)
	}
	t, err := parseToken(tok)
	if err != nil {
		return fail("format", err)
	}
	if t.sigSegment == signatureRemoved {
		return fail("signature", refusal("signature", ErrSignatureRemoved, "a signature", "Cloud Run's placeholder for a signature it removed"))
	}
	set, err := a.ruleSetFor(t)
	if err != nil {
		x.Hints = append(x.Hints, hintsFor(a, t, err)...)
		x.record(ruleOf(err, "iss"), err)
		x.Err = err
		return x
	}
	x.Provider = set.name
	v := &verification{ctx: ctx, t: t, now: a.now(), skew: a.skew}
	algRefused := false
	for _, r := range set.rules {
		switch {
		case algRefused && (r.name == "kid" || r.name == "signature"):
			// The service fetches no key for such a token; neither does this.
			x.Checks = append(x.Checks, Check{Rule: r.name, Skipped: true, Reason: "the algorithm is refused"})
			continue
		case r.name == "signature" && v.key.key == nil:
			x.Checks = append(x.Checks, Check{Rule: r.name, Skipped: true, Reason: "no key to check it with"})
			continue
		}
		err := r.check(v)
		x.record(r.name, err)
		algRefused = algRefused || r.name == "alg" && err != nil
		if err != nil {
			x.Hints = append(x.Hints, hintsFor(a, t, err)...)
			if x.Err == nil {
				x.Err = err
			}
		}
	}
	if x.Err != nil {
		return x
	}
	p := set.principal(v)
	e := &principalEntry{p: p, provider: set.name}
	if set.partyListed != nil {
		e.partyListed = set.partyListed(p.AuthorizedParty)
	}
	if req.Cookie {
		method := req.Method
		if method == "" {
			method = http.MethodGet
		}
		// Only the method and the Origin header matter to the cookie rule.
		r := &http.Request{Method: method, Header: http.Header{}}
		if req.Origin != "" {
			r.Header.Set("Origin", req.Origin)
		}
		err := a.checkCookie(r, credential{fromCookie: true}, e)
		x.record("cookie", err)
		if err != nil {
			x.Err = err
			return x
		}
	}
	x.Principal = &p
	return x
}

// record adds rule's verdict.
func (x *Explanation) record(rule string, err error) {
	c := Check{Rule: rule, OK: err == nil}
	if err != nil {
		var ae *Error
		if errors.As(err, &ae) {
			c.Reason = ae.Reason
		} else {
			c.Reason = "internal error"
		}
		var re *RuleError
		if errors.As(err, &re) {
			c.Expected, c.Found = re.Expected, re.Found
		}
	}
	x.Checks = append(x.Checks, c)
}

func ruleOf(err error, otherwise string) string {
	var re *RuleError
	if errors.As(err, &re) {
		return re.Rule
	}
	return otherwise
}

// hintsFor names the known traps behind a refusal.
func hintsFor(a *Authenticator, t *token, err error) []string {
	var hints []string
	switch {
	case errors.Is(err, ErrSignatureRemoved):
		hints = append(hints, iamHint)
	case errors.Is(err, ErrWrongAudience) && t != nil:
		for _, aud := range t.claims.Aud {
			if strings.HasSuffix(aud, "/pubsub/push") || a.google != nil && hasPathOfAudience(aud, a.google.audiences) {
				hints = append(hints, "the token's audience is the full push URL; set the push subscription's audience "+
					"(gcloud pubsub subscriptions update SUB --push-auth-token-audience=URL) to the service URL listed in AUTH_GOOGLE_AUDIENCES")
				break
			}
		}
	case errors.Is(err, ErrEmailNotAllowed) && t != nil && strings.HasSuffix(t.claims.Email, "-compute@developer.gserviceaccount.com"):
		hints = append(hints, "the token is the default Compute Engine service account's: give the push subscription or job a "+
			"service account of its own, or list this email in AUTH_GOOGLE_ALLOWED_EMAILS")
	case errors.Is(err, ErrUnknownIssuer) && t != nil && a.clerk != nil && looksLikeClerk(t.claims.Iss):
		hints = append(hints, "the token is from another Clerk instance (a development instance's token for a production "+
			"service, or the other way round): CLERK_ISSUER is "+quote(a.clerk.issuer))
	case t != nil && a.nearClockBound(t, err):
		hints = append(hints, "the token missed its time window by minutes: if it is fresh, this machine's clock and "+
			"the issuer's disagree by more than AUTH_CLOCK_SKEW ("+a.skew.String()+"); check the clock (timedatectl) "+
			"before raising the skew")
	}
	return hints
}

// nearClockBound reports whether a time refusal missed its bound by less
// than ten minutes: clock skew, rather than an old or a future token.
func (a *Authenticator) nearClockBound(t *token, err error) bool {
	const near = 10 * time.Minute
	now := a.now()
	claim := func(c *float64) (time.Time, bool) {
		if c == nil {
			return time.Time{}, false
		}
		return numericDate(*c), true
	}
	switch {
	case errors.Is(err, ErrTokenExpired):
		exp, ok := claim(t.claims.Exp)
		return ok && now.Sub(exp.Add(a.skew)) < near
	case errors.Is(err, ErrIssuedInFuture):
		iat, ok := claim(t.claims.Iat)
		return ok && iat.Sub(now.Add(a.skew)) < near
	case errors.Is(err, ErrNotYetValid):
		nbf, ok := claim(t.claims.Nbf)
		return ok && nbf.Sub(now.Add(a.skew)) < near
	}
	return false
}

// hasPathOfAudience reports whether aud is one of audiences with a path
// added (the push endpoint's URL instead of the service's).
func hasPathOfAudience(aud string, audiences []string) bool {
	for _, want := range audiences {
		if strings.HasPrefix(aud, strings.TrimSuffix(want, "/")+"/") {
			return true
		}
	}
	return false
}

// looksLikeClerk reports whether iss is shaped like a Clerk Frontend API URL.
func looksLikeClerk(iss string) bool {
	return strings.HasPrefix(iss, "https://clerk.") || strings.Contains(iss, ".clerk.accounts.")
}
