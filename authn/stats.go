package authn

// Stats is a snapshot of an Authenticator's counters, for the service to
// expose. Counters only grow.
type Stats struct {
	// Allowed counts requests that yielded a principal.
	Allowed uint64
	// Denied counts refusals by reason (the client-visible reason string),
	// including policy refusals (403) of requests admitted by Middleware.
	// Reasons never seen are absent.
	Denied map[string]uint64
	// KeyFetches and KeyFetchFailures sum the key sets' fetch attempts and
	// failed attempts.
	KeyFetches       uint64
	KeyFetchFailures uint64
	// TokenCacheHits and TokenCacheMisses count verified-token cache lookups;
	// TokenCacheEntries is its current size.
	TokenCacheHits    uint64
	TokenCacheMisses  uint64
	TokenCacheEntries int
}

// Stats returns a snapshot of the counters.
func (a *Authenticator) Stats() Stats {
	s := Stats{
		Allowed:          a.allowed.Load(),
		Denied:           map[string]uint64{},
		TokenCacheHits:   a.hits.Load(),
		TokenCacheMisses: a.misses.Load(),
	}
	for code := range a.denied {
		if n := a.denied[code].Load(); n > 0 {
			s.Denied[sentinels[code].Reason] += n
		}
	}
	for _, ks := range a.keys {
		ks := ks.Stats()
		s.KeyFetches += ks.Fetches
		s.KeyFetchFailures += ks.Failures
	}
	if a.cache != nil {
		s.TokenCacheEntries = a.cache.len()
	}
	return s
}
