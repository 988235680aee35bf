package service

import (
	"context"
	"net/http"
	"strconv"
	"strings"
)

// Trace is a request's trace context, from X-Cloud-Trace-Context or W3C
// traceparent.
type Trace struct {
	TraceID string // 32 hex digits
	SpanID  string // Cloud Logging wants the span ID as 16 hex digits
	Sampled bool
}

// traceKey is the context key of the request's trace.
type traceKey struct{}

// traceFrom returns the trace stored in ctx by the Traces middleware.
func traceFrom(ctx context.Context) (Trace, bool) {
	t, ok := ctx.Value(traceKey{}).(Trace)
	return t, ok
}

// Traces puts the request's trace context, when it carries one, into the
// request context so that every log line of the request names it.
func Traces(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if t, ok := ParseTrace(r.Header); ok {
			r = r.WithContext(context.WithValue(r.Context(), traceKey{}, t))
		}
		next.ServeHTTP(w, r)
	})
}

// ParseTrace reads traceparent (W3C) or, failing that,
// X-Cloud-Trace-Context ("TRACE_ID/SPAN_ID;o=1", span ID in decimal).
func ParseTrace(h http.Header) (Trace, bool) {
	if v := h.Get("Traceparent"); v != "" { // canonical spelling: Get would allocate to canonicalize "traceparent"
		// version-traceid-parentid-flags: 2, 32, 16 and 2 characters
		if len(v) == 55 && v[2] == '-' && v[35] == '-' && v[52] == '-' {
			version, traceID, spanID, flags := v[:2], v[3:35], v[36:52], v[53:]
			if isHex(version, 2) && isHex(traceID, 32) && isHex(spanID, 16) && traceID != zeroTraceID {
				f, err := strconv.ParseUint(flags, 16, 8)
				return Trace{TraceID: traceID, SpanID: spanID, Sampled: err == nil && f&1 == 1}, true
			}
		}
	}
	return parseCloudTraceContext(h.Get("X-Cloud-Trace-Context"))
}

// parseCloudTraceContext reads an X-Cloud-Trace-Context value.
func parseCloudTraceContext(v string) (Trace, bool) {
	if v == "" {
		return Trace{}, false
	}
	traceID, rest, _ := strings.Cut(v, "/")
	if !isHex(traceID, 32) {
		return Trace{}, false
	}
	t := Trace{TraceID: strings.ToLower(traceID)}
	span, opts, _ := strings.Cut(rest, ";")
	if n, err := strconv.ParseUint(span, 10, 64); err == nil && n != 0 {
		t.SpanID = strconv.FormatUint(n, 16)
		t.SpanID = strings.Repeat("0", 16-len(t.SpanID)) + t.SpanID
	}
	t.Sampled = opts == "o=1"
	return t, true
}

const zeroTraceID = "00000000000000000000000000000000"

func isHex(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}
