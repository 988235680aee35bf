package authn

import (
	"crypto/sha256"
	"math"
	"sync"
	"time"
)

// tokenCache remembers verified tokens by their SHA-256, least recently
// used first out. It keeps the identity and the facts request-dependent
// rules need (whether azp is listed), never a decision, so that rules such
// as the cookie CSRF check still run on every hit. Expiry is re-checked on
// every hit.
//
// It is built for the garbage collector: the index maps a hash to a slot
// number (a map without pointers, which the collector does not scan), the
// entries live in one slice linked by slot numbers, and an entry holds
// three pointers at most (see identity). A full cache of 10,000 distinct
// tokens is 10,000 small buffers, not 10,000 maps of claims.
type tokenCache struct {
	mu         sync.Mutex
	max        int
	index      map[[sha256.Size]byte]int32
	entries    []cachedToken
	head, tail int32 // most and least recently used; noSlot when empty
	free       int32 // first unused slot, linked by next; noSlot when none
}

const noSlot = -1

type cachedToken struct {
	key         [sha256.Size]byte
	id          identity
	partyListed bool
	// deadline is exp + skew: not valid after this.
	deadlineSec  int64
	deadlineNsec int32
	prev, next   int32
}

func newTokenCache(max int) *tokenCache {
	max = min(max, math.MaxInt32) // slots are int32
	n := min(max, 1024)
	return &tokenCache{
		max:     max,
		index:   make(map[[sha256.Size]byte]int32, n),
		entries: make([]cachedToken, 0, n),
		head:    noSlot, tail: noSlot, free: noSlot,
	}
}

// get returns the principal of the entry for key if it is still valid at now.
func (c *tokenCache) get(key *[sha256.Size]byte, now time.Time) (p Principal, partyListed, ok bool) {
	c.mu.Lock()
	i, found := c.index[*key]
	if !found {
		c.mu.Unlock()
		return Principal{}, false, false
	}
	e := &c.entries[i]
	if now.After(time.Unix(e.deadlineSec, int64(e.deadlineNsec))) {
		c.remove(i)
		c.mu.Unlock()
		return Principal{}, false, false
	}
	c.moveToFront(i)
	p, partyListed = e.id.principal(), e.partyListed
	c.mu.Unlock()
	return p, partyListed, true
}

// put stores a verified token, evicting the least recently used entry when full.
func (c *tokenCache) put(key *[sha256.Size]byte, id identity, partyListed bool, deadline time.Time) {
	sec, nsec := deadline.Unix(), int32(deadline.Nanosecond())
	c.mu.Lock()
	defer c.mu.Unlock()
	if i, found := c.index[*key]; found {
		e := &c.entries[i]
		e.id, e.partyListed, e.deadlineSec, e.deadlineNsec = id, partyListed, sec, nsec
		c.moveToFront(i)
		return
	}
	for len(c.index) >= c.max && c.tail != noSlot {
		c.remove(c.tail)
	}
	var i int32
	if c.free != noSlot {
		i = c.free
		c.free = c.entries[i].next
	} else {
		i = int32(len(c.entries))
		c.entries = append(c.entries, cachedToken{})
	}
	c.entries[i] = cachedToken{key: *key, id: id, partyListed: partyListed, deadlineSec: sec, deadlineNsec: nsec}
	c.index[*key] = i
	c.pushFront(i)
}

func (c *tokenCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.index)
}

// remove unlinks slot i, drops what it references and frees it.
func (c *tokenCache) remove(i int32) {
	c.unlink(i)
	delete(c.index, c.entries[i].key)
	c.entries[i] = cachedToken{next: c.free}
	c.free = i
}

func (c *tokenCache) moveToFront(i int32) {
	if c.head == i {
		return
	}
	c.unlink(i)
	c.pushFront(i)
}

func (c *tokenCache) pushFront(i int32) {
	e := &c.entries[i]
	e.prev, e.next = noSlot, c.head
	if c.head != noSlot {
		c.entries[c.head].prev = i
	}
	c.head = i
	if c.tail == noSlot {
		c.tail = i
	}
}

func (c *tokenCache) unlink(i int32) {
	e := &c.entries[i]
	if e.prev != noSlot {
		c.entries[e.prev].next = e.next
	} else {
		c.head = e.next
	}
	if e.next != noSlot {
		c.entries[e.next].prev = e.prev
	} else {
		c.tail = e.prev
	}
	e.prev, e.next = noSlot, noSlot
}
