package push

import (
	"encoding/binary"
	"math/rand/v2"
	"testing"
	"unsafe"
)

// checkIndex verifies the linear-probing invariants of s.index: each
// occupied cell names a slot in use, no slot twice, the count matches, and
// every key is reachable from its home cell without crossing an empty one,
// and the table is at most four fifths full.
func checkIndex(t *testing.T, s *MemoryStore, inUse map[int32]string) {
	t.Helper()
	checkCells(t, &s.index, func(slot int32) bool {
		name, ok := inUse[slot]
		return ok && name != "free"
	})
}

func checkCells(t *testing.T, x *slotIndex, valid func(int32) bool) {
	t.Helper()
	cells := x.cells
	seen := make(map[int32]bool)
	n := 0
	for i, c := range cells {
		if c == 0 {
			continue
		}
		n++
		slot := cellSlot(c)
		if !valid(slot) || seen[slot] {
			t.Fatalf("cell %d names slot %d: not in use, or named twice", i, slot)
		}
		seen[slot] = true
		if cellHash(c) != hashOf(x.key(slot)) {
			t.Fatalf("cell %d holds hash %#x for slot %d, whose key hashes to %#x", i, cellHash(c), slot, hashOf(x.key(slot)))
		}
		for j := uint64(cellHash(c)) & x.mask; j != uint64(i); j = (j + 1) & x.mask {
			if cells[j] == 0 {
				t.Fatalf("slot %d in cell %d is cut off from its home cell by an empty cell %d", slot, i, j)
			}
		}
	}
	if n != x.count {
		t.Fatalf("%d occupied cells, count %d", n, x.count)
	}
	if 5*x.count > 4*len(cells) {
		t.Fatalf("%d keys in %d cells: over four fifths full", x.count, len(cells))
	}
}

// TestSlotIndexAgainstMap drives a slotIndex and a map with the same random
// inserts and removals, with keys made to crowd a few home cells and to
// wrap around the table's end, and checks they agree throughout.
func TestSlotIndexAgainstMap(t *testing.T) {
	t.Parallel()
	for _, homes := range []int{3, 64, 1 << 20} {
		rng := rand.New(rand.NewPCG(uint64(homes), 5))
		keys := make([]memKey, min(3000, 100*homes))
		for i := range keys {
			h := uint32(rng.IntN(homes)) * 0x9e3779b9 // a few homes, spread out
			if i%4 == 0 {
				h = ^uint32(rng.IntN(4)) // the table's last cells, whatever its size: probes wrap
			}
			binary.LittleEndian.PutUint32(keys[i][:4], h)
			binary.LittleEndian.PutUint64(keys[i][8:], uint64(i))
		}
		mem := newNoScanMem()
		slotKeys := make([]memKey, len(keys))
		x := newSlotIndex(mem, func(s int32) *memKey { return &slotKeys[s] })
		want := map[memKey]int32{}
		for step := range 30000 {
			k := int32(rng.IntN(len(keys)))
			key := keys[k]
			_, present := want[key]
			switch {
			case !present && rng.IntN(3) > 0:
				slotKeys[k] = key
				x.insert(k)
				want[key] = k
			case present && rng.IntN(2) == 0:
				x.remove(&key)
				delete(want, key)
			}
			got, ok := x.find(&key)
			if w, wok := want[key]; ok != wok || (ok && got != w) {
				t.Fatalf("homes %d, step %d: find = %d, %v; want %d, %v", homes, step, got, ok, w, wok)
			}
			if step%1000 == 0 {
				checkCells(t, &x, func(s int32) bool { _, ok := want[slotKeys[s]]; return ok && want[slotKeys[s]] == s })
			}
		}
		for key, slot := range want {
			if got, ok := x.find(&key); !ok || got != slot {
				t.Fatalf("homes %d: key of slot %d lost", homes, slot)
			}
		}
		mem.freeAll()
	}
}

func TestMemEntryIs32Bytes(t *testing.T) {
	t.Parallel()
	if got := unsafe.Sizeof(memEntry{}); got != 32 {
		t.Errorf("memEntry is %d bytes, want 32 (100,000 IDs per 3.2 MB)", got)
	}
	var e memEntry
	for _, c := range []struct {
		done    bool
		expires int64
	}{{true, 0}, {false, 1}, {true, -5}, {false, 1 << 61}, {true, -(1 << 61)}} {
		e.set(c.done, c.expires)
		if e.done() != c.done || e.expires() != c.expires {
			t.Errorf("set(%v, %d): got %v, %d", c.done, c.expires, e.done(), e.expires())
		}
	}
}
