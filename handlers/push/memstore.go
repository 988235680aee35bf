package push

import (
	"context"
	"fmt"
	"sync"
	"time"
)

const (
	// DefaultMemoryStoreSize is how many IDs a MemoryStore made with
	// maxEntries <= 0 remembers (roughly 100 bytes each).
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
// lapsed claims. Done IDs are forgotten after their retention, claims after
// their lease. It is safe for concurrent use; its methods never block on
// anything but its own lock.
type MemoryStore struct {
	max       int
	retention time.Duration
	now       func() time.Time

	mu      sync.Mutex
	entries map[string]*memEntry
	claims  memList // live or lapsed claims, oldest first
	done    memList // done IDs, oldest first
}

// memEntry is one ID, linked into either MemoryStore.claims or .done.
type memEntry struct {
	id         string
	done       bool
	expires    time.Time // the lease's end, or the retention's
	prev, next *memEntry
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
	s := &MemoryStore{
		max:       maxEntries,
		retention: retention,
		now:       now,
		entries:   make(map[string]*memEntry),
	}
	s.claims.init()
	s.done.init()
	return s
}

// Claim implements Store. A lapsed lease or an expired done ID is claimed
// anew. It fails, wrapping ErrStoreUnavailable, only when the store is full
// of live claims.
func (s *MemoryStore) Claim(_ context.Context, id string, lease time.Duration) (ClaimResult, error) {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sweep(now)
	if e, ok := s.entries[id]; ok {
		if now.Before(e.expires) {
			if e.done {
				return AlreadyDone, nil
			}
			return InProgress, nil
		}
		e.unlink()
		e.done = false
		e.expires = now.Add(lease)
		s.claims.pushBack(e)
		return Claimed, nil
	}
	if err := s.makeRoom(now); err != nil {
		return InProgress, err
	}
	e := &memEntry{id: id, expires: now.Add(lease)}
	s.entries[id] = e
	s.claims.pushBack(e)
	return Claimed, nil
}

// Done implements Store; retain <= 0 means the store's retention.
func (s *MemoryStore) Done(_ context.Context, id string, retain time.Duration) error {
	if retain <= 0 {
		retain = s.retention
	}
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.entries[id]
	if ok {
		e.unlink()
	} else {
		if err := s.makeRoom(now); err != nil {
			return err
		}
		e = &memEntry{id: id}
		s.entries[id] = e
	}
	e.done = true
	e.expires = now.Add(retain)
	s.done.pushBack(e)
	return nil
}

// Release implements Store: it forgets a claimed ID and leaves a done one.
func (s *MemoryStore) Release(_ context.Context, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if e, ok := s.entries[id]; ok && !e.done {
		s.remove(e)
	}
	return nil
}

// Len returns how many IDs the store holds, done or claimed.
func (s *MemoryStore) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.entries)
}

// sweep forgets a few expired done IDs and lapsed claims from the old ends
// of the lists, so that memory follows the retention, not just the bound.
func (s *MemoryStore) sweep(now time.Time) {
	for range sweepBatch {
		e := s.done.front()
		if e == nil || now.Before(e.expires) {
			break
		}
		s.remove(e)
	}
	for range sweepBatch {
		e := s.claims.front()
		if e == nil || now.Before(e.expires) {
			break
		}
		s.remove(e)
	}
}

// makeRoom evicts entries until one more fits: the oldest done ID first,
// else the oldest claim if its lease has lapsed.
func (s *MemoryStore) makeRoom(now time.Time) error {
	for len(s.entries) >= s.max {
		if e := s.done.front(); e != nil {
			s.remove(e)
			continue
		}
		if e := s.claims.front(); e != nil && !now.Before(e.expires) {
			s.remove(e)
			continue
		}
		return fmt.Errorf("%w: memory store is full of %d live claims", ErrStoreUnavailable, len(s.entries))
	}
	return nil
}

func (s *MemoryStore) remove(e *memEntry) {
	e.unlink()
	delete(s.entries, e.id)
}

// memList is an intrusive doubly linked list with a sentinel, so moving an
// entry between lists allocates nothing.
type memList struct{ root memEntry }

func (l *memList) init() { l.root.prev, l.root.next = &l.root, &l.root }

func (l *memList) front() *memEntry {
	if l.root.next == &l.root {
		return nil
	}
	return l.root.next
}

func (l *memList) pushBack(e *memEntry) {
	last := l.root.prev
	e.prev, e.next = last, &l.root
	last.next = e
	l.root.prev = e
}

func (e *memEntry) unlink() {
	if e.prev == nil {
		return
	}
	e.prev.next = e.next
	e.next.prev = e.prev
	e.prev, e.next = nil, nil
}
