package dispatch

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// fakeClock is a clock the test moves by hand.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

func TestTokenCacheReusesUntilTTL(t *testing.T) {
	t.Parallel()
	clock := &fakeClock{now: time.Unix(1_700_000_000, 0)}
	tokens := &tokenCounter{}
	get := newTokenCache(tokens.source, time.Minute, clock.Now).token
	ctx := t.Context()

	steps := []struct {
		name     string
		advance  time.Duration
		audience string
		calls    int // calls to the source after the step
	}{
		{"first use fetches", 0, "a", 1},
		{"reused", 30 * time.Second, "a", 1},
		{"other audience fetches", 0, "b", 2},
		{"still reused just before the ttl", 29 * time.Second, "a", 2},
		{"refetched at the ttl", time.Second, "a", 3},
		{"b refetched at its own ttl", 30 * time.Second, "b", 4},
		{"a still cached", 0, "a", 4},
	}
	for _, st := range steps {
		clock.Advance(st.advance)
		got, err := get(ctx, st.audience)
		if err != nil || got != testToken(st.audience) {
			t.Fatalf("%s: token = %q, %v; want %q", st.name, got, err, testToken(st.audience))
		}
		if n := len(tokens.calls()); n != st.calls {
			t.Errorf("%s: %d calls to the source, want %d", st.name, n, st.calls)
		}
	}
}

func TestTokenCacheDoesNotCacheErrors(t *testing.T) {
	t.Parallel()
	var calls atomic.Int64
	src := func(context.Context, string) (string, error) {
		if calls.Add(1) == 1 {
			return "", errSentinel
		}
		return "tok", nil
	}
	get := CachedTokenSource(src, time.Hour)
	if _, err := get(t.Context(), "a"); !errors.Is(err, errSentinel) {
		t.Fatalf("first call error = %v, want the source's", err)
	}
	if got, err := get(t.Context(), "a"); err != nil || got != "tok" {
		t.Fatalf("second call = %q, %v; want tok", got, err)
	}
	if got, err := get(t.Context(), "a"); err != nil || got != "tok" || calls.Load() != 2 {
		t.Fatalf("third call = %q, %v after %d source calls; want tok from the cache", got, err, calls.Load())
	}
}

func TestTokenCacheMergesConcurrentFetches(t *testing.T) {
	t.Parallel()
	const callers = 10
	var calls atomic.Int64
	entered := make(chan struct{})
	release := make(chan struct{})
	src := func(context.Context, string) (string, error) {
		if calls.Add(1) == 1 {
			close(entered)
		}
		<-release
		return "tok", nil
	}
	get := CachedTokenSource(src, time.Hour)
	var wg sync.WaitGroup
	errs := make(chan error, callers)
	for range callers {
		wg.Go(func() {
			got, err := get(t.Context(), "a")
			if err == nil && got != "tok" {
				err = errors.New("wrong token " + got)
			}
			errs <- err
		})
	}
	<-entered
	close(release)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	if n := calls.Load(); n != 1 {
		t.Errorf("%d calls to the source for %d concurrent callers, want 1", n, callers)
	}
}

func TestTokenCacheWaiterHonoursItsContext(t *testing.T) {
	t.Parallel()
	entered := make(chan struct{})
	release := make(chan struct{})
	defer close(release)
	src := func(context.Context, string) (string, error) {
		close(entered)
		<-release
		return "tok", nil
	}
	get := CachedTokenSource(src, time.Hour)
	go func() { _, _ = get(context.Background(), "a") }()
	<-entered
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := get(ctx, "a"); !errors.Is(err, context.Canceled) {
		t.Errorf("waiting caller with a canceled context: error %v, want context.Canceled", err)
	}
}

func TestTokenCacheDefaultTTL(t *testing.T) {
	t.Parallel()
	if got := newTokenCache(nil, 0, time.Now).ttl; got != DefaultTokenTTL {
		t.Errorf("ttl 0 → %v, want %v", got, DefaultTokenTTL)
	}
}
