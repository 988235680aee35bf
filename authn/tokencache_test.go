package authn

import (
	"crypto/sha256"
	"fmt"
	"testing"
	"time"
)

func cacheKey(s string) [sha256.Size]byte { return sha256.Sum256([]byte(s)) }

// userEntry is an entry whose principal has only its subject.
func userEntry(sub string, listed bool, deadline time.Time) *principalEntry {
	return &principalEntry{p: Principal{Kind: KindUser, Subject: sub}, partyListed: listed, deadline: deadline}
}

func TestTokenCacheHitAndExpiry(t *testing.T) {
	t.Parallel()
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	c := newTokenCache(10)
	c.put(cacheKey("a"), userEntry("user_1", true, now.Add(time.Minute)))

	e, ok := c.get(cacheKey("a"), now)
	if !ok || e.p.Subject != "user_1" || e.p.Kind != KindUser || !e.partyListed {
		t.Fatalf("get = %+v, %v; want hit with listed party", e, ok)
	}
	if _, ok := c.get(cacheKey("b"), now); ok {
		t.Error("get(other token) hit")
	}
	if _, ok := c.get(cacheKey("a"), now.Add(time.Minute)); !ok {
		t.Error("miss at the deadline, want hit")
	}
	if _, ok := c.get(cacheKey("a"), now.Add(time.Minute+time.Nanosecond)); ok {
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
		c.put(cacheKey(fmt.Sprint(i)), userEntry(fmt.Sprint(i), false, now.Add(time.Hour)))
	}
	c.get(cacheKey("0"), now) // 0 becomes most recent; 1 is now the oldest
	c.put(cacheKey("3"), userEntry("3", false, now.Add(time.Hour)))

	if n := c.len(); n != size {
		t.Errorf("len = %d, want %d", n, size)
	}
	for key, want := range map[string]bool{"0": true, "1": false, "2": true, "3": true} {
		if _, ok := c.get(cacheKey(key), now); ok != want {
			t.Errorf("entry %s present = %v, want %v", key, ok, want)
		}
	}
	for i := range 100 {
		c.put(cacheKey(fmt.Sprint("x", i)), userEntry("x", false, now.Add(time.Hour)))
	}
	if n := c.len(); n != size {
		t.Errorf("len after many puts = %d, want bound %d", n, size)
	}
}

func TestTokenCacheUpdateInPlace(t *testing.T) {
	t.Parallel()
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	c := newTokenCache(2)
	c.put(cacheKey("a"), userEntry("old", false, now.Add(time.Hour)))
	c.put(cacheKey("a"), userEntry("new", true, now.Add(time.Hour)))
	e, ok := c.get(cacheKey("a"), now)
	if !ok || e.p.Subject != "new" || !e.partyListed || c.len() != 1 {
		t.Errorf("after update: %+v ok=%v len=%d", e, ok, c.len())
	}
}
