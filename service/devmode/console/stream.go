package console

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"
)

// Stream timing: changes closer together than streamInterval are sent as
// one event; a comment every streamKeepAlive keeps the connection, whose
// write deadline is extended at each write.
const (
	streamInterval  = 100 * time.Millisecond
	streamKeepAlive = 20 * time.Second
	streamWrite     = 10 * time.Second
)

// stream sends the Activity as a server-sent event at once and again at
// each change (a delivery settled, a request refused), until the client
// goes, the server's context ends or Close is called. The page follows it
// with an EventSource, which reconnects by itself.
func (c *Console) stream(w http.ResponseWriter, r *http.Request) {
	rc := http.NewResponseController(w)
	// The server's read and write timeouts are for ordinary requests; a
	// stream lives longer, with a write deadline of its own per event.
	_ = rc.SetReadDeadline(time.Time{})
	h := w.Header()
	noStore(h)
	h.Set("Content-Type", "text/event-stream")
	ctx := r.Context()
	keepAlive := time.NewTicker(streamKeepAlive)
	defer keepAlive.Stop()
	event := []byte("retry: 1000\n") // the first event says how soon to reconnect
	for {
		deliveries, refusals := c.cfg.Deliveries.Changed(), c.cfg.Refusals.Changed()
		data, err := json.Marshal(c.snapshot())
		if err != nil {
			c.cfg.Logger.ErrorContext(ctx, "devconsole: encode activity", "error", err)
			return
		}
		event = append(append(append(event, "data: "...), data...), "\n\n"...)
		if !c.send(rc, w, event) {
			return
		}
		event = event[:0]
		// Wait for a change, with keep-alives; then let a burst of changes
		// settle into one event.
		for changed := false; !changed; {
			select {
			case <-deliveries:
				changed = true
			case <-refusals:
				changed = true
			case <-keepAlive.C:
				if !c.send(rc, w, []byte(": keep-alive\n\n")) {
					return
				}
			case <-ctx.Done():
				return
			case <-c.closing:
				return
			}
		}
		select {
		case <-time.After(streamInterval):
		case <-ctx.Done():
			return
		case <-c.closing:
			return
		}
	}
}

// send writes one chunk of the stream and flushes it; false when the
// client is gone.
func (c *Console) send(rc *http.ResponseController, w http.ResponseWriter, b []byte) bool {
	_ = rc.SetWriteDeadline(time.Now().Add(streamWrite))
	if _, err := w.Write(b); err != nil {
		return false
	}
	if err := rc.Flush(); err != nil {
		c.cfg.Logger.Debug("devconsole: flush", "error", fmt.Sprint(err))
		return false
	}
	return true
}
