package push

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// deadlineCtx is parent with a deadline, as context.WithDeadline makes it,
// except that the timer, and the registration with parent that carries
// parent's cancellation to it, are made only when first needed: when Done
// is called (directly, by a context derived from it, or by a select on it)
// or when Value is asked for context's own private key (see Value). Most
// handlers never look, and a timer per delivery costs as much as the rest
// of the delivery's bookkeeping.
//
// Until then Err reads parent and the clock: parent's error once parent
// has ended, DeadlineExceeded once the deadline has passed (and from then
// on the timer is started, so that Done and Err agree).
type deadlineCtx struct {
	parent   context.Context
	deadline time.Time

	mu       sync.Mutex // serializes start and release
	released bool       // release was called before start
	inner    atomic.Pointer[startedCtx]
}

type startedCtx struct {
	ctx    context.Context
	cancel context.CancelFunc
}

// withLazyDeadline returns parent with the deadline now+d (or parent's, if
// sooner). Call its release when the handler returns, as the CancelFunc of
// context.WithTimeout.
func withLazyDeadline(parent context.Context, d time.Duration) *deadlineCtx {
	c := &deadlineCtx{parent: parent, deadline: time.Now().Add(d)}
	if pd, ok := parent.Deadline(); ok && pd.Before(c.deadline) {
		c.deadline = pd
	}
	return c
}

func (c *deadlineCtx) start() context.Context {
	if s := c.inner.Load(); s != nil {
		return s.ctx
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if s := c.inner.Load(); s != nil {
		return s.ctx
	}
	if c.released {
		// Released while still running: it ended then, Canceled, whatever
		// parent or the clock did since.
		ctx, cancel := context.WithCancel(context.WithoutCancel(c.parent))
		cancel()
		c.inner.Store(&startedCtx{ctx: ctx, cancel: cancel})
		return ctx
	}
	ctx, cancel := context.WithDeadline(c.parent, c.deadline)
	c.inner.Store(&startedCtx{ctx: ctx, cancel: cancel})
	return ctx
}

// release ends the context, as the CancelFunc of context.WithDeadline does:
// from then on it is done, and Err is Canceled unless it had already ended
// otherwise. A context never started stays unstarted: if anyone looks at it
// later, it starts already canceled.
func (c *deadlineCtx) release() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if s := c.inner.Load(); s != nil {
		s.cancel()
		return
	}
	if c.parent.Err() == nil && time.Now().Before(c.deadline) {
		c.released = true
		return
	}
	// It had already ended: start it now, so that Err keeps saying how.
	ctx, cancel := context.WithDeadline(c.parent, c.deadline)
	cancel()
	c.inner.Store(&startedCtx{ctx: ctx, cancel: cancel})
}

// Deadline implements context.Context.
func (c *deadlineCtx) Deadline() (time.Time, bool) { return c.deadline, true }

// Done implements context.Context; it starts the timer.
func (c *deadlineCtx) Done() <-chan struct{} { return c.start().Done() }

// Err implements context.Context.
func (c *deadlineCtx) Err() error {
	if s := c.inner.Load(); s != nil {
		return s.ctx.Err()
	}
	c.mu.Lock()
	released := c.released
	c.mu.Unlock()
	if released || c.parent.Err() != nil || !time.Now().Before(c.deadline) {
		return c.start().Err()
	}
	return nil
}

// Value implements context.Context. Keys go to parent without starting the
// timer, except keys of type *int: package context looks itself up with
// one (&cancelCtxKey, in context.Cause and when a context is derived) and
// must find the started context there, not parent's. Go 1.26 calls Done or
// Err first, which start it anyway, so this only guards against a package
// context that asks in another order; even then a derived context would
// still be cancelled, only from a goroutine.
func (c *deadlineCtx) Value(key any) any {
	if s := c.inner.Load(); s != nil {
		return s.ctx.Value(key)
	}
	if _, private := key.(*int); private {
		return c.start().Value(key)
	}
	return c.parent.Value(key)
}
