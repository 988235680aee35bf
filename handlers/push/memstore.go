package push

import (
	"container/list"
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
// It is a map from ID to entry plus two lists in the order the entries came
// in, one of claims and one of done IDs. An ID is remembered by the first
// 128 bits of its SHA-256, so that every entry takes the same memory
// whatever the ID's length: a full store of 100,000 IDs holds about
// 12.5 MiB of heap, 131 bytes an ID (BenchmarkMemoryStoreFull). Two IDs are taken for one only if
// their hashes collide: for a full store, a chance below 10⁻²⁸.
type MemoryStore struct {
	max       int
	retention time.Duration
	now       func() time.Time

	mu      sync.Mutex
	entries map[memKey]*list.Element // each on claims or done, by its memEntry's state
	claims  list.List                // of memEntry: claims, live or lapsed, oldest first
	done    list.List                // of memEntry: done IDs, oldest first
}

// memKey is the first 128 bits of an ID's SHA-256.
type memKey [16]byte

func keyOf(id string) memKey {
	sum := sha256.Sum256([]byte(id))
	return memKey(sum[:16])
}

// memEntry is one ID: claimed until its lease ends at expires, or done and
// remembered until expires. An entry never changes: a new state is a new
// entry at the back of its list.
type memEntry struct {
	key     memKey
	done    bool
	expires time.Time
}

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
		max:       maxEntries,
		retention: retention,
		now:       now,
		entries:   make(map[memKey]*list.Element),
	}
}

// Claim implements Store. A lapsed lease or an expired done ID is claimed
// anew. It fails, wrapping ErrStoreUnavailable, only when the store is full
// of live claims.
func (s *MemoryStore) Claim(_ context.Context, id string, lease time.Duration) (ClaimResult, error) {
	key := keyOf(id)
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sweep(now)
	if el, ok := s.entries[key]; ok {
		e := el.Value.(memEntry)
		switch {
		case now.Before(e.expires) && e.done:
			return AlreadyDone, nil
		case now.Before(e.expires):
			return InProgress, nil
		}
		s.remove(el)
	} else if err := s.makeRoom(now); err != nil {
		return InProgress, err
	}
	s.add(memEntry{key: key, expires: now.Add(lease)})
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
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sweep(now)
	if el, ok := s.entries[key]; ok {
		s.remove(el)
	} else if err := s.makeRoom(now); err != nil {
		return err
	}
	s.add(memEntry{key: key, done: true, expires: now.Add(retain)})
	return nil
}

// Release implements Store: it forgets a claimed ID and leaves a done one.
// An ID the store does not hold is left as it is.
func (s *MemoryStore) Release(_ context.Context, id string) error {
	key := keyOf(id)
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sweep(now)
	if el, ok := s.entries[key]; ok && !el.Value.(memEntry).done {
		s.remove(el)
	}
	return nil
}

// Len returns how many IDs the store holds, done or claimed.
func (s *MemoryStore) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.entries)
}

// listOf is the list an entry belongs on.
func (s *MemoryStore) listOf(e memEntry) *list.List {
	if e.done {
		return &s.done
	}
	return &s.claims
}

// add puts e, whose key the store does not hold, at the back of its list.
func (s *MemoryStore) add(e memEntry) {
	s.entries[e.key] = s.listOf(e).PushBack(e)
}

// remove forgets the entry of el.
func (s *MemoryStore) remove(el *list.Element) {
	e := el.Value.(memEntry)
	s.listOf(e).Remove(el)
	delete(s.entries, e.key)
}

// sweep forgets a few expired done IDs and lapsed claims from the old ends
// of the lists.
func (s *MemoryStore) sweep(now time.Time) {
	for _, l := range [...]*list.List{&s.done, &s.claims} {
		for range sweepBatch {
			el := l.Front()
			if el == nil || now.Before(el.Value.(memEntry).expires) {
				break
			}
			s.remove(el)
		}
	}
}

// makeRoom evicts entries until one more fits: the oldest done ID first,
// else the oldest claim if its lease has lapsed.
func (s *MemoryStore) makeRoom(now time.Time) error {
	for len(s.entries) >= s.max {
		if el := s.done.Front(); el != nil {
			s.remove(el)
			continue
		}
		if el := s.claims.Front(); el != nil && !now.Before(el.Value.(memEntry).expires) {
			s.remove(el)
			continue
		}
		return fmt.Errorf("%w: memory store is full of %d live claims", ErrStoreUnavailable, len(s.entries))
	}
	return nil
}
