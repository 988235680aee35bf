package authn

import (
	"context"
	"crypto/rsa"
	"crypto/sha256"
	"errors"
	"log/slog"
	"net/http"
	"sync/atomic"
	"time"
)

// Authenticator turns a request's token into a Principal. Build it once
// with New; it is safe for concurrent use.
type Authenticator struct {
	google *googleRules // nil: Google auth off
	clerk  *clerkRules  // nil: Clerk auth off
	sets   []*ruleSet   // the rule sets on, for dispatch
	skew   time.Duration
	now    func() time.Time
	log    *slog.Logger
	cache  *tokenCache // nil: no cache
	keys   []*KeySet   // key sets this authenticator owns or uses

	allowed atomic.Uint64
	denied  [numCodes]atomic.Uint64
	hits    atomic.Uint64
	misses  atomic.Uint64
}

// ruleSet is one provider's rules, as dispatch sees them.
type ruleSet struct {
	// name is the provider: "google", "clerk", …
	name  string
	rules []rule
	// principal makes the principal of a token that passed every rule.
	principal func(v *verification) Principal
	// partyListed reports whether an azp is an authorized party (the
	// cookie rule); nil for a provider whose tokens never come in the
	// cookie.
	partyListed func(azp string) bool
}

// New validates cfg and builds an Authenticator. It makes no network call:
// call Start to begin fetching keys in the background.
func New(cfg Config) (*Authenticator, error) {
	if cfg.Google == nil && cfg.Clerk == nil {
		return nil, errors.New("authn: no provider configured (Google and Clerk are both nil)")
	}
	a := &Authenticator{skew: cfg.ClockSkew, now: cfg.Now, log: cfg.Logger}
	switch {
	case a.skew == 0:
		a.skew = DefaultClockSkew
	case a.skew == NoClockSkew:
		a.skew = 0
	case a.skew < 0:
		return nil, errors.New("authn: negative clock skew")
	}
	if a.now == nil {
		a.now = time.Now
	}
	if a.log == nil {
		a.log = slog.New(slog.DiscardHandler)
	}
	client := cfg.HTTPClient
	if client == nil {
		client = &http.Client{Timeout: DefaultFetchTimeout}
	}
	switch size := cfg.TokenCacheSize; {
	case size == 0:
		a.cache = newTokenCache(DefaultTokenCacheSize)
	case size > 0:
		a.cache = newTokenCache(size)
	}
	var problems []error
	if g := cfg.Google; g != nil {
		keys := g.Keys
		if keys == nil {
			url := g.CertsURL
			if url == "" {
				url = DefaultGoogleCertsURL
			}
			keys = NewRemoteKeySet(url, KeySetOptions{Name: "google", HTTPClient: client, Now: a.now, Logger: a.log})
		}
		if rules, err := newGoogleRules(g, keys); err != nil {
			problems = append(problems, err)
		} else {
			a.google = rules
			a.keys = append(a.keys, keys)
			a.sets = append(a.sets, &ruleSet{name: "google", rules: rules.rules, principal: rules.principal})
		}
	}
	if c := cfg.Clerk; c != nil {
		keys, err := clerkKeySet(c, client, a.now, a.log)
		if err != nil {
			problems = append(problems, err)
		} else if rules, err := newClerkRules(c, keys); err != nil {
			problems = append(problems, err)
		} else {
			a.clerk = rules
			a.keys = append(a.keys, keys)
			a.sets = append(a.sets, &ruleSet{name: ProviderClerk, rules: rules.rules,
				principal: rules.principal, partyListed: rules.partyListed})
		}
	}
	if err := errors.Join(problems...); err != nil {
		return nil, err
	}
	return a, nil
}

func clerkKeySet(c *ClerkConfig, client *http.Client, now func() time.Time, log *slog.Logger) (*KeySet, error) {
	switch {
	case c.Keys != nil:
		return c.Keys, nil
	case c.JWTKeyPEM != "":
		pub, err := ParseRSAPublicKeyPEM(c.JWTKeyPEM)
		if err != nil {
			return nil, err
		}
		return NewStaticKeySet(map[string]*rsa.PublicKey{"": pub}), nil
	case c.SecretKey != "":
		return NewRemoteKeySet(clerkJWKSURL(c.APIURL), KeySetOptions{
			Name: "clerk", HTTPClient: client, BearerToken: Secret(c.SecretKey), Now: now, Logger: log,
		}), nil
	}
	return nil, errors.New("authn: clerk: no key source (JWTKeyPEM, SecretKey or Keys)")
}

// Start begins fetching every remote key set in the background and returns
// at once. Requests that arrive before a fetch completes wait for it (or
// share it); Start is optional but saves the first caller that wait.
func (a *Authenticator) Start(ctx context.Context) {
	for _, ks := range a.keys {
		ks.Start(ctx)
	}
}

// Authenticate verifies the request's token and returns its principal. The
// token comes from "Authorization: Bearer" (scheme case-insensitive), else
// from the __session cookie; never from the query string. Errors are *Error
// values matching the package's sentinels (a *RuleError when a named rule
// refused the token). Each refusal is logged once.
func (a *Authenticator) Authenticate(r *http.Request) (Principal, error) {
	e, err := a.admit(r)
	if err != nil {
		return Principal{}, err
	}
	return e.p, nil
}

// admit is Authenticate returning the principal's context entry, which the
// token cache shares between the requests that carry the same token.
func (a *Authenticator) admit(r *http.Request) (*principalEntry, error) {
	e, info, err := a.authenticate(r)
	if err != nil {
		a.refuse(r, err, &info)
		return nil, err
	}
	a.allowed.Add(1)
	return e, nil
}

func (a *Authenticator) authenticate(r *http.Request) (*principalEntry, refusalInfo, error) {
	var info refusalInfo
	cred, err := extractCredential(r)
	if err != nil {
		return nil, info, err
	}
	info.sent, info.fromCookie = true, cred.fromCookie
	if len(cred.token) > MaxTokenBytes {
		return nil, info, ErrTokenTooLarge
	}
	now := a.now()
	var key [sha256.Size]byte
	if a.cache != nil {
		key = sha256.Sum256([]byte(cred.token))
		if e, ok := a.cache.get(key, now); ok {
			a.hits.Add(1)
			if err := a.checkCookie(r, cred, e.partyListed); err != nil {
				info.fromPrincipal(e.p)
				return nil, info, err
			}
			return e, info, nil
		}
		a.misses.Add(1)
	}

	t, err := parseToken(cred.token)
	if err != nil {
		return nil, info, err
	}
	info.fromToken(t)
	e, err := a.verify(r.Context(), t, now)
	if err != nil {
		return nil, info, err
	}
	if a.cache != nil {
		a.cache.put(key, e)
	}
	if err := a.checkCookie(r, cred, e.partyListed); err != nil {
		return nil, info, err
	}
	return e, info, nil
}

// verify judges a parsed token by the rules of the provider its unverified
// issuer names, and makes its principal's entry.
func (a *Authenticator) verify(ctx context.Context, t *token, now time.Time) (*principalEntry, error) {
	if t.sigSegment == signatureRemoved {
		return nil, refusal("signature", ErrSignatureRemoved, "a signature", "Cloud Run's placeholder for a signature it removed")
	}
	set, err := a.ruleSetFor(t)
	if err != nil {
		return nil, err
	}
	v := &verification{ctx: ctx, t: t, now: now, skew: a.skew}
	for _, rule := range set.rules {
		if err := rule.check(v); err != nil {
			return nil, err
		}
	}
	p := set.principal(v)
	e := &principalEntry{p: p, a: a, deadline: p.Expiry.Add(a.skew)}
	if set.partyListed != nil {
		e.partyListed = set.partyListed(p.AuthorizedParty)
	}
	return e, nil
}

// ruleSetFor dispatches a token by its unverified issuer. A token whose
// issuer no provider has is refused before any key is fetched.
func (a *Authenticator) ruleSetFor(t *token) (*ruleSet, error) {
	iss := t.claims.Iss
	var issuers []string
	for _, set := range a.sets {
		switch set.name {
		case "google":
			if isGoogleIssuer(iss) {
				return set, nil
			}
			issuers = append(issuers, GoogleIssuer, GoogleIssuerShort)
		case ProviderClerk:
			if iss == a.clerk.issuer {
				return set, nil
			}
			issuers = append(issuers, a.clerk.issuer)
		}
	}
	return nil, refusal("iss", ErrUnknownIssuer, "the issuer of a configured provider "+quoteList(issuers), quote(iss))
}

// checkCookie is the cross-site request forgery rule: a token from the
// __session cookie on an unsafe method must carry a listed azp, and the
// request's Origin (which browsers send on every unsafe request) must be
// listed too: azp says which frontend the token was minted for, the Origin
// which page is using it. It depends on the request, so it runs on every
// request, cached token or not.
func (a *Authenticator) checkCookie(r *http.Request, cred credential, partyListed bool) error {
	if !cred.fromCookie || !unsafeMethod(r.Method) {
		return nil
	}
	if !partyListed {
		return ErrCookieNeedsParty
	}
	if a.clerk == nil || !a.clerk.partyListed(r.Header.Get("Origin")) {
		return ErrCookieNeedsOrigin
	}
	return nil
}

// Middleware authenticates every request: on success it puts the Principal
// in the request context (see PrincipalFrom) and calls next; otherwise it
// answers 401 or 503 (see WriteError) and does not call next.
func (a *Authenticator) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e, err := a.admit(r)
		if err != nil {
			WriteError(w, err)
			return
		}
		ctx := context.WithValue(r.Context(), principalKey{}, e)
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}
