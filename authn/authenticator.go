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
	google *googleVerifier // nil: Google auth off
	clerk  *clerkVerifier  // nil: Clerk auth off
	skew   time.Duration
	now    func() time.Time
	log    *slog.Logger
	cache  *tokenCache   // nil: no cache
	recent *recentTokens // the token last seen twice; nil with no cache
	sets   []*KeySet     // key sets this authenticator owns or uses

	allowed atomic.Uint64
	denied  [numCodes]atomic.Uint64
	hits    atomic.Uint64
	misses  atomic.Uint64
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
	if a.cache != nil {
		a.recent = newRecentTokens()
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
		v, err := newGoogleVerifier(g, keys)
		if err != nil {
			problems = append(problems, err)
		} else {
			a.google = v
			a.sets = append(a.sets, keys)
		}
	}
	if c := cfg.Clerk; c != nil {
		keys, err := clerkKeySet(c, client, a.now, a.log)
		if err != nil {
			problems = append(problems, err)
		} else if v, err := newClerkVerifier(c, keys); err != nil {
			problems = append(problems, err)
		} else {
			a.clerk = v
			a.sets = append(a.sets, keys)
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
	for _, ks := range a.sets {
		ks.Start(ctx)
	}
}

// Authenticate verifies the request's token and returns its principal. The
// token comes from "Authorization: Bearer" (scheme case-insensitive), else
// from the __session cookie; never from the query string. Errors are *Error
// values matching the package's sentinels. Each refusal is logged once.
func (a *Authenticator) Authenticate(r *http.Request) (Principal, error) {
	p, _, err := a.admit(r)
	return p, err
}

// admit is Authenticate that also returns, when it has one ready, the
// context entry for the principal (shared by requests with the same
// token), which spares Middleware an allocation per request.
func (a *Authenticator) admit(r *http.Request) (Principal, *principalEntry, error) {
	p, entry, info, err := a.authenticate(r)
	if err != nil {
		a.refuse(r, err, &info)
		return Principal{}, nil, err
	}
	a.allowed.Add(1)
	return p, entry, nil
}

func (a *Authenticator) authenticate(r *http.Request) (Principal, *principalEntry, refusalInfo, error) {
	var info refusalInfo
	cred, err := extractCredential(r)
	if err != nil {
		return Principal{}, nil, info, err
	}
	info.sent, info.fromCookie = true, cred.fromCookie
	if len(cred.token) > MaxTokenBytes {
		return Principal{}, nil, info, ErrTokenTooLarge
	}
	now := a.now()
	var key [sha256.Size]byte
	if a.cache != nil {
		h := a.recent.hash(cred.token)
		if e, listed, ok := a.recent.get(h, cred.token, now); ok {
			a.hits.Add(1)
			if err := a.checkCookie(r, cred, listed); err != nil {
				info.fromPrincipal(e.p)
				return Principal{}, nil, info, err
			}
			return e.p, e, info, nil
		}
		key = tokenHash(cred.token)
		if p, listed, ok := a.cache.get(&key, now); ok {
			a.hits.Add(1)
			e := a.recent.keep(h, cred.token, p, a, listed, p.Expiry.Add(a.skew))
			if err := a.checkCookie(r, cred, listed); err != nil {
				info.fromPrincipal(p)
				return Principal{}, nil, info, err
			}
			return p, e, info, nil
		}
		a.misses.Add(1)
	}

	var t token
	if err := t.parse(cred.token); err != nil {
		return Principal{}, nil, info, err
	}
	id, listed, err := a.verify(r, &t, now)
	if err != nil {
		info.fromToken(&t)
		return Principal{}, nil, info, err
	}
	p := id.principal()
	if a.cache != nil {
		a.cache.put(&key, id, listed, p.Expiry.Add(a.skew))
	}
	if err := a.checkCookie(r, cred, listed); err != nil {
		info.fromToken(&t)
		return Principal{}, nil, info, err
	}
	return p, nil, info, nil
}

// verify dispatches a parsed token by its unverified issuer to the rules
// of its provider, and reports whether its azp is an authorized party.
func (a *Authenticator) verify(r *http.Request, t *token, now time.Time) (id identity, partyListed bool, err error) {
	if t.sigSegment == signatureRemoved {
		return identity{}, false, ErrSignatureRemoved
	}
	if t.str(t.alg) != "RS256" {
		return identity{}, false, ErrUnsupportedAlgorithm
	}
	iss := t.str(t.claims.iss)
	switch {
	case a.google != nil && isGoogleIssuer(iss):
		id, err = a.google.verify(r.Context(), t, now, a.skew)
	case a.clerk != nil && iss == a.clerk.issuer:
		id, err = a.clerk.verify(r.Context(), t, now, a.skew)
		partyListed = err == nil && a.clerk.partyListed(id.text(id.party))
	default:
		err = ErrUnknownIssuer
	}
	return id, partyListed, err
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
		p, entry, err := a.admit(r)
		if err != nil {
			WriteError(w, err)
			return
		}
		if entry == nil {
			entry = &principalEntry{p: p, a: a}
		}
		ctx := context.WithValue(r.Context(), principalKey{}, entry)
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}
