package dispatch

import (
	"encoding/json"
	"io"
	"strings"
	"time"
	"unicode/utf8"
)

// Result says how a delivery attempt was settled.
type Result string

const (
	// ResultAcked: the endpoint acknowledged the message.
	ResultAcked Result = "acked"
	// ResultRetry: the attempt failed and the message is offered again
	// after Delivery.Backoff.
	ResultRetry Result = "retry"
	// ResultDeadLettered: the attempt was the last one; the message was
	// given up on (see Config.MaxAttempts).
	ResultDeadLettered Result = "dead-lettered"
)

// Delivery is one delivery attempt as Config.Report sees it. It holds no
// token and none of the message's data or attributes.
type Delivery struct {
	MessageID string    `json:"messageId"`
	Attempt   int       `json:"attempt"`
	At        time.Time `json:"at"` // when the attempt was settled
	// Status is the endpoint's status; 0 when none came (see Error).
	Status int    `json:"status,omitempty"`
	Result Result `json:"result"`
	// Reason is the endpoint's short reason for a status that does not
	// acknowledge (the "error" member of a JSON body, as pushgate answers);
	// "" when it gave none.
	Reason string `json:"reason,omitempty"`
	// Error says why no status came: the token source or the transport
	// failed, or the ack deadline passed.
	Error string `json:"error,omitempty"`
	// Backoff is the wait before the next attempt, for ResultRetry.
	Backoff time.Duration `json:"backoffNs,omitempty"`
	// Took is how long the endpoint took to answer.
	Took time.Duration `json:"tookNs"`
}

// report hands the settled attempt to Config.Report, if any.
func (d *Dispatcher) report(id string, attempt int, out outcome, res Result, backoff time.Duration) {
	if d.cfg.Report == nil {
		return
	}
	dl := Delivery{
		MessageID: id, Attempt: attempt, At: time.Now(), Status: out.status,
		Result: res, Reason: out.reason, Backoff: backoff, Took: out.took,
	}
	if out.err != nil {
		dl.Error = out.err.Error()
	}
	d.cfg.Report(dl)
}

// Bounds of what errorReason reads and keeps.
const (
	maxReasonBody = 4 << 10
	maxReason     = 200
)

// errorReason reads the "error" member of a JSON error body, the short
// reason pushgate (and many services) answer with, from at most 4 KiB of
// body. It fails closed: the reason is dropped when it holds the token the
// request carried in authorization, or any segment of it, and it is
// clipped and stripped of control characters, as it goes into logs.
func errorReason(body io.Reader, authorization string) string {
	b, err := io.ReadAll(io.LimitReader(body, maxReasonBody))
	if err != nil {
		return ""
	}
	var e struct {
		Error string `json:"error"`
	}
	if json.Unmarshal(b, &e) != nil || e.Error == "" {
		return ""
	}
	reason := strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || r == utf8.RuneError {
			return -1
		}
		return r
	}, e.Error)
	if tok := strings.TrimSpace(strings.TrimPrefix(authorization, "Bearer ")); tok != "" {
		for _, part := range append(strings.Split(tok, "."), tok) {
			if len(part) >= 8 && strings.Contains(reason, part) {
				return ""
			}
		}
	}
	if len(reason) > maxReason {
		reason = strings.ToValidUTF8(reason[:maxReason], "") + "…"
	}
	return reason
}
