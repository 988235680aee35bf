package service

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
)

// logLines decodes every line of buf as one JSON object, failing on any
// line that is not.
func logLines(t *testing.T, buf *bytes.Buffer) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		if line == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line is not JSON: %q", line)
		}
		out = append(out, m)
	}
	return out
}

func TestLoggerCloudLoggingShape(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	logger := NewLogger(&buf, "acme-prod", slog.LevelDebug)
	h := Traces(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		logger.WarnContext(r.Context(), "something odd", "n", 1)
	}))
	req := httptest.NewRequest("GET", "/", nil)
	req.Header.Set("X-Cloud-Trace-Context", "105445aa7843bc8bf206b12000100000/1;o=1")
	h.ServeHTTP(httptest.NewRecorder(), req)
	logger.Error("no request")

	lines := logLines(t, &buf)
	if len(lines) != 2 {
		t.Fatalf("got %d lines, want 2", len(lines))
	}
	first := lines[0]
	for k, want := range map[string]any{
		"severity":                             "WARNING",
		"message":                              "something odd",
		"logging.googleapis.com/trace":         "projects/acme-prod/traces/105445aa7843bc8bf206b12000100000",
		"logging.googleapis.com/spanId":        "0000000000000001",
		"logging.googleapis.com/trace_sampled": true,
	} {
		if got := first[k]; got != want {
			t.Errorf("%s: got %v, want %v", k, got, want)
		}
	}
	if _, ok := first["time"]; !ok {
		t.Error("no time field")
	}
	if got := lines[1]["severity"]; got != "ERROR" {
		t.Errorf("severity: got %v, want ERROR", got)
	}
	if _, ok := lines[1]["logging.googleapis.com/trace"]; ok {
		t.Error("a line without a request context has a trace")
	}
}

func TestParseTrace(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		header map[string]string
		want   Trace
		ok     bool
	}{
		{"cloud", map[string]string{"X-Cloud-Trace-Context": "105445AA7843BC8BF206B12000100000/255;o=0"},
			Trace{TraceID: "105445aa7843bc8bf206b12000100000", SpanID: "00000000000000ff"}, true},
		{"cloud without span", map[string]string{"X-Cloud-Trace-Context": "105445aa7843bc8bf206b12000100000"},
			Trace{TraceID: "105445aa7843bc8bf206b12000100000"}, true},
		{"traceparent", map[string]string{"traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"},
			Trace{TraceID: "4bf92f3577b34da6a3ce929d0e0e4736", SpanID: "00f067aa0ba902b7", Sampled: true}, true},
		{"traceparent wins", map[string]string{
			"traceparent":           "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00",
			"X-Cloud-Trace-Context": "105445aa7843bc8bf206b12000100000/1"},
			Trace{TraceID: "4bf92f3577b34da6a3ce929d0e0e4736", SpanID: "00f067aa0ba902b7"}, true},
		{"garbage", map[string]string{"X-Cloud-Trace-Context": "nope"}, Trace{}, false},
		{"zero traceparent", map[string]string{"traceparent": "00-00000000000000000000000000000000-00f067aa0ba902b7-01"}, Trace{}, false},
		{"none", nil, Trace{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			for k, v := range tt.header {
				h.Set(k, v)
			}
			got, ok := ParseTrace(h)
			if got != tt.want || ok != tt.ok {
				t.Errorf("got %+v, %v; want %+v, %v", got, ok, tt.want, tt.ok)
			}
		})
	}
}

func TestAccessLogOneLineNoQuery(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	logger := NewLogger(&buf, "p-123456", slog.LevelInfo)
	h := RequestID()(Traces(AccessLog(logger, AccessLogErrors)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusTeapot)
		_, _ = w.Write([]byte("short and stout"))
	}))))
	req := httptest.NewRequest("GET", "/x?token=eyJsecret", nil)
	req.Header.Set("Authorization", "Bearer eyJsecret")
	req.Header.Set("User-Agent", "curl/8.5.0")
	req.Header.Set("X-Forwarded-For", "198.51.100.7, 203.0.113.9")
	req.Header.Set("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
	h.ServeHTTP(httptest.NewRecorder(), req)

	if strings.Contains(buf.String(), "eyJsecret") {
		t.Fatalf("access log holds the token: %s", buf.String())
	}
	lines := logLines(t, &buf)
	if len(lines) != 1 {
		t.Fatalf("got %d lines, want 1", len(lines))
	}
	l := lines[0]
	hr, _ := l["httpRequest"].(map[string]any)
	if hr == nil {
		t.Fatalf("no httpRequest: %v", l)
	}
	if got, want := hr["status"], float64(418); got != want {
		t.Errorf("status: got %v, want %v", got, want)
	}
	if got, want := hr["requestUrl"], "/x"; got != want {
		t.Errorf("requestUrl: got %v, want %v", got, want)
	}
	if got, _ := hr["latency"].(string); !regexp.MustCompile(`^[0-9]+\.[0-9]{6}s$`).MatchString(got) {
		t.Errorf("latency: got %q, want seconds with six decimals and an s, as 0.000412s", got)
	}
	for k, want := range map[string]any{
		"requestMethod": "GET", "responseSize": float64(15), "requestSize": float64(0),
		"userAgent": "curl/8.5.0", "remoteIp": "203.0.113.9", "protocol": "HTTP/1.1",
	} {
		if got := hr[k]; got != want {
			t.Errorf("%s: got %v, want %v", k, got, want)
		}
	}
	if got, want := l["message"], "GET /x 418"; got != want {
		t.Errorf("message: got %v, want %v", got, want)
	}
	if got, want := l["severity"], "WARNING"; got != want {
		t.Errorf("severity: got %v, want %v", got, want)
	}
	if l["logging.googleapis.com/trace"] != "projects/p-123456/traces/4bf92f3577b34da6a3ce929d0e0e4736" {
		t.Errorf("trace: got %v", l["logging.googleapis.com/trace"])
	}
	if l["requestId"] == "" || l["requestId"] == nil {
		t.Error("no requestId")
	}
}

func TestRecoverServesOn(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	logger := NewLogger(&buf, "", slog.LevelInfo)
	h := Recover(logger)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/boom" {
			panic("kaboom")
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/boom", nil))
	if rec.Code != http.StatusInternalServerError {
		t.Errorf("panic: got %d, want 500", rec.Code)
	}
	if !strings.Contains(rec.Body.String(), `"error"`) || strings.Contains(rec.Body.String(), "kaboom") {
		t.Errorf("panic body: got %q, want a generic JSON error", rec.Body.String())
	}
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/ok", nil))
	if rec.Code != http.StatusNoContent {
		t.Errorf("after panic: got %d, want 204", rec.Code)
	}
	lines := logLines(t, &buf)
	if len(lines) != 1 || lines[0]["severity"] != "ERROR" || !strings.Contains(lines[0]["stack"].(string), "logging_test.go") {
		t.Errorf("want one ERROR line with the stack, got %v", lines)
	}
}

// TestBodyLimit: bodies over the limit get 413, by Content-Length at once
// with a line saying why (a handler that reads past the limit logs its own).
func TestBodyLimit(t *testing.T) {
	t.Parallel()
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var v any
		if err := json.NewDecoder(r.Body).Decode(&v); err != nil {
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				w.WriteHeader(http.StatusRequestEntityTooLarge)
				return
			}
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	tests := []struct {
		name     string
		body     string
		chunked  bool
		want     int
		wantLogs int
	}{
		{"small", `"abc"`, false, 204, 0},
		{"content-length over", `"abcdefghijklmnop"`, false, 413, 1},
		{"chunked over", `"abcdefghijklmnop"`, true, 413, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var buf bytes.Buffer
			h := BodyLimit(NewLogger(&buf, "", slog.LevelInfo), 10)(handler)
			req := httptest.NewRequest("POST", "/", strings.NewReader(tt.body))
			if tt.chunked {
				req.ContentLength = -1
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != tt.want {
				t.Errorf("got %d, want %d", rec.Code, tt.want)
			}
			lines := logLines(t, &buf)
			if len(lines) != tt.wantLogs {
				t.Fatalf("got %d log lines, want %d: %v", len(lines), tt.wantLogs, lines)
			}
			if tt.wantLogs > 0 && (lines[0]["severity"] != "WARNING" || lines[0]["limit"] != float64(10)) {
				t.Errorf("refusal line %v, want a WARNING naming the limit", lines[0])
			}
		})
	}
}

func TestRequestID(t *testing.T) {
	t.Parallel()
	var seen []string
	h := RequestID()(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen = append(seen, RequestIDFrom(r.Context()))
	}))
	for _, in := range []string{"abc-123", "", "bad id with spaces", strings.Repeat("x", 65)} {
		req := httptest.NewRequest("GET", "/", nil)
		if in != "" {
			req.Header.Set("X-Request-Id", in)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if got := rec.Header().Get("X-Request-Id"); got != seen[len(seen)-1] || got == "" {
			t.Errorf("header %q, context %q", got, seen[len(seen)-1])
		}
	}
	if seen[0] != "abc-123" {
		t.Errorf("a plain caller ID is kept: got %q", seen[0])
	}
	if seen[1] == seen[2] || seen[2] == "bad id with spaces" || len(seen[3]) > 64 {
		t.Errorf("generated IDs: %q", seen[1:])
	}
	if RequestIDFrom(context.Background()) != "" {
		t.Error("RequestIDFrom outside a request")
	}
}

// RequestID served again on a request's own context (a sub-request) gives
// the inner response its ID and leaves the outer response's header alone.
func TestRequestIDReentered(t *testing.T) {
	t.Parallel()
	mw := RequestID()
	inner := httptest.NewRecorder()
	var innerID, outerAfter string
	var innerTrace Trace
	h := Traces(mw(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sub := httptest.NewRequest("GET", "/sub", nil).WithContext(r.Context())
		sub.Header.Set("X-Request-Id", "inner-1")
		mw(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
			innerID = RequestIDFrom(r.Context())
			innerTrace, _ = traceFrom(r.Context())
		})).ServeHTTP(inner, sub)
		// What the outer request's later log lines, its access line
		// included, will name.
		outerAfter = RequestIDFrom(r.Context())
	})))
	outer := httptest.NewRecorder()
	req := httptest.NewRequest("GET", "/", nil)
	req.Header.Set("X-Request-Id", "outer-1")
	req.Header.Set("X-Cloud-Trace-Context", "105445aa7843bc8bf206b12000100000/1;o=1")
	h.ServeHTTP(outer, req)
	if got := outer.Header().Get("X-Request-Id"); got != "outer-1" {
		t.Errorf("outer response's X-Request-Id = %q, want outer-1", got)
	}
	if got := inner.Header().Get("X-Request-Id"); got != "inner-1" {
		t.Errorf("inner response's X-Request-Id = %q, want inner-1", got)
	}
	if innerID != "inner-1" || outerAfter != "outer-1" {
		t.Errorf("request IDs: inner %q, outer after the sub-request %q; want inner-1, outer-1", innerID, outerAfter)
	}
	if innerTrace.TraceID != "105445aa7843bc8bf206b12000100000" {
		t.Errorf("the sub-request's trace = %+v, want its caller's", innerTrace)
	}
}

func TestGRPCLoggerWritesJSON(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	g := grpcLogger{NewLogger(&buf, "", slog.LevelInfo)}
	g.Info("dropped")
	g.Warningf("transport: %s", "closing")
	g.Errorln("boom")
	lines := logLines(t, &buf)
	if len(lines) != 2 || lines[0]["severity"] != "WARNING" || lines[0]["message"] != "transport: closing" || lines[1]["severity"] != "ERROR" {
		t.Errorf("got %v", lines)
	}
}

func TestLoggerAttributeNamedMessageDoesNotCollide(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	NewLogger(&buf, "", slog.LevelInfo).Info("the text", "message", "an attribute", "severity", "x")
	line := strings.TrimSpace(buf.String())
	if strings.Count(line, `"message":`) != 1 || strings.Count(line, `"severity":`) != 1 {
		t.Fatalf("duplicate keys: %s", line)
	}
	l := logLines(t, &buf)[0]
	if l["message"] != "the text" || l["message_attr"] != "an attribute" || l["severity"] != "INFO" {
		t.Errorf("got %v", l)
	}
}
