package push

import (
	"context"
	"log/slog"
	"net/http"
	"time"
)

// flight is one ID being processed in this process. Deliveries of the same
// ID that arrive meanwhile wait on done and answer with res.
type flight struct {
	done chan struct{} // made by the first waiter, under handler.mu
	res  outcome       // set before done is closed
}

// join registers a flight for id, or returns the one already running.
// leader is true when the caller must process the message and call leave.
func (h *handler) join(id string) (f *flight, leader bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if f, ok := h.inflight[id]; ok {
		if f.done == nil {
			f.done = make(chan struct{})
		}
		return f, false
	}
	f = &flight{}
	h.inflight[id] = f
	return f, true
}

// leave ends the flight for id with res and wakes its waiters.
func (h *handler) leave(id string, f *flight, res outcome) {
	h.mu.Lock()
	delete(h.inflight, id)
	f.res = res
	done := f.done
	h.mu.Unlock()
	if done != nil {
		close(done)
	}
}

// wait answers a duplicate delivery with the outcome of the local flight,
// or with 409 if that takes longer than the lease or the request ends, and
// returns its own outcome.
func (h *handler) wait(ctx context.Context, w http.ResponseWriter, m *Message, f *flight) outcome {
	if h.waitHook != nil {
		h.waitHook()
	}
	timer := time.NewTimer(h.lease)
	defer timer.Stop()
	select {
	case <-f.done:
		h.log.LogAttrs(ctx, slog.LevelInfo, "duplicate delivery answered with the outcome of the one in progress",
			slog.Any("pushMessage", m), slog.Int("status", f.res.status()))
		f.res.write(w)
		return f.res.asDuplicate()
	case <-ctx.Done():
	case <-timer.C:
		h.log.LogAttrs(ctx, slog.LevelInfo, "duplicate delivery gave up waiting for the one in progress",
			slog.Any("pushMessage", m))
	}
	outBusy.write(w)
	return outBusy
}
