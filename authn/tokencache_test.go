package authn

import (
	"crypto/sha256"
	"fmt"
	"testing"
	"time"
)

func cacheKey(s string) *[sha256.Size]byte {
	k := tokenHash(s)
	return &k
}

func TestTokenCacheHitAndExpiry(t *testing.T) {
	t.Parallel()
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	c := newTokenCache(10)
	want := Principal{Kind: KindUser, Subject: "user_1"}
	c.put(cacheKey("a"), want, true, now.Add(time.Minute))

	got, listed, ok := c.get(cacheKey("a"), now)
	if !ok || got.Subject != want.Subject || !listed {
		t.Fatalf("get = %+v, %v, %v; want hit with listed party", got, listed, ok)
	}
	if _, _, ok := c.get(cacheKey("b"), now); ok {
		t.Error("get(other token) hit")
	}
	if _, _, ok := c.get(cacheKey("a"), now.Add(time.Minute)); !ok {
		t.Error("miss at the deadline, want hit")
	}
	if _, _, ok := c.get(cacheKey("a"), now.Add(time.Minute+time.Nanosecond)); ok {
		t.Error("hit after the deadline")
	}
	if n := c.len(); n != 0 {
		t.Errorf("len after expiry = %d, want 0 (expired entry dropped)", n)
	}
}

func TestTokenCacheEvictsLeastRecentlyUsed(t *testing.T) {
	t.Parallel()
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	const size = 3
	c := newTokenCache(size)
	for i := range size {
		c.put(cacheKey(fmt.Sprint(i)), Principal{Subject: fmt.Sprint(i)}, false, now.Add(time.Hour))
	}
	c.get(cacheKey("0"), now) // 0 becomes most recent; 1 is now the oldest
	c.put(cacheKey("3"), Principal{Subject: "3"}, false, now.Add(time.Hour))

	if n := c.len(); n != size {
		t.Errorf("len = %d, want %d", n, size)
	}
	for key, want := range map[string]bool{"0": true, "1": false, "2": true, "3": true} {
		if _, _, ok := c.get(cacheKey(key), now); ok != want {
			t.Errorf("entry %s present = %v, want %v", key, ok, want)
		}
	}
	for i := range 100 {
		c.put(cacheKey(fmt.Sprint("x", i)), Principal{}, false, now.Add(time.Hour))
	}
	if n := c.len(); n != size {
		t.Errorf("len after many puts = %d, want bound %d", n, size)
	}
}

func TestTokenCacheUpdateInPlace(t *testing.T) {
	t.Parallel()
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	c := newTokenCache(2)
	c.put(cacheKey("a"), Principal{Subject: "old"}, false, now.Add(time.Hour))
	c.put(cacheKey("a"), Principal{Subject: "new"}, true, now.Add(time.Hour))
	got, listed, ok := c.get(cacheKey("a"), now)
	if !ok || got.Subject != "new" || !listed || c.len() != 1 {
		t.Errorf("after update: %+v listed=%v ok=%v len=%d", got, listed, ok, c.len())
	}
}
