package push

import "encoding/binary"

// slotIndex finds a MemoryStore slot by its key: open addressing with
// linear probing, kept at most four fifths full. A cell holds the slot number plus
// one (0: empty) and 32 bits of the key's hash; the key itself stays in the
// slot. Keys are SHA-256 bits, uniformly spread, so their first four bytes
// serve as the hash: they pick the home cell and are kept in the cell, so
// that a probe reads the slot only when they match and a deletion never
// does. At 8 bytes a cell it is smaller than a Go map of the same keys,
// holds no pointers, and lives off the garbage-collected heap (noScanMem),
// so neither it nor its growth is scanned or doubled by the collector's
// headroom.
type slotIndex struct {
	cells []uint64
	mask  uint64
	count int
	mem   *noScanMem
	key   func(slot int32) *memKey // the key slot holds
}

const minIndexCells = 1024

func newSlotIndex(mem *noScanMem, key func(int32) *memKey) slotIndex {
	return slotIndex{mem: mem, key: key, cells: mem.uint64s(minIndexCells), mask: minIndexCells - 1}
}

// hashOf is the key's 32 hash bits.
func hashOf(k *memKey) uint32 { return binary.LittleEndian.Uint32(k[:4]) }

// cell packs a slot and its key's hash.
func cell(slot int32, hash uint32) uint64 { return uint64(hash)<<32 | uint64(slot+1) }

func cellSlot(c uint64) int32  { return int32(uint32(c)) - 1 }
func cellHash(c uint64) uint32 { return uint32(c >> 32) }

// find returns the slot holding k.
func (x *slotIndex) find(k *memKey) (slot int32, ok bool) {
	h := hashOf(k)
	for i := uint64(h) & x.mask; ; i = (i + 1) & x.mask {
		c := x.cells[i]
		if c == 0 {
			return 0, false
		}
		if cellHash(c) == h && *x.key(cellSlot(c)) == *k {
			return cellSlot(c), true
		}
	}
}

// insert adds slot, whose key the index does not hold yet.
func (x *slotIndex) insert(slot int32) {
	if 5*(x.count+1) > 4*len(x.cells) {
		x.grow()
	}
	x.place(cell(slot, hashOf(x.key(slot))))
	x.count++
}

func (x *slotIndex) place(c uint64) {
	i := uint64(cellHash(c)) & x.mask
	for x.cells[i] != 0 {
		i = (i + 1) & x.mask
	}
	x.cells[i] = c
}

// grow doubles the table and places every cell anew.
func (x *slotIndex) grow() {
	old := x.cells
	x.cells = x.mem.uint64s(2 * len(old))
	x.mask = uint64(len(x.cells) - 1)
	for _, c := range old {
		if c != 0 {
			x.place(c)
		}
	}
	x.mem.freeUint64s(old)
}

// remove drops k, which the index holds, by backward-shift deletion (Knuth,
// TAOCP vol. 3, 6.4, Algorithm R): the cells after it that probed past its
// cell move back, so that no lookup ever stops short at a hole.
func (x *slotIndex) remove(k *memKey) {
	h := hashOf(k)
	i := uint64(h) & x.mask
	for c := x.cells[i]; cellHash(c) != h || *x.key(cellSlot(c)) != *k; c = x.cells[i] {
		i = (i + 1) & x.mask
	}
	for j := i; ; {
		j = (j + 1) & x.mask
		c := x.cells[j]
		if c == 0 {
			break
		}
		// The cell at j may fill the hole at i unless its home lies
		// cyclically in (i, j].
		if home := uint64(cellHash(c)) & x.mask; (i <= j && (home <= i || home > j)) || (i > j && home <= i && home > j) {
			x.cells[i] = c
			i = j
		}
	}
	x.cells[i] = 0
	x.count--
}
