package authn

import (
	"context"
	"crypto/rsa"
	"crypto/sha256"
	"errors"
	"log/slog"
	"net/http"
	"slices"
	"time"
)

// Authenticator turns a request's token into a Principal. Build it once
// with New; it is safe for concurrent use.
type Authenticator struct {
	google   *googleRules // nil: Google auth off
	clerk    *clerkRules  // nil: Clerk auth off
	sets     []*ruleSet   // the rule sets on, for dispatch
	gateways []string     // AUTH_GATEWAY_SERVICE_ACCOUNTS
	skew     time.Duration
	now      func() time.Time
	log      *slog.Logger
	cache    *tokenCache // nil: no cache
	keys     []*KeySet   // key sets this authenticator owns or uses
	metrics  *metrics
}

// ruleSet is one provider's rules, as dispatch sees them.
type ruleSet struct {
	// name is the provider: "google", "clerk", or an OIDCProvider's Name.
	name string
	// issuers are the iss values the rule set takes.
	issuers []string
	// takes reports whether a token of a shared issuer is the rule set's
	// by its audience; nil for a rule set that shares no issuer (Clerk).
	takes func(t *token) bool
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
	if cfg.Google == nil && cfg.Clerk == nil && len(cfg.Providers) == 0 {
		return nil, errors.New("authn: no provider configured (Google, Clerk and Providers are all unset)")
	}
	meter := meterOf(cfg.MeterProvider)
	a := &Authenticator{skew: cfg.ClockSkew, now: cfg.Now, log: cfg.Logger, metrics: newMetrics(meter)}
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
			keys = NewRemoteKeySet(url, KeySetOptions{Name: "google", HTTPClient: client, Now: a.now, Logger: a.log, MeterProvider: cfg.MeterProvider})
		}
		if rules, err := newGoogleRules(g, keys); err != nil {
			problems = append(problems, err)
		} else {
			a.google = rules
			a.keys = append(a.keys, keys)
			a.sets = append(a.sets, &ruleSet{name: "google", issuers: []string{GoogleIssuer, GoogleIssuerShort},
				takes: rules.takes, rules: rules.rules, principal: rules.principal})
		}
	}
	if c := cfg.Clerk; c != nil {
		keys, err := clerkKeySet(c, KeySetOptions{Name: ProviderClerk, HTTPClient: client, Now: a.now, Logger: a.log, MeterProvider: cfg.MeterProvider})
		if err != nil {
			problems = append(problems, err)
		} else if rules, err := newClerkRules(c, keys); err != nil {
			problems = append(problems, err)
		} else {
			a.clerk = rules
			a.keys = append(a.keys, keys)
			a.sets = append(a.sets, &ruleSet{name: ProviderClerk, issuers: []string{rules.issuer},
				rules: rules.rules, principal: rules.principal, partyListed: rules.partyListed})
		}
	}
	problems = append(problems, checkOIDCProviders(cfg.Providers)...)
	for _, p := range cfg.Providers {
		keys := p.Keys
		opts := KeySetOptions{Name: p.Name, HTTPClient: client, Now: a.now, Logger: a.log, MeterProvider: cfg.MeterProvider}
		switch {
		case keys != nil:
		case p.JWKSURL != "":
			keys = NewRemoteKeySet(p.JWKSURL, opts)
		default:
			keys = NewDiscoveredKeySet(p.Issuer, opts)
		}
		rules := newOIDCRules(p, keys)
		a.keys = append(a.keys, keys)
		issuers := []string{p.Issuer}
		if isGoogleIssuer(p.Issuer) {
			issuers = []string{GoogleIssuer, GoogleIssuerShort}
		}
		a.sets = append(a.sets, &ruleSet{name: p.Name, issuers: issuers, takes: rules.takes,
			rules: rules.rules, principal: rules.principal})
	}
	problems = append(problems, checkSharedIssuers(cfg)...)
	if len(cfg.GatewayServiceAccounts) > 0 {
		if cfg.Google == nil {
			problems = append(problems, errors.New("authn: gateway service accounts need Google auth"))
		}
		a.gateways = slices.Clone(cfg.GatewayServiceAccounts)
	}
	if err := errors.Join(problems...); err != nil {
		return nil, err
	}
	return a, nil
}

func clerkKeySet(c *ClerkConfig, opts KeySetOptions) (*KeySet, error) {
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
		opts.BearerToken = Secret(c.SecretKey)
		return NewRemoteKeySet(clerkJWKSURL(c.APIURL), opts), nil
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
	a.metrics.decide(r.Context(), e.provider, nil)
	return e.p, nil
}

// admit is Authenticate returning the principal's context entry, which the
// token cache shares between the requests that carry the same token. It
// counts and logs a refusal; the caller counts the admission.
func (a *Authenticator) admit(r *http.Request) (*principalEntry, error) {
	e, info, err := a.authenticate(r)
	if err != nil {
		a.metrics.decide(r.Context(), info.provider, err)
		a.refuse(r, err, &info)
		return nil, err
	}
	return e, nil
}

func (a *Authenticator) authenticate(r *http.Request) (*principalEntry, refusalInfo, error) {
	var info refusalInfo
	cred, err := extractCredential(r)
	if err != nil {
		return nil, info, err
	}
	info.sent, info.fromCookie = true, cred.fromCookie
	now := a.now()
	e, err := a.entryFor(r.Context(), cred.token, now, &info)
	if err != nil {
		return nil, info, err
	}
	if err := a.checkCookie(r, cred, e); err != nil {
		info.fromPrincipal(e.p)
		return nil, info, err
	}
	if !cred.fromCookie && e.p.Kind == KindService && slices.Contains(a.gateways, e.p.Email) {
		return a.forwarded(r, e, now)
	}
	return e, info, nil
}

// entryFor returns the principal's entry of a token: from the token cache,
// or verified now (and then cached).
func (a *Authenticator) entryFor(ctx context.Context, tok string, now time.Time, info *refusalInfo) (*principalEntry, error) {
	if len(tok) > MaxTokenBytes {
		return nil, ErrTokenTooLarge
	}
	var key [sha256.Size]byte
	if a.cache != nil {
		key = sha256.Sum256([]byte(tok))
		e, ok := a.cache.get(key, now)
		a.metrics.lookup(ctx, ok)
		if ok {
			info.provider = e.provider
			return e, nil
		}
	}
	t, err := parseToken(tok)
	if err != nil {
		return nil, err
	}
	info.fromToken(t)
	if t.sigSegment == signatureRemoved {
		return nil, refusal("signature", ErrSignatureRemoved, "a signature", "Cloud Run's placeholder for a signature it removed")
	}
	set, err := a.ruleSetFor(t)
	if err != nil {
		return nil, err
	}
	info.provider = set.name
	e, err := a.verify(ctx, set, t, now)
	if err != nil {
		return nil, err
	}
	if a.cache != nil {
		a.cache.put(key, e)
	}
	return e, nil
}

// verify judges a parsed token by the rules of its rule set, and makes its
// principal's entry.
func (a *Authenticator) verify(ctx context.Context, set *ruleSet, t *token, now time.Time) (*principalEntry, error) {
	v := &verification{ctx: ctx, t: t, now: now, skew: a.skew}
	for _, rule := range set.rules {
		if err := rule.check(v); err != nil {
			return nil, err
		}
	}
	p := set.principal(v)
	e := &principalEntry{p: p, a: a, provider: set.name, deadline: p.Expiry.Add(a.skew)}
	if set.partyListed != nil {
		e.partyListed = set.partyListed(p.AuthorizedParty)
	}
	return e, nil
}

// checkCookie is the rule of the __session cookie: it carries Clerk
// session tokens only, and on an unsafe method (cross-site request
// forgery) the token must carry a listed azp and the request's Origin
// (which browsers send on every unsafe request) must be listed too: azp
// says which frontend the token was minted for, the Origin which page is
// using it. It depends on the request, so it runs on every request,
// cached token or not.
func (a *Authenticator) checkCookie(r *http.Request, cred credential, e *principalEntry) error {
	switch {
	case !cred.fromCookie:
		return nil
	case e.p.Provider != ProviderClerk:
		return refusal("cookie", ErrCookieNotSession, "a Clerk session token", "a token of "+e.provider)
	case !unsafeMethod(r.Method):
		return nil
	case !e.partyListed:
		return refusal("cookie", ErrCookieNeedsParty, "for "+r.Method+", an azp listed in CLERK_AUTHORIZED_PARTIES "+quoteList(a.clerk.parties),
			"azp "+orNone(e.p.AuthorizedParty))
	case !a.clerk.partyListed(r.Header.Get("Origin")):
		return refusal("cookie", ErrCookieNeedsOrigin, "for "+r.Method+", an Origin listed in CLERK_AUTHORIZED_PARTIES "+quoteList(a.clerk.parties),
			"Origin "+orNone(r.Header.Get("Origin")))
	}
	return nil
}

// orNone is s quoted, or "none" when it is empty.
func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return quote(s)
}

// Middleware authenticates every request: on success it puts the Principal
// in the request context (see PrincipalFrom) and calls next; otherwise it
// answers 401 or 503 (see WriteError) and does not call next. Each request
// counts as one decision: allowed, or refused by the authenticator or by
// the route's policy.
func (a *Authenticator) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e, err := a.admit(r)
		if err != nil {
			WriteError(w, err)
			return
		}
		rp := &requestPrincipal{entry: e}
		defer func() {
			if !rp.policyRefused {
				a.metrics.decide(r.Context(), e.provider, nil)
			}
		}()
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), principalKey{}, rp)))
	})
}
