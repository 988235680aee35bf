package authn

import (
	"context"
	"crypto"
	"crypto/rsa"
	"log/slog"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/metric"
)

// Key set timing and limits.
const (
	// MinKeyLifetime and MaxKeyLifetime clamp a key set's Cache-Control max-age.
	MinKeyLifetime = time.Minute
	MaxKeyLifetime = 24 * time.Hour
	// DefaultKeyLifetime applies when the response has no max-age.
	DefaultKeyLifetime = time.Hour
	// UnknownKeyRefetchInterval is the least time between two refetches
	// caused by tokens naming a key the set does not hold (the first one
	// after a fetch comes at once).
	UnknownKeyRefetchInterval = 30 * time.Second
	// FetchRetryInterval is the least time between a failed fetch and the
	// next attempt; it is also the Retry-After of a 503.
	FetchRetryInterval = 5 * time.Second
	// DefaultMaxKeySetBytes caps a key set response.
	DefaultMaxKeySetBytes = 1 << 20
	// DefaultFetchTimeout bounds one key set fetch.
	DefaultFetchTimeout = 10 * time.Second
)

// KeySetOptions configures a remote key set. Every field is optional.
type KeySetOptions struct {
	// Name labels the key set in logs ("google", "clerk").
	Name string
	// HTTPClient fetches the key set. Nil → a client with FetchTimeout.
	HTTPClient *http.Client
	// BearerToken, when set, is sent as "Authorization: Bearer <token>"
	// (Clerk's secret key). It never reaches a log.
	BearerToken Secret
	// Now is the clock. Nil → time.Now.
	Now func() time.Time
	// Logger receives fetch failures. Nil → discard.
	Logger *slog.Logger
	// MeterProvider receives the pushgate.keys.fetches counter, with Name
	// as its provider. Nil → not recorded.
	MeterProvider metric.MeterProvider
	// MaxBytes caps the response size. 0 → DefaultMaxKeySetBytes.
	MaxBytes int64
	// FetchTimeout bounds one fetch. 0 → DefaultFetchTimeout.
	FetchTimeout time.Duration
}

// KeySetStats counts a key set's fetches.
type KeySetStats struct {
	Fetches  uint64 // fetch attempts
	Failures uint64 // attempts that yielded no usable key set
}

// KeySet holds the public keys of one issuer, by key ID. A remote key set
// fetches a JWKS over HTTP: first in the background at Start and on first
// use, then again when its Cache-Control lifetime (clamped to [1 min, 24 h],
// 1 h when absent) runs out. Concurrent fetches are merged into one. A token
// naming a key the set lacks refetches at once (merged with a fetch under
// way), so that a key published just after a fetch is accepted at first
// sight; further refetches caused by unknown keys come at most once per
// 30 s, and in between such a token is refused at once. Last good keys are
// kept through fetch failures. A static key set never fetches. A KeySet is
// safe for concurrent use.
type KeySet struct {
	url    string
	issuer string // set: url is the jwks_uri of its discovery document
	opts   KeySetOptions
	static bool

	mu         sync.Mutex
	keys       map[string]publicKey // last good keys; nil before the first success
	expires    time.Time            // when keys should be refreshed
	retryAt    time.Time            // no new attempt before this, after a failure
	inflight   *fetchCall
	background bool      // a background refresh has been started and not ended
	kidRefetch time.Time // last refetch caused by an unknown kid
	fetches    atomic.Uint64
	failures   atomic.Uint64
	metrics    *fetchMetrics
}

type fetchCall struct {
	done chan struct{}
	err  error
}

// NewStaticKeySet returns a key set that never fetches, holding RSA keys by
// key ID. A key stored under the empty ID "" matches a token with any kid
// (a PEM key such as CLERK_JWT_KEY carries no ID). The map is copied. A nil
// key, or one that fails the rules every key set applies (see
// checkRSAKey), is left out.
func NewStaticKeySet(keys map[string]*rsa.PublicKey) *KeySet {
	cp := make(map[string]publicKey, len(keys))
	for kid, k := range keys {
		if checkRSAKey(k) == nil {
			cp[kid] = publicKey{key: k}
		}
	}
	return &KeySet{static: true, keys: cp}
}

// NewRemoteKeySet returns a key set fetched from the JWKS at url.
func NewRemoteKeySet(url string, opts KeySetOptions) *KeySet {
	if opts.HTTPClient == nil {
		opts.HTTPClient = &http.Client{Timeout: DefaultFetchTimeout}
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.MaxBytes <= 0 {
		opts.MaxBytes = DefaultMaxKeySetBytes
	}
	if opts.FetchTimeout <= 0 {
		opts.FetchTimeout = DefaultFetchTimeout
	}
	return &KeySet{url: url, opts: opts, metrics: newFetchMetrics(meterOf(opts.MeterProvider), opts.Name)}
}

// Start begins the first fetch in the background and returns at once.
// A static key set does nothing.
func (k *KeySet) Start(ctx context.Context) {
	if k.static {
		return
	}
	go func() { _ = k.refresh(ctx) }()
}

// Refresh fetches the key set now (merged with a fetch already under way)
// and reports the outcome. A static key set returns nil.
func (k *KeySet) Refresh(ctx context.Context) error {
	if k.static {
		return nil
	}
	return k.refresh(ctx)
}

// Stats returns the key set's counters.
func (k *KeySet) Stats() KeySetStats {
	return KeySetStats{Fetches: k.fetches.Load(), Failures: k.failures.Load()}
}

// Expires returns when the current keys are due for a refresh (zero before
// the first successful fetch, and for a static key set).
func (k *KeySet) Expires() time.Time {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.expires
}

// Key returns the key named kid: an *rsa.PublicKey, *ecdsa.PublicKey or
// ed25519.PublicKey. It fails with ErrUnknownKey when the set (after at
// most one rate-limited refetch) holds no such key, and with
// ErrKeysUnavailable when no keys could be had at all.
func (k *KeySet) Key(ctx context.Context, kid string) (crypto.PublicKey, error) {
	pk, err := k.key(ctx, kid)
	if err != nil {
		return nil, err
	}
	return pk.key, nil
}

// key is Key for the rules: the key with the algorithm its JWK names.
func (k *KeySet) key(ctx context.Context, kid string) (publicKey, error) {
	if k.static {
		return k.staticKey(kid)
	}
	k.mu.Lock()
	now := k.opts.Now()
	if k.keys == nil {
		// No keys yet: fetch (or join the fetch under way), unless a failed
		// attempt holds further attempts off.
		if k.inflight == nil && now.Before(k.retryAt) {
			retry := k.retryAt.Sub(now)
			k.mu.Unlock()
			return publicKey{}, keysUnavailable(retry)
		}
		under := k.inflight
		k.mu.Unlock()
		return k.keyAfterRefresh(ctx, under, kid)
	}
	if key, ok := k.keys[kid]; ok {
		// Stale keys are served at once while one refresh runs in the
		// background: a slow key endpoint must not hold requests up.
		due := !now.Before(k.expires) && k.inflight == nil && !k.background && !now.Before(k.retryAt)
		if due {
			k.background = true // one goroutine per refresh, not one per request
		}
		k.mu.Unlock()
		if due {
			go k.refreshInBackground(context.WithoutCancel(ctx))
		}
		return key, nil
	}
	// An unknown kid: one refetch at once (merged with a fetch under way),
	// then none for UnknownKeyRefetchInterval, nor after a failed attempt
	// until retryAt; meanwhile such tokens are refused without waiting.
	if !k.kidRefetch.IsZero() && now.Sub(k.kidRefetch) < UnknownKeyRefetchInterval || now.Before(k.retryAt) {
		k.mu.Unlock()
		return publicKey{}, ErrUnknownKey
	}
	k.kidRefetch = now
	under := k.inflight
	k.mu.Unlock()
	return k.keyAfterRefresh(ctx, under, kid)
}

// refreshInBackground refreshes stale keys; refresh logs its own failure.
func (k *KeySet) refreshInBackground(ctx context.Context) {
	_ = k.refresh(ctx)
	k.mu.Lock()
	k.background = false
	k.mu.Unlock()
}

// keyAfterRefresh waits for the fetch under, which was under way when the
// caller looked (a fetch that ends in between serves it all the same), or
// else fetches (merged with any fetch started since), then looks kid up.
func (k *KeySet) keyAfterRefresh(ctx context.Context, under *fetchCall, kid string) (publicKey, error) {
	var err error
	if under != nil {
		select {
		case <-under.done:
			err = under.err
		case <-ctx.Done():
			err = ctx.Err()
		}
	} else {
		err = k.refresh(ctx)
	}

	k.mu.Lock()
	defer k.mu.Unlock()
	if k.keys == nil {
		retry := k.retryAt.Sub(k.opts.Now())
		if err == nil || retry <= 0 {
			retry = FetchRetryInterval
		}
		return publicKey{}, keysUnavailable(retry)
	}
	if key, ok := k.keys[kid]; ok {
		return key, nil
	}
	return publicKey{}, ErrUnknownKey
}

func (k *KeySet) staticKey(kid string) (publicKey, error) {
	if len(k.keys) == 0 {
		return publicKey{}, keysUnavailable(FetchRetryInterval)
	}
	if key, ok := k.keys[kid]; ok {
		return key, nil
	}
	if key, ok := k.keys[""]; ok {
		return key, nil
	}
	return publicKey{}, ErrUnknownKey
}

// refresh runs one fetch, or waits for the one under way.
func (k *KeySet) refresh(ctx context.Context) error {
	k.mu.Lock()
	if c := k.inflight; c != nil {
		k.mu.Unlock()
		select {
		case <-c.done:
			return c.err
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	c := &fetchCall{done: make(chan struct{})}
	k.inflight = c
	k.mu.Unlock()

	// The fetch serves every waiter: one caller's cancellation must not end it.
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), k.opts.FetchTimeout)
	started := k.opts.Now()
	keys, lifetime, err := k.fetch(fctx)
	cancel()

	k.fetches.Add(1)
	k.metrics.record(ctx, err)
	k.mu.Lock()
	stale := k.keys != nil
	if err != nil {
		k.failures.Add(1)
		k.retryAt = k.opts.Now().Add(FetchRetryInterval)
	} else {
		k.keys = keys
		k.expires = started.Add(lifetime)
		k.retryAt = time.Time{}
	}
	c.err = err
	k.inflight = nil
	k.mu.Unlock()
	close(c.done)

	if err != nil {
		k.opts.Logger.LogAttrs(ctx, slog.LevelWarn, "authn: key set fetch failed",
			slog.String("key_set", k.opts.Name), slog.String("url", k.source()),
			slog.String("error", err.Error()), slog.Bool("serving_last_good_keys", stale))
	}
	return err
}

// source is where the key set comes from, for logs: its URL, or its
// issuer's discovery document, without user information or a query (which
// may hold a password or an API key).
func (k *KeySet) source() string {
	src := k.url
	if k.issuer != "" {
		src = discoveryURL(k.issuer)
	}
	u, err := url.Parse(src)
	if err != nil {
		return "(unparsable URL)"
	}
	u.User, u.RawQuery, u.Fragment = nil, "", ""
	return u.String()
}

// String names the key set and its source, and never its bearer token.
func (k *KeySet) String() string {
	if k.static {
		return "KeySet(static)"
	}
	return "KeySet(" + k.opts.Name + ", " + k.source() + ")"
}

// GoString implements fmt.GoStringer, as String.
func (k *KeySet) GoString() string { return k.String() }

// LogValue implements slog.LogValuer, as String.
func (k *KeySet) LogValue() slog.Value { return slog.StringValue(k.String()) }
