package authn

import (
	"hash/maphash"
	"sync/atomic"
	"time"
)

// recentToken is the token most recently seen a second time, kept whole
// so that its next use is recognised by comparison instead of by its
// SHA-256: Pub/Sub sends each subscription's requests with one token for an
// hour, and hashing it is most of what a token cache hit costs.
//
// The comparison runs only once a keyed hash of the presented token
// (hash/maphash, with a seed made per Authenticator) matches the kept
// one's, so how long it takes tells a caller guessing at the kept token
// nothing. Like the cache, it holds a token only while it is valid, and
// the request-dependent rules (the cookie check) still run on every use.
type recentToken struct {
	hash     uint64
	token    string
	entry    principalEntry // what Middleware puts in the context, shared
	listed   bool           // azp is an authorized party
	deadline time.Time      // exp + skew
}

// recentTokens holds the one recentToken.
type recentTokens struct {
	seed maphash.Seed
	last atomic.Pointer[recentToken]
}

func newRecentTokens() *recentTokens { return &recentTokens{seed: maphash.MakeSeed()} }

// hash is the keyed hash get and keep take.
func (r *recentTokens) hash(token string) uint64 { return maphash.String(r.seed, token) }

// get returns the principal's entry if token, of hash h, is the kept one
// and still valid at now. The entry is shared: it must not be changed.
func (r *recentTokens) get(h uint64, token string, now time.Time) (e *principalEntry, listed, ok bool) {
	t := r.last.Load()
	if t == nil || t.hash != h || t.token != token || now.After(t.deadline) {
		return nil, false, false
	}
	return &t.entry, t.listed, true
}

// keep makes token, of hash h and admitted by a as p, the kept one, and
// returns its entry (shared, like get's), so that the request that kept it
// needs no entry of its own.
func (r *recentTokens) keep(h uint64, token string, p Principal, a *Authenticator, listed bool, deadline time.Time) *principalEntry {
	t := &recentToken{hash: h, token: token, entry: principalEntry{p: p, a: a}, listed: listed, deadline: deadline}
	r.last.Store(t)
	return &t.entry
}
