package push

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"
)

// checkSlots verifies the MemoryStore's slot table: both lists walk the
// same way forwards and backwards, every indexed slot is on the list its
// state names exactly once, and the free list holds the other slots.
func checkSlots(t *testing.T, s *MemoryStore) {
	t.Helper()
	seen := make(map[int32]string)
	walk := func(name string, l memList, done bool) {
		prev := none
		for i := l.head; i != none; i = s.entry(i).next {
			if _, dup := seen[i]; dup {
				t.Fatalf("slot %d reached twice (second time on %s)", i, name)
			}
			seen[i] = name
			e := *s.entry(i)
			if e.prev != prev {
				t.Fatalf("%s: slot %d has prev %d, want %d", name, i, e.prev, prev)
			}
			if e.done() != done {
				t.Fatalf("%s: slot %d has done = %v", name, i, e.done())
			}
			if got, ok := s.index.find(&e.key); !ok || got != i {
				t.Fatalf("%s: slot %d is not indexed under its key", name, i)
			}
			prev = i
		}
		if l.tail != prev {
			t.Fatalf("%s: tail is %d, want %d", name, l.tail, prev)
		}
	}
	walk("claims", s.claims, false)
	walk("done", s.done, true)
	if len(seen) != s.index.count {
		t.Fatalf("lists hold %d slots, index %d", len(seen), s.index.count)
	}
	checkIndex(t, s, seen)
	for i := s.free; i != none; i = s.entry(i).next {
		if _, dup := seen[i]; dup {
			t.Fatalf("free slot %d is also in use or free twice", i)
		}
		seen[i] = "free"
	}
	if len(seen) != int(s.slots) {
		t.Fatalf("%d slots accounted for, %d made", len(seen), s.slots)
	}
}

// TestMemoryStoreSlotsStayConsistent drives a small store through random
// claims, completions, releases, lapses and evictions and checks its slot
// table after every step, and that an ID answers as its last step implies.
func TestMemoryStoreSlotsStayConsistent(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	s := NewMemoryStore(16, time.Minute, clock.Now)
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(7, 11))
	for step := range 5000 {
		id := fmt.Sprint("m-", rng.IntN(40))
		switch op := rng.IntN(10); {
		case op < 4:
			res, err := s.Claim(ctx, id, time.Duration(1+rng.IntN(20))*time.Second)
			if err != nil && res != InProgress {
				t.Fatalf("step %d: Claim error %v with result %v", step, err, res)
			}
		case op < 7:
			if err := s.Done(ctx, id, time.Duration(rng.IntN(90))*time.Second); err != nil {
				t.Fatalf("step %d: Done: %v", step, err)
			}
			if got := claim(t, s, id, time.Second); got != AlreadyDone {
				t.Fatalf("step %d: Claim right after Done = %v, want AlreadyDone", step, got)
			}
		case op < 8:
			if err := s.Release(ctx, id); err != nil {
				t.Fatalf("step %d: Release: %v", step, err)
			}
		default:
			clock.Advance(time.Duration(rng.IntN(15)) * time.Second)
		}
		checkSlots(t, s)
		if s.Len() > 16 {
			t.Fatalf("step %d: Len %d over the bound 16", step, s.Len())
		}
	}
}
