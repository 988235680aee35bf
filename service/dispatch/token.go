package dispatch

import (
	"context"
	"sync"
	"time"
)

// TokenSource returns a bearer token (a Google-signed OIDC ID token for a
// real push endpoint) for audience. It must be safe for concurrent use.
type TokenSource func(ctx context.Context, audience string) (string, error)

// DefaultTokenTTL is the CachedTokenSource lifetime used for a ttl of zero:
// ten minutes less than the hour an ID token lives.
const DefaultTokenTTL = 50 * time.Minute

// CachedTokenSource returns a TokenSource that asks ts for a token per
// audience at most once per ttl (ttl <= 0 → DefaultTokenTTL), the way Pub/Sub
// reuses a push token across deliveries. Concurrent callers for the same
// audience share one call to ts; an error is returned to them and not cached.
// ttl must be below the tokens' lifetime.
func CachedTokenSource(ts TokenSource, ttl time.Duration) TokenSource {
	return newTokenCache(ts, ttl, time.Now).token
}

// tokenCache backs CachedTokenSource; now is injected for tests.
type tokenCache struct {
	ts  TokenSource
	ttl time.Duration
	now func() time.Time

	mu      sync.Mutex
	entries map[string]*tokenEntry // by audience
}

// tokenEntry is one audience's token, or the fetch of it under way.
type tokenEntry struct {
	token   string
	expires time.Time
	fetch   *tokenFetch // non-nil while a fetch is under way
}

// tokenFetch is one call to the underlying source that callers wait for.
type tokenFetch struct {
	done  chan struct{}
	token string
	err   error
}

func newTokenCache(ts TokenSource, ttl time.Duration, now func() time.Time) *tokenCache {
	if ttl <= 0 {
		ttl = DefaultTokenTTL
	}
	return &tokenCache{ts: ts, ttl: ttl, now: now, entries: make(map[string]*tokenEntry)}
}

func (c *tokenCache) token(ctx context.Context, audience string) (string, error) {
	c.mu.Lock()
	e := c.entries[audience]
	if e == nil {
		e = &tokenEntry{}
		c.entries[audience] = e
	}
	if e.token != "" && c.now().Before(e.expires) {
		tok := e.token
		c.mu.Unlock()
		return tok, nil
	}
	f := e.fetch
	if f == nil {
		f = &tokenFetch{done: make(chan struct{})}
		e.fetch = f
		c.mu.Unlock()
		c.run(ctx, audience, e, f)
	} else {
		c.mu.Unlock()
	}
	select {
	case <-f.done:
		return f.token, f.err
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

// run calls the source for f and publishes its result to the cache.
func (c *tokenCache) run(ctx context.Context, audience string, e *tokenEntry, f *tokenFetch) {
	f.token, f.err = c.ts(ctx, audience)
	c.mu.Lock()
	e.fetch = nil
	if f.err == nil {
		e.token, e.expires = f.token, c.now().Add(c.ttl)
	}
	c.mu.Unlock()
	close(f.done)
}
