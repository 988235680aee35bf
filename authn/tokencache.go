package authn

import (
	"crypto/sha256"
	"sync"
	"time"
)

// tokenCache remembers verified tokens by their SHA-256, least recently
// used first out. It keeps the principal and the facts request-dependent
// rules need (whether azp is listed), never a decision, so that rules such
// as the cookie CSRF check still run on every hit. Expiry is re-checked on
// every hit.
type tokenCache struct {
	mu         sync.Mutex
	max        int
	entries    map[[sha256.Size]byte]*cachedToken
	head, tail *cachedToken // head: most recently used
}

type cachedToken struct {
	key         [sha256.Size]byte
	principal   Principal
	partyListed bool
	deadline    time.Time // exp + skew: not valid after this
	prev, next  *cachedToken
}

func newTokenCache(max int) *tokenCache {
	return &tokenCache{max: max, entries: make(map[[sha256.Size]byte]*cachedToken, min(max, 1024))}
}

// get returns the entry for key if it is still valid at now.
func (c *tokenCache) get(key *[sha256.Size]byte, now time.Time) (p Principal, partyListed, ok bool) {
	c.mu.Lock()
	e := c.entries[*key]
	if e == nil {
		c.mu.Unlock()
		return Principal{}, false, false
	}
	if now.After(e.deadline) {
		c.remove(e)
		c.mu.Unlock()
		return Principal{}, false, false
	}
	c.moveToFront(e)
	p, partyListed = e.principal, e.partyListed
	c.mu.Unlock()
	return p, partyListed, true
}

// put stores a verified token, evicting the least recently used entry when full.
func (c *tokenCache) put(key *[sha256.Size]byte, p Principal, partyListed bool, deadline time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e := c.entries[*key]; e != nil {
		e.principal, e.partyListed, e.deadline = p, partyListed, deadline
		c.moveToFront(e)
		return
	}
	for len(c.entries) >= c.max && c.tail != nil {
		c.remove(c.tail)
	}
	e := &cachedToken{key: *key, principal: p, partyListed: partyListed, deadline: deadline}
	c.entries[e.key] = e
	c.pushFront(e)
}

func (c *tokenCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.entries)
}

func (c *tokenCache) remove(e *cachedToken) {
	c.unlink(e)
	delete(c.entries, e.key)
}

func (c *tokenCache) moveToFront(e *cachedToken) {
	if c.head == e {
		return
	}
	c.unlink(e)
	c.pushFront(e)
}

func (c *tokenCache) pushFront(e *cachedToken) {
	e.prev, e.next = nil, c.head
	if c.head != nil {
		c.head.prev = e
	}
	c.head = e
	if c.tail == nil {
		c.tail = e
	}
}

func (c *tokenCache) unlink(e *cachedToken) {
	if e.prev != nil {
		e.prev.next = e.next
	} else {
		c.head = e.next
	}
	if e.next != nil {
		e.next.prev = e.prev
	} else {
		c.tail = e.prev
	}
	e.prev, e.next = nil, nil
}
