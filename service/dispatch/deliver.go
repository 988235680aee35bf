package dispatch

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"time"

	"cloud.google.com/go/pubsub/v2"
)

// maxDrain is how much of a response body is read so that its connection
// can be reused; the body is not otherwise used.
const maxDrain = 64 << 10

// outcome is how one delivery attempt ended.
type outcome struct {
	status int   // the endpoint's status; 0 when none came
	err    error // why no status came; never holds a token
	local  bool  // the attempt failed before a request was sent (no token)
	// reason is the endpoint's short reason for a status that does not
	// acknowledge: the "error" of its JSON body; "" when it gave none.
	reason string
	took   time.Duration // from sending the request to its answer
}

func (o outcome) acked() bool { return o.err == nil && Acknowledges(o.status) }

// logAttrs describes the outcome for a log line.
func (o outcome) logAttrs() []any {
	if o.err != nil {
		return []any{"error", o.err.Error()}
	}
	if o.reason != "" {
		return []any{"status", o.status, "reason", o.reason}
	}
	return []any{"status", o.status}
}

// deliver makes one push request for m. Its context is not ctx but a
// detached one bounded by AckDeadline: a request once started runs to its end
// even when the dispatcher is stopping, so that the endpoint never sees a
// delivery cut off half-way by the stop.
func (d *Dispatcher) deliver(ctx context.Context, m *pubsub.Message, attempt int) outcome {
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), d.cfg.AckDeadline)
	defer cancel()
	req, err := d.newRequest(rctx, m, attempt)
	if err != nil {
		return outcome{err: err, local: true}
	}
	if d.cfg.Tokens != nil {
		tok, err := d.cfg.Tokens(rctx, d.cfg.Audience)
		if err == nil && tok == "" {
			err = errors.New("empty token")
		}
		if err != nil {
			return outcome{err: fmt.Errorf("dispatch: token: %w", err), local: true}
		}
		req.Header.Set("Authorization", "Bearer "+tok)
	}

	d.inFlight.Add(1)
	defer d.inFlight.Add(-1)
	d.delivered.Add(1)
	sent := time.Now()
	resp, err := d.client.Do(req)
	if err != nil {
		return outcome{err: fmt.Errorf("dispatch: push: %w", transportError(err)), took: time.Since(sent)}
	}
	out := outcome{status: resp.StatusCode}
	if !Acknowledges(resp.StatusCode) {
		out.reason = errorReason(resp.Body, req.Header.Get("Authorization"))
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxDrain))
	_ = resp.Body.Close()
	out.took = time.Since(sent)
	return out
}

// transportError drops the URL that net/http puts in its errors: the
// endpoint's query may hold a secret.
func transportError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return fmt.Errorf("%s: %w", ue.Op, ue.Err)
	}
	return err
}
