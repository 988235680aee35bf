package authn

import (
	"crypto/sha256"
	"fmt"
	"reflect"
	"testing"
	"time"
)

func cacheKey(s string) *[sha256.Size]byte {
	k := tokenHash(s)
	return &k
}

// userIdentity is an identity whose only claim is its subject.
func userIdentity(sub string) identity {
	return identity{raw: sub, subject: span{end: uint32(len(sub))}, user: true}
}

func TestTokenCacheHitAndExpiry(t *testing.T) {
	t.Parallel()
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	c := newTokenCache(10)
	c.put(cacheKey("a"), userIdentity("user_1"), true, now.Add(time.Minute))

	p, listed, ok := c.get(cacheKey("a"), now)
	if !ok || p.Subject != "user_1" || p.Kind != KindUser || !listed {
		t.Fatalf("get = %+v, %v, %v; want hit with listed party", p, listed, ok)
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
		c.put(cacheKey(fmt.Sprint(i)), userIdentity(fmt.Sprint(i)), false, now.Add(time.Hour))
	}
	c.get(cacheKey("0"), now) // 0 becomes most recent; 1 is now the oldest
	c.put(cacheKey("3"), userIdentity("3"), false, now.Add(time.Hour))

	if n := c.len(); n != size {
		t.Errorf("len = %d, want %d", n, size)
	}
	for key, want := range map[string]bool{"0": true, "1": false, "2": true, "3": true} {
		if _, _, ok := c.get(cacheKey(key), now); ok != want {
			t.Errorf("entry %s present = %v, want %v", key, ok, want)
		}
	}
	for i := range 100 {
		c.put(cacheKey(fmt.Sprint("x", i)), identity{}, false, now.Add(time.Hour))
	}
	if n := c.len(); n != size {
		t.Errorf("len after many puts = %d, want bound %d", n, size)
	}
}

func TestTokenCacheUpdateInPlace(t *testing.T) {
	t.Parallel()
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	c := newTokenCache(2)
	c.put(cacheKey("a"), userIdentity("old"), false, now.Add(time.Hour))
	c.put(cacheKey("a"), userIdentity("new"), true, now.Add(time.Hour))
	got, listed, ok := c.get(cacheKey("a"), now)
	if !ok || got.Subject != "new" || !listed || c.len() != 1 {
		t.Errorf("after update: %q listed=%v ok=%v len=%d", got.Subject, listed, ok, c.len())
	}
}

func TestTokenCacheReusesSlots(t *testing.T) {
	t.Parallel()
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	const size = 4
	c := newTokenCache(size)
	for i := range 1000 {
		key := cacheKey(fmt.Sprint(i))
		c.put(key, userIdentity(fmt.Sprint(i)), false, now.Add(time.Duration(i%3)*time.Second))
		if i%2 == 0 {
			// Expire some entries: their slots must be reused, not leaked.
			c.get(key, now.Add(time.Hour))
		}
	}
	if n := c.len(); n > size {
		t.Errorf("len = %d, want at most %d", n, size)
	}
	if n := len(c.entries); n > size {
		t.Errorf("%d slots for a cache of %d", n, size)
	}
	// The list and the index agree: walking from head meets every entry once.
	seen := 0
	for i := c.head; i != noSlot; i = c.entries[i].next {
		e := &c.entries[i]
		if j, ok := c.index[e.key]; !ok || j != i {
			t.Fatalf("slot %d is listed but not indexed", i)
		}
		if seen++; seen > size {
			t.Fatal("the list has a cycle")
		}
	}
	if seen != c.len() {
		t.Errorf("list has %d entries, index %d", seen, c.len())
	}
	for i := c.free; i != noSlot; i = c.entries[i].next {
		if e := c.entries[i]; e.id.raw != "" || e.id.orgPermissions != nil {
			t.Errorf("free slot %d still references a token", i)
		}
	}
}

// TestTokenCacheEntryIsCompact: a cached entry holds no map and at most
// three pointers (the identity's buffer, organization role and
// permissions), so that a full cache costs the collector little.
func TestTokenCacheEntryIsCompact(t *testing.T) {
	t.Parallel()
	var count func(reflect.Type) int
	count = func(typ reflect.Type) int {
		switch typ.Kind() {
		case reflect.Map:
			t.Errorf("a cache entry holds a map (%v)", typ)
			return 1
		case reflect.Pointer, reflect.String, reflect.Slice, reflect.Interface, reflect.Chan, reflect.Func, reflect.UnsafePointer:
			return 1
		case reflect.Struct:
			n := 0
			for i := range typ.NumField() {
				n += count(typ.Field(i).Type)
			}
			return n
		case reflect.Array:
			return typ.Len() * count(typ.Elem())
		}
		return 0
	}
	if n := count(reflect.TypeFor[cachedToken]()); n > 3 {
		t.Errorf("a cache entry holds %d pointers, want at most 3", n)
	}
	if k := reflect.TypeFor[map[[sha256.Size]byte]int32](); reflect.TypeOf(newTokenCache(1).index) != k {
		t.Errorf("index type %v, want %v (no pointers)", reflect.TypeOf(newTokenCache(1).index), k)
	}
}
