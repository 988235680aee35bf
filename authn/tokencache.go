package authn

import (
	"crypto/sha256"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
)

// tokenCache remembers verified tokens by their SHA-256, least recently
// used first out, until they expire: Pub/Sub sends one token per
// subscription for an hour, and a Clerk session token is refreshed every
// 50 s, so most requests cost a hash and a lookup instead of a
// verification. It keeps the principal's context entry and the facts the
// request-dependent rules need (whether azp is listed), never a decision,
// so that the cookie rule still runs on every hit. It is safe for
// concurrent use.
type tokenCache struct {
	lru *lru.Cache[[sha256.Size]byte, *principalEntry]
}

func newTokenCache(size int) *tokenCache {
	c, err := lru.New[[sha256.Size]byte, *principalEntry](size)
	if err != nil {
		panic("authn: token cache: " + err.Error()) // size > 0, checked by New
	}
	return &tokenCache{lru: c}
}

// get returns the entry for key if it is still valid at now.
func (c *tokenCache) get(key [sha256.Size]byte, now time.Time) (*principalEntry, bool) {
	e, ok := c.lru.Get(key)
	if !ok {
		return nil, false
	}
	if now.After(e.deadline) {
		c.lru.Remove(key)
		return nil, false
	}
	return e, true
}

// put stores a verified token's entry, evicting the least recently used
// one when full.
func (c *tokenCache) put(key [sha256.Size]byte, e *principalEntry) { c.lru.Add(key, e) }

func (c *tokenCache) len() int { return c.lru.Len() }
