//go:build !(linux || darwin || freebsd || netbsd || openbsd)

package push

// allocNoScan returns n zeroed bytes from the heap: package syscall has no
// anonymous mmap on this platform.
func allocNoScan(n int) (b []byte, mapped bool) { return heapNoScan(n), false }

func unmapNoScan([]byte) {}
