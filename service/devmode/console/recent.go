package console

import "sync"

// Recent keeps the newest values added to it, for a person to look at: the
// push loop's deliveries, the refusals. It is safe for concurrent use.
type Recent[T any] struct {
	mu      sync.Mutex
	ring    []T
	next    int // where the next value goes
	count   int
	changed chan struct{} // closed and replaced on every Add
}

// NewRecent returns a Recent that keeps the newest size values (size < 1
// counts as 1).
func NewRecent[T any](size int) *Recent[T] {
	return &Recent[T]{ring: make([]T, max(size, 1)), changed: make(chan struct{})}
}

// Add records v as the newest value, dropping the oldest when full. It
// never blocks for long: its method value fits dispatch.Config.Report.
func (r *Recent[T]) Add(v T) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.ring[r.next] = v
	r.next = (r.next + 1) % len(r.ring)
	r.count = min(r.count+1, len(r.ring))
	close(r.changed)
	r.changed = make(chan struct{})
}

// List returns the values, newest first.
func (r *Recent[T]) List() []T {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]T, r.count)
	for i := range out {
		out[i] = r.ring[(r.next-1-i+len(r.ring))%len(r.ring)]
	}
	return out
}

// Changed returns a channel that is closed at the next Add.
func (r *Recent[T]) Changed() <-chan struct{} {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.changed
}
