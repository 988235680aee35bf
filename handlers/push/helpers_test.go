package push

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeClock is an injected clock that moves only when told to.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// logBuffer collects JSON log lines from concurrent requests.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// lines returns every log line, decoded.
func (b *logBuffer) lines(t *testing.T) []map[string]any {
	t.Helper()
	var out []map[string]any
	sc := bufio.NewScanner(strings.NewReader(b.String()))
	for sc.Scan() {
		var line map[string]any
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			t.Fatalf("log line %q is not JSON: %v", sc.Text(), err)
		}
		out = append(out, line)
	}
	return out
}

func newTestLogger() (*slog.Logger, *logBuffer) {
	buf := &logBuffer{}
	return slog.New(slog.NewJSONHandler(buf, &slog.HandlerOptions{Level: slog.LevelDebug})), buf
}

// wrappedBody is a camelCase push envelope for id carrying data.
func wrappedBody(id, data string) string {
	return fmt.Sprintf(`{"message":{"data":%q,"attributes":{"k":"v"},"messageId":%q,"publishTime":"2025-03-01T12:00:00.5Z"},"subscription":"projects/p/subscriptions/s"}`,
		b64(data), id)
}

func b64(s string) string {
	return base64.StdEncoding.EncodeToString([]byte(s))
}

// newPushRequest builds a POST /push request with body and headers.
func newPushRequest(body string, header map[string]string) *http.Request {
	r := httptest.NewRequest(http.MethodPost, "/push", strings.NewReader(body))
	for k, v := range header {
		r.Header.Set(k, v)
	}
	return r
}

// serve runs h on a request and returns the recorded response.
func serve(h http.Handler, r *http.Request) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	return rec
}

// errorBody decodes a {"error":...} response body.
func errorBody(t *testing.T, rec *httptest.ResponseRecorder) string {
	t.Helper()
	if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q, want application/json", ct)
	}
	var body struct {
		Error string `json:"error"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
		t.Fatalf("body %q is not a JSON error: %v", rec.Body.String(), err)
	}
	return body.Error
}

// counter counts handler calls.
type counter struct {
	mu sync.Mutex
	n  int
}

func (c *counter) inc() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.n++
}

func (c *counter) get() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n
}

// faultyStore wraps a Store and fails the operations it is told to.
type faultyStore struct {
	Store
	claimErr, doneErr, releaseErr error
}

func (s *faultyStore) Claim(ctx context.Context, id string, lease time.Duration) (ClaimResult, error) {
	if s.claimErr != nil {
		return InProgress, s.claimErr
	}
	return s.Store.Claim(ctx, id, lease)
}

func (s *faultyStore) Done(ctx context.Context, id string, retain time.Duration) error {
	if s.doneErr != nil {
		return s.doneErr
	}
	return s.Store.Done(ctx, id, retain)
}

func (s *faultyStore) Release(ctx context.Context, id string) error {
	if s.releaseErr != nil {
		return s.releaseErr
	}
	return s.Store.Release(ctx, id)
}
