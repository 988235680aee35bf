package push

import (
	"context"
	"errors"
	"fmt"
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

// BenchmarkMemoryStoreFull is Claim then Done of a new ID on a full store
// of DefaultMemoryStoreSize (every op evicts the oldest done ID), and
// reports the Go heap the full store holds per ID: its slots and index
// live off the heap where the platform allows.
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
	heapPerID := float64(int64(after.HeapAlloc)-int64(before.HeapAlloc)) / DefaultMemoryStoreSize
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
	b.ReportMetric(heapPerID, "heap-B/id")
}
