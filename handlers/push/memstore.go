package push

import (
	"context"
	"crypto/sha256"
	"fmt"
	"sync"
	"time"
)

const (
	// DefaultMemoryStoreSize is how many IDs a MemoryStore made with
	// maxEntries <= 0 remembers.
	DefaultMemoryStoreSize = 100_000
	// DefaultRetention is how long a MemoryStore made with retention <= 0
	// remembers a done ID.
	DefaultRetention = 24 * time.Hour
)

// sweepBatch bounds how many stale entries one call sweeps, so that no call
// pays for a long backlog at once.
const sweepBatch = 8

// MemoryStore is a Store in the process's memory: it de-duplicates the
// deliveries that reach one instance. It holds at most maxEntries IDs; when
// full it forgets the oldest done IDs first (first in, first out), then
// lapsed claims, and fails a new ID with ErrStoreUnavailable only when it
// is full of live claims. Done IDs are forgotten after their retention,
// claims after their lease: each call sweeps a few stale entries, so that
// memory follows the retention, not just the bound. It is safe for
// concurrent use; its methods never block on anything but its own lock.
//
// The entries live in a slice, each linked by index into one of two lists
// in the order the entries came in, of claims and of done IDs, and a map
// finds an entry by its ID. An ID is remembered by the first 128 bits of
// its SHA-256, so that every entry takes the same memory whatever the ID's
// length. Neither the map nor the slice holds a pointer, so the garbage
// collector has nothing in them to scan: a full store of 100,000 IDs holds
// about 7 MiB of heap, 74 bytes an ID (BenchmarkMemoryStoreFull). Two IDs
// are taken for one only if their hashes collide: for a full store, a
// chance below 10⁻²⁸.
type MemoryStore struct {
	max       int
	retention time.Duration
	now       func() time.Time
	base      time.Time // expiries are held as nanoseconds since base

	mu      sync.Mutex
	index   map[memKey]int32 // ID → its entry in entries
	entries []memEntry       // in use, on claims or done, or free
	free    int32            // first free entry, linked by next; or none
	claims  memList          // claims, live or lapsed, oldest first
	done    memList          // done IDs, oldest first
}

// memKey is the first 128 bits of an ID's SHA-256.
type memKey [16]byte

func keyOf(id string) memKey {
	sum := sha256.Sum256([]byte(id))
	return memKey(sum[:16])
}

// none is the index of no entry.
const none int32 = -1

// memEntry is one ID: claimed until its lease ends at expires, or done and
// remembered until expires (nanoseconds since MemoryStore.base; this keeps
// the monotonic clock reading when the clock gives one). prev and next link
// it into its list.
type memEntry struct {
	key        memKey
	expires    int64
	done       bool
	prev, next int32
}

// memList is a doubly linked list of entries, by index.
type memList struct{ head, tail int32 }

// NewMemoryStore returns an empty MemoryStore that holds at most maxEntries
// IDs (<= 0 → DefaultMemoryStoreSize) and remembers a done ID for retention
// unless Done says otherwise (<= 0 → DefaultRetention). now is its clock
// (nil → time.Now).
func NewMemoryStore(maxEntries int, retention time.Duration, now func() time.Time) *MemoryStore {
	if maxEntries <= 0 {
		maxEntries = DefaultMemoryStoreSize
	}
	if retention <= 0 {
		retention = DefaultRetention
	}
	if now == nil {
		now = time.Now
	}
	return &MemoryStore{
		max:       min(maxEntries, 1<<31-1), // entries are indexed by int32
		retention: retention,
		now:       now,
		base:      now(),
		index:     make(map[memKey]int32),
		free:      none,
		claims:    memList{none, none},
		done:      memList{none, none},
	}
}

// Claim implements Store. A lapsed lease or an expired done ID is claimed
// anew. It fails, wrapping ErrStoreUnavailable, only when the store is full
// of live claims.
func (s *MemoryStore) Claim(_ context.Context, id string, lease time.Duration) (ClaimResult, error) {
	key := keyOf(id)
	now := s.now()
	t := s.at(now)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sweep(t)
	if i, ok := s.index[key]; ok {
		e := &s.entries[i]
		switch {
		case t < e.expires && e.done:
			return AlreadyDone, nil
		case t < e.expires:
			return InProgress, nil
		}
		s.remove(i)
	} else if err := s.makeRoom(t); err != nil {
		return InProgress, err
	}
	s.add(key, false, s.at(now.Add(lease)))
	return Claimed, nil
}

// Done implements Store; retain <= 0 means the store's retention. An ID the
// store does not hold (never claimed, evicted or expired) is marked done
// too.
func (s *MemoryStore) Done(_ context.Context, id string, retain time.Duration) error {
	if retain <= 0 {
		retain = s.retention
	}
	key := keyOf(id)
	now := s.now()
	t := s.at(now)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sweep(t)
	if i, ok := s.index[key]; ok {
		s.remove(i)
	} else if err := s.makeRoom(t); err != nil {
		return err
	}
	s.add(key, true, s.at(now.Add(retain)))
	return nil
}

// Release implements Store: it forgets a claimed ID and leaves a done one.
// An ID the store does not hold is left as it is.
func (s *MemoryStore) Release(_ context.Context, id string) error {
	key := keyOf(id)
	t := s.at(s.now())
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sweep(t)
	if i, ok := s.index[key]; ok && !s.entries[i].done {
		s.remove(i)
	}
	return nil
}

// Len returns how many IDs the store holds, done or claimed.
func (s *MemoryStore) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.index)
}

// at is t as the store holds times: nanoseconds since s.base.
func (s *MemoryStore) at(t time.Time) int64 { return int64(t.Sub(s.base)) }

// listOf is the list of the entries in the state done.
func (s *MemoryStore) listOf(done bool) *memList {
	if done {
		return &s.done
	}
	return &s.claims
}

// add puts a new entry for key, which the store does not hold, in a free
// place (or a new one) and at the back of its list.
func (s *MemoryStore) add(key memKey, done bool, expires int64) {
	i := s.free
	if i != none {
		s.free = s.entries[i].next
	} else {
		i = int32(len(s.entries))
		s.entries = append(s.entries, memEntry{})
	}
	l := s.listOf(done)
	s.entries[i] = memEntry{key: key, expires: expires, done: done, prev: l.tail, next: none}
	if l.tail != none {
		s.entries[l.tail].next = i
	} else {
		l.head = i
	}
	l.tail = i
	s.index[key] = i
}

// remove forgets entry i, which is in use, and puts it on the free list.
func (s *MemoryStore) remove(i int32) {
	e := &s.entries[i]
	l := s.listOf(e.done)
	if e.prev != none {
		s.entries[e.prev].next = e.next
	} else {
		l.head = e.next
	}
	if e.next != none {
		s.entries[e.next].prev = e.prev
	} else {
		l.tail = e.prev
	}
	delete(s.index, e.key)
	*e = memEntry{prev: none, next: s.free}
	s.free = i
}

// sweep forgets a few expired done IDs and lapsed claims from the old ends
// of the lists.
func (s *MemoryStore) sweep(t int64) {
	for _, l := range [...]*memList{&s.done, &s.claims} {
		for range sweepBatch {
			i := l.head
			if i == none || t < s.entries[i].expires {
				break
			}
			s.remove(i)
		}
	}
}

// makeRoom evicts entries until one more fits: the oldest done ID first,
// else the oldest claim if its lease has lapsed.
func (s *MemoryStore) makeRoom(t int64) error {
	for len(s.index) >= s.max {
		if i := s.done.head; i != none {
			s.remove(i)
			continue
		}
		if i := s.claims.head; i != none && t >= s.entries[i].expires {
			s.remove(i)
			continue
		}
		return fmt.Errorf("%w: memory store is full of %d live claims", ErrStoreUnavailable, len(s.index))
	}
	return nil
}
