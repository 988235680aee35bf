package push

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime"
	"strconv"
	"sync"
	"testing"
	"time"
)

// claim calls s.Claim and fails the test on an error.
func claim(t *testing.T, s *MemoryStore, id string, lease time.Duration) ClaimResult {
	t.Helper()
	got, err := s.Claim(context.Background(), id, lease)
	if err != nil {
		t.Fatalf("Claim(%q) error = %v", id, err)
	}
	return got
}

func done(t *testing.T, s *MemoryStore, id string, retain time.Duration) {
	t.Helper()
	if err := s.Done(context.Background(), id, retain); err != nil {
		t.Fatalf("Done(%q) error = %v", id, err)
	}
}

func TestMemoryStoreLifecycle(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	s := NewMemoryStore(10, time.Hour, clock.Now)
	ctx := context.Background()

	steps := []struct {
		name string
		do   func() ClaimResult
		want ClaimResult
	}{
		{"first claim", func() ClaimResult { return claim(t, s, "a", 10*time.Second) }, Claimed},
		{"second claim while leased", func() ClaimResult { return claim(t, s, "a", 10*time.Second) }, InProgress},
		{"claim after release", func() ClaimResult {
			if err := s.Release(ctx, "a"); err != nil {
				t.Fatal(err)
			}
			return claim(t, s, "a", 10*time.Second)
		}, Claimed},
		{"claim after done", func() ClaimResult { done(t, s, "a", 0); return claim(t, s, "a", 10*time.Second) }, AlreadyDone},
		{"release leaves done alone", func() ClaimResult {
			if err := s.Release(ctx, "a"); err != nil {
				t.Fatal(err)
			}
			return claim(t, s, "a", 10*time.Second)
		}, AlreadyDone},
	}
	for _, step := range steps {
		if got := step.do(); got != step.want {
			t.Fatalf("%s: got %v, want %v", step.name, got, step.want)
		}
	}
}

func TestMemoryStoreLeaseLapses(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	s := NewMemoryStore(10, time.Hour, clock.Now)
	claim(t, s, "a", 10*time.Second)
	clock.Advance(10*time.Second - time.Nanosecond)
	if got := claim(t, s, "a", 10*time.Second); got != InProgress {
		t.Fatalf("just before the lease ends: %v, want in-progress", got)
	}
	clock.Advance(time.Nanosecond)
	if got := claim(t, s, "a", 10*time.Second); got != Claimed {
		t.Fatalf("when the lease ends: %v, want claimed", got)
	}
	if got := claim(t, s, "a", 10*time.Second); got != InProgress {
		t.Fatalf("after the new claim: %v, want in-progress", got)
	}
}

func TestMemoryStoreRetention(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		retain time.Duration // passed to Done
		want   time.Duration // how long the ID is remembered
	}{
		{name: "store default", retain: 0, want: time.Hour},
		{name: "per call", retain: 5 * time.Minute, want: 5 * time.Minute},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			clock := newFakeClock()
			s := NewMemoryStore(10, time.Hour, clock.Now)
			claim(t, s, "a", time.Second)
			done(t, s, "a", tt.retain)
			clock.Advance(tt.want - time.Nanosecond)
			if got := claim(t, s, "a", time.Second); got != AlreadyDone {
				t.Fatalf("just before expiry: %v, want already-done", got)
			}
			clock.Advance(time.Nanosecond)
			if got := claim(t, s, "a", time.Second); got != Claimed {
				t.Fatalf("at expiry: %v, want claimed", got)
			}
		})
	}
}

func TestMemoryStoreSweepsExpired(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	s := NewMemoryStore(100, time.Minute, clock.Now)
	for i := range 5 {
		id := fmt.Sprint(i)
		claim(t, s, id, time.Second)
		done(t, s, id, 0)
	}
	clock.Advance(time.Minute)
	claim(t, s, "new", time.Second)
	if got := s.Len(); got != 1 {
		t.Errorf("Len() = %d after the others expired, want 1", got)
	}
}

func TestMemoryStoreEvictsOldestDoneFirst(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	s := NewMemoryStore(3, time.Hour, clock.Now)
	claim(t, s, "old", time.Minute)
	done(t, s, "old", 0)
	claim(t, s, "newer", time.Minute)
	done(t, s, "newer", 0)
	claim(t, s, "live", time.Minute) // a live claim is not evicted while done IDs remain
	claim(t, s, "extra", time.Minute)

	if got := s.Len(); got != 3 {
		t.Errorf("Len() = %d, want the bound 3", got)
	}
	want := map[string]ClaimResult{"newer": AlreadyDone, "live": InProgress, "extra": InProgress}
	for id, w := range want {
		if got := claim(t, s, id, time.Minute); got != w {
			t.Errorf("Claim(%q) = %v, want %v", id, got, w)
		}
	}
	if got := claim(t, s, "old", time.Minute); got != Claimed {
		t.Errorf("Claim(old) = %v, want claimed: the oldest done ID was evicted", got)
	}
}

func TestMemoryStoreFullOfLiveClaims(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	s := NewMemoryStore(2, time.Hour, clock.Now)
	claim(t, s, "a", time.Minute)
	claim(t, s, "b", time.Minute)
	if _, err := s.Claim(context.Background(), "c", time.Minute); !errors.Is(err, ErrStoreUnavailable) {
		t.Fatalf("Claim on a store full of live claims: error = %v, want ErrStoreUnavailable", err)
	}
	clock.Advance(time.Minute) // the leases lapse: they may be evicted
	if got := claim(t, s, "c", time.Minute); got != Claimed {
		t.Fatalf("Claim after the leases lapsed = %v, want claimed", got)
	}
	if got := s.Len(); got > 2 {
		t.Errorf("Len() = %d, want at most 2", got)
	}
}

func TestMemoryStoreDefaults(t *testing.T) {
	t.Parallel()
	s := NewMemoryStore(0, 0, nil)
	if s.max != DefaultMemoryStoreSize || s.retention != DefaultRetention || s.now == nil {
		t.Errorf("NewMemoryStore(0, 0, nil) = max %d, retention %v; want %d, %v and a clock",
			s.max, s.retention, DefaultMemoryStoreSize, DefaultRetention)
	}
}

func TestMemoryStoreConcurrentClaims(t *testing.T) {
	t.Parallel()
	s := NewMemoryStore(1000, time.Hour, nil)
	const n = 32
	results := make([]ClaimResult, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			r, err := s.Claim(context.Background(), "same", time.Minute)
			if err != nil {
				t.Error(err)
			}
			results[i] = r
		})
	}
	wg.Wait()
	claimed := 0
	for _, r := range results {
		if r == Claimed {
			claimed++
		}
	}
	if claimed != 1 {
		t.Errorf("%d concurrent claims succeeded, want exactly 1", claimed)
	}
}

// TestMemoryStoreAbsentIDs: Release, Done and Claim of an ID the store
// does not hold (never seen, evicted, expired, lapsed, already released)
// never fail or panic, and leave the store as the contract says: Release
// changes nothing, Done marks the ID done, Claim claims it.
func TestMemoryStoreAbsentIDs(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	setups := []struct {
		name  string
		setup func(t *testing.T, s *MemoryStore, clock *fakeClock) // leaves "a" absent
	}{
		{name: "never seen", setup: func(*testing.T, *MemoryStore, *fakeClock) {}},
		{name: "evicted", setup: func(t *testing.T, s *MemoryStore, _ *fakeClock) {
			done(t, s, "a", 0)
			done(t, s, "b", 0) // the store holds one ID: "a" goes
		}},
		{name: "done and expired", setup: func(t *testing.T, s *MemoryStore, clock *fakeClock) {
			done(t, s, "a", time.Second)
			clock.Advance(time.Second)
		}},
		{name: "lease lapsed", setup: func(t *testing.T, s *MemoryStore, clock *fakeClock) {
			claim(t, s, "a", time.Second)
			clock.Advance(time.Second)
		}},
		{name: "released twice", setup: func(t *testing.T, s *MemoryStore, _ *fakeClock) {
			claim(t, s, "a", time.Minute)
			for range 2 {
				if err := s.Release(ctx, "a"); err != nil {
					t.Fatal(err)
				}
			}
		}},
	}
	ops := []struct {
		name string
		do   func(t *testing.T, s *MemoryStore)
		want ClaimResult // what a Claim of "a" then finds
	}{
		{name: "Release", want: Claimed, do: func(t *testing.T, s *MemoryStore) {
			if err := s.Release(ctx, "a"); err != nil {
				t.Fatalf("Release() error = %v", err)
			}
		}},
		{name: "Done", want: AlreadyDone, do: func(t *testing.T, s *MemoryStore) { done(t, s, "a", 0) }},
		{name: "Claim", want: InProgress, do: func(t *testing.T, s *MemoryStore) {
			if got := claim(t, s, "a", time.Minute); got != Claimed {
				t.Fatalf("Claim() = %v, want claimed", got)
			}
		}},
	}
	for _, setup := range setups {
		for _, op := range ops {
			t.Run(setup.name+"/"+op.name, func(t *testing.T) {
				t.Parallel()
				clock := newFakeClock()
				s := NewMemoryStore(1, time.Hour, clock.Now)
				setup.setup(t, s, clock)
				op.do(t, s)
				if got := claim(t, s, "a", time.Minute); got != op.want {
					t.Errorf("Claim() after %s = %v, want %v", op.name, got, op.want)
				}
				checkStore(t, s)
			})
		}
	}
}

// checkStore verifies the MemoryStore's structure: both lists walk the
// same way forwards and backwards, every entry on them is in the state its
// list names and indexed under its key, the index holds exactly the listed
// entries, and the free list holds all the others.
func checkStore(t *testing.T, s *MemoryStore) {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	seen := make(map[int32]string)
	for _, l := range []struct {
		name string
		list memList
		done bool
	}{{"claims", s.claims, false}, {"done", s.done, true}} {
		prev := none
		for i := l.list.head; i != none; i = s.entries[i].next {
			if _, twice := seen[i]; twice {
				t.Fatalf("%s: entry %d reached twice", l.name, i)
			}
			seen[i] = l.name
			e := s.entries[i]
			if e.prev != prev || e.done != l.done {
				t.Fatalf("%s: entry %d has prev %d and done %v, want %d and %v", l.name, i, e.prev, e.done, prev, l.done)
			}
			if got, ok := s.index[e.key]; !ok || got != i {
				t.Fatalf("%s: entry %d is not indexed under its key", l.name, i)
			}
			prev = i
		}
		if l.list.tail != prev {
			t.Fatalf("%s: tail %d, want %d", l.name, l.list.tail, prev)
		}
	}
	if len(seen) != len(s.index) {
		t.Fatalf("lists hold %d entries, the index %d", len(seen), len(s.index))
	}
	for i := s.free; i != none; i = s.entries[i].next {
		if _, twice := seen[i]; twice {
			t.Fatalf("free entry %d is in use or free twice", i)
		}
		seen[i] = "free"
	}
	if len(seen) != len(s.entries) {
		t.Fatalf("%d entries accounted for, %d made", len(seen), len(s.entries))
	}
	if len(s.index) > s.max {
		t.Fatalf("store holds %d entries, over its bound %d", len(s.index), s.max)
	}
}

// TestMemoryStoreStaysConsistent drives a small store through random
// claims, completions, releases, lapses and evictions and checks its
// structure after every step, and that an ID just marked done answers so.
func TestMemoryStoreStaysConsistent(t *testing.T) {
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
			if err != nil && (res != InProgress || !errors.Is(err, ErrStoreUnavailable)) {
				t.Fatalf("step %d: Claim() = %v, %v", step, res, err)
			}
		case op < 7:
			err := s.Done(ctx, id, time.Duration(rng.IntN(90))*time.Second)
			if errors.Is(err, ErrStoreUnavailable) {
				break // full of live claims
			}
			if err != nil {
				t.Fatalf("step %d: Done() error = %v", step, err)
			}
			if got := claim(t, s, id, time.Second); got != AlreadyDone {
				t.Fatalf("step %d: Claim() right after Done = %v, want already-done", step, got)
			}
		case op < 8:
			if err := s.Release(ctx, id); err != nil {
				t.Fatalf("step %d: Release() error = %v", step, err)
			}
		default:
			clock.Advance(time.Duration(rng.IntN(15)) * time.Second)
		}
		checkStore(t, s)
	}
}

// BenchmarkMemoryStoreFull is Claim then Done of a new ID on a full store
// of DefaultMemoryStoreSize (every op evicts the oldest done ID), and
// reports the Go heap the full store holds: per ID and in all.
func BenchmarkMemoryStoreFull(b *testing.B) {
	ctx := context.Background()
	ids := make([]string, 2*DefaultMemoryStoreSize)
	for i := range ids {
		ids[i] = strconv.Itoa(10_000_000_000_000_000 + i)
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	s := NewMemoryStore(DefaultMemoryStoreSize, DefaultRetention, nil)
	for _, id := range ids[:DefaultMemoryStoreSize] {
		if _, err := s.Claim(ctx, id, time.Minute); err != nil {
			b.Fatal(err)
		}
		if err := s.Done(ctx, id, 0); err != nil {
			b.Fatal(err)
		}
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	heap := float64(int64(after.HeapAlloc) - int64(before.HeapAlloc))
	b.ReportAllocs()
	b.ResetTimer()
	i := DefaultMemoryStoreSize // the IDs not stored yet; the first half is evicted by the time it comes round
	for b.Loop() {
		id := ids[i%len(ids)]
		i++
		if res, err := s.Claim(ctx, id, time.Minute); err != nil || res != Claimed {
			b.Fatalf("Claim: %v, %v", res, err)
		}
		if err := s.Done(ctx, id, 0); err != nil {
			b.Fatal(err)
		}
	}
	runtime.KeepAlive(s)
	b.ReportMetric(heap/DefaultMemoryStoreSize, "heap-B/id")
	b.ReportMetric(heap/(1<<20), "heap-MiB")
}
