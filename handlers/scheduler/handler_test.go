package scheduler

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"
)

// syncBuffer is a log sink safe for concurrent handlers.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// route serves h at POST /scheduler/{job} as the service does.
func route(h http.Handler) http.Handler {
	r := chi.NewRouter()
	r.Method(http.MethodPost, "/scheduler/{job}", h)
	return r
}

// capture returns a handler that records the Call it gets, and a getter.
func capture(err error) (HandlerFunc, func() *Call) {
	var mu sync.Mutex
	var got *Call
	return func(ctx context.Context, c *Call) error {
			mu.Lock()
			defer mu.Unlock()
			got = c
			return err
		}, func() *Call {
			mu.Lock()
			defer mu.Unlock()
			return got
		}
}

func TestHandlerParsesCalls(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		path   string
		header map[string]string
		body   string
		want   Call // Header is not compared
	}{
		{
			name: "cloud scheduler",
			path: "/scheduler/from-path",
			header: map[string]string{
				"X-CloudScheduler":              "true",
				"X-CloudScheduler-JobName":      "nightly-report",
				"X-CloudScheduler-ScheduleTime": "2025-03-01T02:00:00.5Z",
			},
			body: `{"report":"sales"}`,
			want: Call{Source: SourceScheduler, Job: "nightly-report",
				ScheduleTime: time.Date(2025, 3, 1, 2, 0, 0, 500000000, time.UTC), Body: []byte(`{"report":"sales"}`)},
		},
		{
			name: "cloud tasks",
			path: "/scheduler/resize",
			header: map[string]string{
				"X-CloudTasks-QueueName":            "images",
				"X-CloudTasks-TaskName":             "task-123",
				"X-CloudTasks-TaskRetryCount":       "2",
				"X-CloudTasks-TaskExecutionCount":   "1",
				"X-CloudTasks-TaskETA":              "1700000000.123456",
				"X-CloudTasks-TaskPreviousResponse": "503",
				"X-CloudTasks-TaskRetryReason":      "HTTP status code 503",
			},
			want: Call{Source: SourceTasks, Job: "resize", Queue: "images", TaskName: "task-123",
				RetryCount: 2, ExecutionCount: 1, ETA: time.Unix(1700000000, 123456000).UTC(),
				PreviousResponse: 503, RetryReason: "HTTP status code 503"},
		},
		{
			name: "cloud tasks with whole-second ETA",
			path: "/scheduler/resize",
			header: map[string]string{
				"X-CloudTasks-QueueName": "images", "X-CloudTasks-TaskName": "t", "X-CloudTasks-TaskETA": "1700000000",
				"X-CloudTasks-TaskRetryCount": "0", "X-CloudTasks-TaskExecutionCount": "0",
			},
			want: Call{Source: SourceTasks, Job: "resize", Queue: "images", TaskName: "t", ETA: time.Unix(1700000000, 0).UTC()},
		},
		{
			name: "job from the URL when the header is absent",
			path: "/scheduler/cleanup",
			want: Call{Source: SourceDirect, Job: "cleanup"},
		},
		{
			name:   "scheduler without a job name header",
			path:   "/scheduler/cleanup",
			header: map[string]string{"X-CloudScheduler": "true"},
			want:   Call{Source: SourceScheduler, Job: "cleanup"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fn, got := capture(nil)
			r := httptest.NewRequest(http.MethodPost, tt.path, strings.NewReader(tt.body))
			for k, v := range tt.header {
				r.Header.Set(k, v)
			}
			rec := httptest.NewRecorder()
			route(NewHandler(fn, Options{})).ServeHTTP(rec, r)
			if rec.Code != http.StatusNoContent {
				t.Fatalf("status = %d, want 204 (body %q)", rec.Code, rec.Body.String())
			}
			c := got()
			if c == nil {
				t.Fatal("handler not called")
			}
			if c.Header.Get("X-CloudScheduler-JobName") != tt.header["X-CloudScheduler-JobName"] {
				t.Errorf("Header not passed through")
			}
			gotCall := *c
			gotCall.Header = nil
			if !reflect.DeepEqual(gotCall, tt.want) {
				t.Errorf("Call =\n%+v\nwant\n%+v", gotCall, tt.want)
			}
		})
	}
}

func TestHandlerBadHeaders(t *testing.T) {
	t.Parallel()
	tests := []struct {
		header, value, want string
	}{
		{"X-CloudScheduler-ScheduleTime", "yesterday", "bad header: X-CloudScheduler-ScheduleTime is not an RFC 3339 time"},
		{"X-CloudTasks-TaskRetryCount", "two", "bad header: X-CloudTasks-TaskRetryCount is not a count"},
		{"X-CloudTasks-TaskRetryCount", "-1", "bad header: X-CloudTasks-TaskRetryCount is not a count"},
		{"X-CloudTasks-TaskExecutionCount", "1.5", "bad header: X-CloudTasks-TaskExecutionCount is not a count"},
		{"X-CloudTasks-TaskPreviousResponse", "OK", "bad header: X-CloudTasks-TaskPreviousResponse is not a count"},
		{"X-CloudTasks-TaskETA", "2025-03-01T00:00:00Z", "bad header: X-CloudTasks-TaskETA is not seconds since the epoch"},
		{"X-CloudTasks-TaskETA", "-5", "bad header: X-CloudTasks-TaskETA is not seconds since the epoch"},
		{"X-CloudTasks-TaskETA", "1700000000.", "bad header: X-CloudTasks-TaskETA is not seconds since the epoch"},
		{"X-CloudTasks-TaskETA", "1700000000.1234567890x", "bad header: X-CloudTasks-TaskETA is not seconds since the epoch"},
	}
	for _, tt := range tests {
		t.Run(tt.header+"="+tt.value, func(t *testing.T) {
			t.Parallel()
			called := false
			h := NewHandler(func(ctx context.Context, c *Call) error { called = true; return nil }, Options{})
			r := httptest.NewRequest(http.MethodPost, "/scheduler/job", nil)
			r.Header.Set(tt.header, tt.value)
			rec := httptest.NewRecorder()
			route(h).ServeHTTP(rec, r)
			if rec.Code != http.StatusBadRequest {
				t.Errorf("status = %d, want 400", rec.Code)
			}
			if got := errorOf(t, rec); got != tt.want {
				t.Errorf("error = %q, want %q", got, tt.want)
			}
			if called {
				t.Error("handler called for a bad header")
			}
		})
	}
}

func errorOf(t *testing.T, rec *httptest.ResponseRecorder) string {
	t.Helper()
	var body struct {
		Error string `json:"error"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
		t.Fatalf("body %q is not a JSON error: %v", rec.Body.String(), err)
	}
	return body.Error
}

func TestHandlerErrorIs500AndLogged(t *testing.T) {
	t.Parallel()
	var logs syncBuffer
	logger := slog.New(slog.NewJSONHandler(&logs, nil))
	fn, _ := capture(errors.New("warehouse API: secret-detail"))
	r := httptest.NewRequest(http.MethodPost, "/scheduler/nightly", strings.NewReader("body-secret"))
	r.Header.Set("X-CloudScheduler", "true")
	rec := httptest.NewRecorder()
	route(NewHandler(fn, Options{Logger: logger})).ServeHTTP(rec, r)

	if rec.Code != http.StatusInternalServerError {
		t.Errorf("status = %d, want 500", rec.Code)
	}
	if got := errorOf(t, rec); got != "job failed" {
		t.Errorf("error = %q, want %q (never the handler's error text)", got, "job failed")
	}
	var line map[string]any
	if err := json.Unmarshal([]byte(logs.String()), &line); err != nil {
		t.Fatalf("log %q: %v", logs.String(), err)
	}
	call, _ := line["call"].(map[string]any)
	if line["level"] != "ERROR" || line["error"] != "warehouse API: secret-detail" || call["job"] != "nightly" || call["source"] != "scheduler" {
		t.Errorf("log line = %v, want ERROR with the error, job and source", line)
	}
	if strings.Contains(logs.String(), "body-secret") {
		t.Errorf("log contains the body: %s", logs.String())
	}
}

func TestHandlerBodyLimit(t *testing.T) {
	t.Parallel()
	fn, got := capture(nil)
	h := route(NewHandler(fn, Options{MaxBody: 8}))
	tests := []struct {
		body string
		want int
	}{
		{body: "12345678", want: http.StatusNoContent},
		{body: "123456789", want: http.StatusRequestEntityTooLarge},
	}
	for _, tt := range tests {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/scheduler/j", strings.NewReader(tt.body)))
		if rec.Code != tt.want {
			t.Errorf("body of %d bytes: status = %d, want %d", len(tt.body), rec.Code, tt.want)
		}
	}
	if c := got(); c == nil || string(c.Body) != "12345678" {
		t.Errorf("handler got %+v, want the 8-byte body", c)
	}
}

func TestHandlerContextDeadline(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		timeout time.Duration
		want    time.Duration
	}{
		{name: "default", want: DefaultTimeout},
		{name: "configured", timeout: time.Minute, want: time.Minute},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var left time.Duration
			var ok bool
			h := NewHandler(func(ctx context.Context, c *Call) error {
				var dl time.Time
				dl, ok = ctx.Deadline()
				left = time.Until(dl)
				return nil
			}, Options{Timeout: tt.timeout})
			route(h).ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodPost, "/scheduler/j", nil))
			if !ok || left <= 0 || left > tt.want {
				t.Errorf("deadline ok=%v in %v, want within (0, %v]", ok, left, tt.want)
			}
		})
	}
}

func TestHandlerCustomJobParam(t *testing.T) {
	t.Parallel()
	fn, got := capture(nil)
	r := chi.NewRouter()
	r.Method(http.MethodPost, "/tasks/{name}", NewHandler(fn, Options{JobParam: "name"}))
	r.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodPost, "/tasks/reindex", nil))
	if c := got(); c == nil || c.Job != "reindex" {
		t.Errorf("Call = %+v, want job reindex", c)
	}
}
