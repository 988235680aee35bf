package push

import (
	"sync"
	"unsafe"
)

// noScanMem hands out memory for values without pointers from outside the
// garbage-collected heap where the platform allows (anonymous mmap; see
// noscan_mmap.go), else from the heap. The collector neither scans such
// memory nor counts it toward its next goal, so a store of 100,000 IDs
// costs its size in resident memory, not twice its size, and adds nothing
// to a collection's work. Only types without pointers may live there.
type noScanMem struct {
	mu      sync.Mutex
	regions map[*byte]noScanRegion // every region handed out and not yet freed
}

type noScanRegion struct {
	b      []byte
	mapped bool // by allocNoScan's mmap; else on the heap
}

func newNoScanMem() *noScanMem { return &noScanMem{regions: make(map[*byte]noScanRegion)} }

func (m *noScanMem) bytes(n int) []byte {
	b, mapped := allocNoScan(n)
	m.mu.Lock()
	m.regions[&b[0]] = noScanRegion{b, mapped}
	m.mu.Unlock()
	return b
}

func (m *noScanMem) free(p *byte) {
	m.mu.Lock()
	r, ok := m.regions[p]
	delete(m.regions, p)
	m.mu.Unlock()
	if ok && r.mapped {
		unmapNoScan(r.b)
	}
}

// freeAll gives back every region; nothing may use them after.
func (m *noScanMem) freeAll() {
	m.mu.Lock()
	regions := m.regions
	m.regions = make(map[*byte]noScanRegion)
	m.mu.Unlock()
	for _, r := range regions {
		if r.mapped {
			unmapNoScan(r.b)
		}
	}
}

// heapNoScan is n zeroed bytes on the heap, aligned for int64 fields (the
// []uint64 behind them has no pointers, so the collector does not scan it).
func heapNoScan(n int) []byte {
	return unsafeBytes(make([]uint64, (n+7)/8), n)
}

// uint64s returns n zeroed uint64s.
func (m *noScanMem) uint64s(n int) []uint64 {
	b := m.bytes(8 * n)
	return unsafe.Slice((*uint64)(unsafe.Pointer(&b[0])), n)
}

func (m *noScanMem) freeUint64s(s []uint64) {
	if len(s) > 0 {
		m.free((*byte)(unsafe.Pointer(&s[0])))
	}
}

// chunk returns a zeroed memChunk.
func (m *noScanMem) chunk() *memChunk {
	b := m.bytes(int(unsafe.Sizeof(memChunk{})))
	return (*memChunk)(unsafe.Pointer(&b[0]))
}

// unsafeBytes views the first n bytes of w.
func unsafeBytes(w []uint64, n int) []byte {
	return unsafe.Slice((*byte)(unsafe.Pointer(&w[0])), n)
}
