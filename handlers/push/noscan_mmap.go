//go:build linux || darwin || freebsd || netbsd || openbsd

package push

import "syscall"

// allocNoScan maps n bytes of zeroed anonymous memory, page-aligned, which
// the kernel backs only as it is touched. Should the mapping fail, the
// bytes come from the heap instead (mapped false).
func allocNoScan(n int) (b []byte, mapped bool) {
	b, err := syscall.Mmap(-1, 0, n, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		return heapNoScan(n), false
	}
	return b, true
}

// unmapNoScan gives back what allocNoScan mapped.
func unmapNoScan(b []byte) { _ = syscall.Munmap(b) }
