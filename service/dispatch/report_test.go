package dispatch

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// reportLog collects what Config.Report is given.
type reportLog struct {
	mu  sync.Mutex
	all []Delivery
}

func (l *reportLog) add(d Delivery) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.all = append(l.all, d)
}

func (l *reportLog) list() []Delivery {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]Delivery(nil), l.all...)
}

func TestReportSettlesEveryAttempt(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		respond respondFunc
		tokens  TokenSource
		max     int
		want    []Delivery // MessageID, At and Took are not compared
	}{
		{
			name: "refused, then acknowledged",
			respond: func(w http.ResponseWriter, _ *http.Request, n int) int {
				if n == 1 {
					w.Header().Set("Content-Type", "application/json")
					w.WriteHeader(http.StatusUnauthorized)
					fmt.Fprint(w, `{"error":"token expired"}`)
					return 0
				}
				return 204
			},
			want: []Delivery{
				{Attempt: 1, Status: 401, Result: ResultRetry, Reason: "token expired", Backoff: DefaultMinBackoff},
				{Attempt: 2, Status: 204, Result: ResultAcked},
			},
		},
		{
			name: "a body that is not a JSON error gives no reason",
			respond: func(w http.ResponseWriter, _ *http.Request, n int) int {
				if n == 1 {
					w.WriteHeader(http.StatusInternalServerError)
					fmt.Fprint(w, "<html>internal error</html>")
					return 0
				}
				return 204
			},
			want: []Delivery{
				{Attempt: 1, Status: 500, Result: ResultRetry, Backoff: DefaultMinBackoff},
				{Attempt: 2, Status: 204, Result: ResultAcked},
			},
		},
		{
			name:    "last attempt dead-letters",
			respond: always(503),
			max:     2,
			want: []Delivery{
				{Attempt: 1, Status: 503, Result: ResultRetry, Backoff: DefaultMinBackoff},
				{Attempt: 2, Status: 503, Result: ResultDeadLettered},
			},
		},
		{
			name:    "token failure: no status, an error",
			respond: always(204),
			tokens:  failingOnce(),
			want: []Delivery{
				{Attempt: 1, Result: ResultRetry, Error: "dispatch: token: " + errSentinel.Error(), Backoff: DefaultMinBackoff},
				{Attempt: 2, Status: 204, Result: ResultAcked},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ps := newPubsub(t)
			ep := newEndpoint(t, tt.respond)
			log := &reportLog{}
			id := ps.publish("m", nil)
			r := start(t, ps, Config{Endpoint: ep.srv.URL, Tokens: tt.tokens, MaxAttempts: tt.max, Report: log.add}, (&noWait{}).install)
			for range len(tt.want) - boolInt(tt.tokens != nil) {
				ep.next(t)
			}
			r.stop(t)

			got := log.list()
			if len(got) != len(tt.want) {
				t.Fatalf("got %d reports %+v, want %d", len(got), got, len(tt.want))
			}
			for i, g := range got {
				if g.MessageID != id || g.At.IsZero() {
					t.Errorf("report %d: message %q at %v, want %q at a time", i, g.MessageID, g.At, id)
				}
				g.MessageID, g.At, g.Took = "", time.Time{}, 0
				if g != tt.want[i] {
					t.Errorf("report %d:\n got %+v\nwant %+v", i, g, tt.want[i])
				}
			}
		})
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// failingOnce is a TokenSource whose first call fails.
func failingOnce() TokenSource {
	var calls atomic.Int64
	return func(_ context.Context, audience string) (string, error) {
		if calls.Add(1) == 1 {
			return "", errSentinel
		}
		return testToken(audience), nil
	}
}

func TestErrorReason(t *testing.T) {
	t.Parallel()
	const tok = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJlLWJ5dGVz"
	tests := []struct {
		name string
		body string
		want string
	}{
		{"pushgate's error body", `{"error":"token expired"}`, "token expired"},
		{"other members are ignored", `{"error":"no","detail":"x"}`, "no"},
		{"not JSON", `<html>502</html>`, ""},
		{"no error member", `{"message":"x"}`, ""},
		{"error not a string", `{"error":{"code":1}}`, ""},
		{"control characters dropped", "{\"error\":\"a\\nb\\u001b[31m\"}", "ab[31m"},
		{"the token echoed", `{"error":"bad token ` + tok + `"}`, ""},
		{"a segment of the token echoed", `{"error":"bad signature c2lnbmF0dXJlLWJ5dGVz"}`, ""},
		{"clipped", `{"error":"` + strings.Repeat("x", 300) + `"}`, strings.Repeat("x", maxReason) + "…"},
		{"body over the bound", `{"error":"` + strings.Repeat("x", maxReasonBody) + `"}`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := errorReason(strings.NewReader(tt.body), "Bearer "+tok); got != tt.want {
				t.Errorf("errorReason(%.60q) = %q, want %q", tt.body, got, tt.want)
			}
		})
	}
}
