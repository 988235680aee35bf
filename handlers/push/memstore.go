package push

import (
	"context"
	"crypto/sha256"
	"fmt"
	"math"
	"runtime"
	"sync"
	"time"
)

const (
	// DefaultMemoryStoreSize is how many IDs a MemoryStore made with
	// maxEntries <= 0 remembers (about 42 bytes each, off the heap).
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
//
// An ID is remembered by the first 128 bits of its SHA-256, in slots and
// an index (slotIndex) that hold no pointers and live outside the
// garbage-collected heap where the platform allows (noScanMem): a full
// store of 100,000 IDs takes about 4 MiB of resident memory, which the
// collector neither scans nor doubles with its headroom. Two IDs are taken
// for one only if their hashes collide: for a full store, a chance below
// 10⁻²⁸. The memory goes back when the store is garbage.
type MemoryStore struct {
	max       int
	retention time.Duration
	now       func() time.Time
	base      time.Time // expiries are held as nanoseconds since base

	mu     sync.Mutex
	index  slotIndex   // key → slot
	chunks []*memChunk // the slots, in use or on the free list; in mem
	mem    *noScanMem
	slots  int32   // slots made so far
	free   int32   // first free slot, or none
	claims memList // live or lapsed claims, oldest first
	done   memList // done IDs, oldest first
}

// memKey is the first 128 bits of an ID's SHA-256.
type memKey [16]byte

func keyOf(id string) memKey {
	sum := sha256.Sum256([]byte(id))
	return memKey(sum[:16])
}

// none is the null slot index.
const none int32 = -1

// memEntry is one ID, linked into either MemoryStore.claims or .done by
// slot index (the free list reuses next). 32 bytes.
type memEntry struct {
	key memKey
	// state is expires<<1 | done: expires is the lease's end, or the
	// retention's (nanoseconds since MemoryStore.base), done whether the
	// ID is done (else claimed).
	state      int64
	prev, next int32
}

func (e *memEntry) expires() int64 { return e.state >> 1 }
func (e *memEntry) done() bool     { return e.state&1 == 1 }

func (e *memEntry) set(done bool, expires int64) {
	e.state = expires << 1
	if done {
		e.state |= 1
	}
}

// memChunk holds slots. The table grows a chunk at a time, so growing it
// never copies entries or leaves a large old array to the collector.
type memChunk [memChunkSize]memEntry

const memChunkSize = 2048 // 64 KiB

// memList is a doubly linked list of slots.
type memList struct{ head, tail int32 }

// NewMemoryStore returns an empty MemoryStore that holds at most maxEntries
// IDs (<= 0 → DefaultMemoryStoreSize) and remembers a done ID for retention
// unless Done says otherwise (<= 0 → DefaultRetention). now is its clock
// (nil → time.Now).
func NewMemoryStore(maxEntries int, retention time.Duration, now func() time.Time) *MemoryStore {
	if maxEntries <= 0 {
		maxEntries = DefaultMemoryStoreSize
	}
	maxEntries = min(maxEntries, math.MaxInt32) // slots are int32
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
		base:      now(),
		mem:       newNoScanMem(),
		free:      none,
		claims:    memList{none, none},
		done:      memList{none, none},
	}
	s.index = newSlotIndex(s.mem, func(i int32) *memKey { return &s.entry(i).key })
	runtime.AddCleanup(s, (*noScanMem).freeAll, s.mem)
	return s
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
	if i, ok := s.index.find(&key); ok {
		e := s.entry(i)
		if t < e.expires() {
			if e.done() {
				return AlreadyDone, nil
			}
			return InProgress, nil
		}
		s.unlink(i)
		e.set(false, s.at(now.Add(lease)))
		s.pushBack(i)
		return Claimed, nil
	}
	if err := s.makeRoom(t); err != nil {
		return InProgress, err
	}
	s.insert(key, false, s.at(now.Add(lease)))
	return Claimed, nil
}

// Done implements Store; retain <= 0 means the store's retention.
func (s *MemoryStore) Done(_ context.Context, id string, retain time.Duration) error {
	if retain <= 0 {
		retain = s.retention
	}
	key := keyOf(id)
	now := s.now()
	expires := s.at(now.Add(retain))
	s.mu.Lock()
	defer s.mu.Unlock()
	if i, ok := s.index.find(&key); ok {
		s.unlink(i)
		e := s.entry(i)
		e.set(true, expires)
		s.pushBack(i)
		return nil
	}
	if err := s.makeRoom(s.at(now)); err != nil {
		return err
	}
	s.insert(key, true, expires)
	return nil
}

// Release implements Store: it forgets a claimed ID and leaves a done one.
func (s *MemoryStore) Release(_ context.Context, id string) error {
	key := keyOf(id)
	s.mu.Lock()
	defer s.mu.Unlock()
	if i, ok := s.index.find(&key); ok && !s.entry(i).done() {
		s.remove(i)
	}
	return nil
}

// Len returns how many IDs the store holds, done or claimed.
func (s *MemoryStore) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.index.count
}

// entry is slot i.
func (s *MemoryStore) entry(i int32) *memEntry { return &s.chunks[i/memChunkSize][i%memChunkSize] }

// at is t as the store holds times: nanoseconds since s.base (which keeps
// the monotonic clock reading when the clock gives one).
func (s *MemoryStore) at(t time.Time) int64 { return int64(t.Sub(s.base)) }

// sweep forgets a few expired done IDs and lapsed claims from the old ends
// of the lists, so that memory follows the retention, not just the bound.
func (s *MemoryStore) sweep(t int64) {
	for _, l := range []*memList{&s.done, &s.claims} {
		for range sweepBatch {
			i := l.head
			if i == none || t < s.entry(i).expires() {
				break
			}
			s.remove(i)
		}
	}
}

// makeRoom evicts entries until one more fits: the oldest done ID first,
// else the oldest claim if its lease has lapsed.
func (s *MemoryStore) makeRoom(t int64) error {
	for s.index.count >= s.max {
		if i := s.done.head; i != none {
			s.remove(i)
			continue
		}
		if i := s.claims.head; i != none && t >= s.entry(i).expires() {
			s.remove(i)
			continue
		}
		return fmt.Errorf("%w: memory store is full of %d live claims", ErrStoreUnavailable, s.index.count)
	}
	return nil
}

// insert puts a new entry in a free slot (or a new one) at the back of
// its list.
func (s *MemoryStore) insert(key memKey, done bool, expires int64) {
	i := s.free
	if i != none {
		s.free = s.entry(i).next
	} else {
		if s.slots%memChunkSize == 0 {
			s.chunks = append(s.chunks, s.mem.chunk())
		}
		i = s.slots
		s.slots++
	}
	e := s.entry(i)
	*e = memEntry{key: key, prev: none, next: none}
	e.set(done, expires)
	s.index.insert(i)
	s.pushBack(i)
}

// remove forgets slot i and puts it on the free list.
func (s *MemoryStore) remove(i int32) {
	s.unlink(i)
	e := s.entry(i)
	s.index.remove(&e.key)
	*e = memEntry{next: s.free}
	s.free = i
}

// list is the list slot i belongs on.
func (s *MemoryStore) list(i int32) *memList {
	if s.entry(i).done() {
		return &s.done
	}
	return &s.claims
}

func (s *MemoryStore) pushBack(i int32) {
	l := s.list(i)
	e := s.entry(i)
	e.prev, e.next = l.tail, none
	if l.tail != none {
		s.entry(l.tail).next = i
	} else {
		l.head = i
	}
	l.tail = i
}

func (s *MemoryStore) unlink(i int32) {
	l := s.list(i)
	e := s.entry(i)
	if e.prev != none {
		s.entry(e.prev).next = e.next
	} else {
		l.head = e.next
	}
	if e.next != none {
		s.entry(e.next).prev = e.prev
	} else {
		l.tail = e.prev
	}
	e.prev, e.next = none, none
}
