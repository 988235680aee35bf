package service

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
)

// recording is the SDK with an in-memory metric reader and span recorder,
// handed to NewServer as its Telemetry.
type recording struct {
	reader *sdkmetric.ManualReader
	spans  *tracetest.SpanRecorder
	tel    Telemetry
}

func newRecording(metrics, traces bool) *recording {
	r := &recording{reader: sdkmetric.NewManualReader(), spans: tracetest.NewSpanRecorder()}
	r.tel.ServerName = "pushgate-test:8080"
	if metrics {
		r.tel.MeterProvider = sdkmetric.NewMeterProvider(sdkmetric.WithReader(r.reader))
	}
	if traces {
		r.tel.TracerProvider = sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(r.spans))
	}
	return r
}

// requestDurations returns the attribute sets of http.server.request.duration.
func (r *recording) requestDurations(t *testing.T) []attribute.Set {
	t.Helper()
	var rm metricdata.ResourceMetrics
	if err := r.reader.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	var sets []attribute.Set
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if m.Name == "http.server.request.duration" {
				for _, dp := range m.Data.(metricdata.Histogram[float64]).DataPoints {
					sets = append(sets, dp.Attributes)
				}
			}
		}
	}
	return sets
}

// syncLog is a log destination safe for concurrent writes.
type syncLog struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *syncLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *syncLog) lines(t *testing.T) []map[string]any {
	l.mu.Lock()
	defer l.mu.Unlock()
	return logLines(t, &l.buf)
}

func value(set attribute.Set, key string) (string, bool) {
	v, ok := set.Value(attribute.Key(key))
	return v.String(), ok
}

// TestHTTPRouteIsThePattern: the HTTP server metrics and spans carry chi's
// route pattern as http.route, never the path; a request that matched no
// route has none; server.address is the configured name, whatever Host
// the caller sent.
func TestHTTPRouteIsThePattern(t *testing.T) {
	t.Parallel()
	rec := newRecording(true, true)
	s := newBenchServer(t, 0, func(d *Deps) { d.Telemetry = rec.tel })
	tok := s.googleToken(t)
	tests := []struct {
		method, path string
		route        string // "" for none
		status       int
	}{
		{"GET", "/whoami", "/whoami", 200},
		{"POST", "/scheduler/nightly-7f3a9", "/scheduler/{job}", 204},
		{"GET", "/api/events", "/api/events", 403},
		{"GET", "/no/such/path/eyJhbGciOi", "", 404},
	}
	for _, tt := range tests {
		req := httptest.NewRequest(tt.method, tt.path, nil)
		req.Host = "attacker-chosen.example:31337"
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("X-Forwarded-For", "6.6.6.6, 203.0.113.9") // the client wrote the first
		w := httptest.NewRecorder()
		s.handler.ServeHTTP(w, req)
		if w.Code != tt.status {
			t.Fatalf("%s %s: status %d, want %d", tt.method, tt.path, w.Code, tt.status)
		}
	}

	routes := map[string]bool{}
	for _, set := range rec.requestDurations(t) {
		route, _ := value(set, "http.route")
		routes[route] = true
		for _, kv := range set.ToSlice() {
			if v := kv.Value.String(); strings.Contains(v, "nightly-7f3a9") || strings.Contains(v, "eyJ") || strings.Contains(v, "attacker") {
				t.Errorf("metric attribute %s=%q holds a raw request value", kv.Key, v)
			}
		}
		if addr, _ := value(set, "server.address"); addr != "pushgate-test" {
			t.Errorf("server.address = %q, want pushgate-test", addr)
		}
		if port, _ := value(set, "server.port"); port != "8080" {
			t.Errorf("server.port = %q, want 8080", port)
		}
	}
	for _, tt := range tests {
		if !routes[tt.route] {
			t.Errorf("no http.server.request.duration point with http.route %q (got %v)", tt.route, routes)
		}
	}

	names := map[string]string{}
	for _, span := range rec.spans.Ended() {
		route := ""
		for _, kv := range span.Attributes() {
			if kv.Key == "http.route" {
				route = kv.Value.String()
			}
			if kv.Key == "client.address" && span.SpanKind() == trace.SpanKindServer && kv.Value.String() != "203.0.113.9" {
				t.Errorf("span %q: client.address %q, want the entry Google's front end appended, 203.0.113.9", span.Name(), kv.Value.String())
			}
		}
		names[span.Name()] = route
	}
	for name, route := range map[string]string{"GET /whoami": "/whoami", "POST /scheduler/{job}": "/scheduler/{job}", "GET": ""} {
		if got, ok := names[name]; !ok || got != route {
			t.Errorf("span %q: http.route %q (present %v), want %q; spans %v", name, got, ok, route, names)
		}
	}
}

// TestPushTraceInLogs: a push delivery whose message carries
// googclient_traceparent logs with the publisher's trace ID and the
// delivery span's ID; the access line of the same request carries the
// request's own span, which continues the request's traceparent.
func TestPushTraceInLogs(t *testing.T) {
	t.Parallel()
	const (
		publisherTrace = "4bf92f3577b34da6a3ce929d0e0e4736"
		publisherSpan  = "00f067aa0ba902b7"
		requestTrace   = "0af7651916cd43dd8448eb211c80319c"
	)
	rec := newRecording(false, true)
	logs := &syncLog{}
	s := newBenchServer(t, 0, func(d *Deps) {
		d.Telemetry = rec.tel
		d.Logger = NewLogger(logs, testProject, slog.LevelDebug)
		d.AccessLog = AccessLogAll
	})
	body := fmt.Sprintf(`{"message":{"data":"e30=","messageId":"m-1","attributes":{"googclient_traceparent":"00-%s-%s-01"}},`+
		`"subscription":"projects/%s/subscriptions/orders"}`, publisherTrace, publisherSpan, testProject)
	req := httptest.NewRequest(http.MethodPost, "/pubsub/push", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+s.googleToken(t))
	req.Header.Set("Traceparent", "00-"+requestTrace+"-b7ad6b7169203331-01")
	w := httptest.NewRecorder()
	s.handler.ServeHTTP(w, req)
	if w.Code != http.StatusNoContent {
		t.Fatalf("status %d, want 204", w.Code)
	}

	var delivery, request sdktrace.ReadOnlySpan
	for _, sp := range rec.spans.Ended() {
		switch sp.SpanKind() {
		case trace.SpanKindConsumer:
			delivery = sp
		case trace.SpanKindServer:
			request = sp
		}
	}
	if delivery == nil || request == nil {
		t.Fatalf("spans %v: want a server and a consumer span", rec.spans.Ended())
	}
	if got := request.SpanContext().TraceID().String(); got != requestTrace || request.Name() != "POST /pubsub/push" {
		t.Errorf("request span %q in trace %s, want \"POST /pubsub/push\" in the traceparent's %s", request.Name(), got, requestTrace)
	}
	if got := delivery.SpanContext().TraceID().String(); got != publisherTrace {
		t.Errorf("delivery span in trace %s, want the publisher's %s", got, publisherTrace)
	}
	if l := delivery.Links(); len(l) != 1 || l[0].SpanContext.SpanID() != request.SpanContext().SpanID() {
		t.Errorf("delivery links %v, want the request span", l)
	}

	var sawDelivery, sawAccess bool
	for _, line := range logs.lines(t) {
		msg, _ := line["message"].(string)
		switch {
		case msg == "message processed":
			sawDelivery = true
			if got, want := line[traceField], "projects/"+testProject+"/traces/"+publisherTrace; got != want {
				t.Errorf("delivery line trace %v, want %s", got, want)
			}
			if got, want := line[spanIDField], delivery.SpanContext().SpanID().String(); got != want {
				t.Errorf("delivery line spanId %v, want the delivery span's %s", got, want)
			}
		case line["httpRequest"] != nil:
			sawAccess = true
			if got, want := line[traceField], "projects/"+testProject+"/traces/"+requestTrace; got != want {
				t.Errorf("access line trace %v, want %s", got, want)
			}
			if got, want := line[spanIDField], request.SpanContext().SpanID().String(); got != want {
				t.Errorf("access line spanId %v, want the request span's %s", got, want)
			}
		}
	}
	if !sawDelivery || !sawAccess {
		t.Errorf("delivery line %v, access line %v: want both", sawDelivery, sawAccess)
	}
}

// TestCloudTraceContextContinued: with no traceparent, the request's span
// continues X-Cloud-Trace-Context (span ID in decimal).
func TestCloudTraceContextContinued(t *testing.T) {
	t.Parallel()
	rec := newRecording(false, true)
	s := newBenchServer(t, 0, func(d *Deps) { d.Telemetry = rec.tel })
	req := httptest.NewRequest(http.MethodGet, "/healthz", nil)
	req.Header.Set("X-Cloud-Trace-Context", "105445aa7843bc8bf206b12000100000/255;o=1")
	s.handler.ServeHTTP(httptest.NewRecorder(), req)
	spans := rec.spans.Ended()
	if len(spans) != 1 {
		t.Fatalf("%d spans, want 1", len(spans))
	}
	sp := spans[0]
	if sp.SpanContext().TraceID().String() != "105445aa7843bc8bf206b12000100000" || sp.Parent().SpanID().String() != "00000000000000ff" || !sp.Parent().IsSampled() {
		t.Errorf("span trace %s parent %s sampled %v, want the header's trace, parent 00000000000000ff, sampled",
			sp.SpanContext().TraceID(), sp.Parent().SpanID(), sp.Parent().IsSampled())
	}
}

// TestLogTraceFromHeadersWithoutTraces: with metrics on and traces off,
// log lines take their trace from the request's headers exactly as with
// telemetry off.
func TestLogTraceFromHeadersWithoutTraces(t *testing.T) {
	t.Parallel()
	for _, metrics := range []bool{false, true} {
		t.Run(fmt.Sprint("metrics ", metrics), func(t *testing.T) {
			t.Parallel()
			rec := newRecording(metrics, false)
			logs := &syncLog{}
			s := newBenchServer(t, 0, func(d *Deps) {
				d.Telemetry = rec.tel
				d.Logger = NewLogger(logs, testProject, slog.LevelInfo)
				d.AccessLog = AccessLogAll
			})
			req := httptest.NewRequest(http.MethodGet, "/healthz", nil)
			req.Header.Set("X-Cloud-Trace-Context", "105445aa7843bc8bf206b12000100000/1;o=1")
			s.handler.ServeHTTP(httptest.NewRecorder(), req)
			lines := logs.lines(t)
			if len(lines) != 1 {
				t.Fatalf("%d lines, want the access line", len(lines))
			}
			for k, want := range map[string]any{
				traceField:        "projects/" + testProject + "/traces/105445aa7843bc8bf206b12000100000",
				spanIDField:       "0000000000000001",
				traceSampledField: true,
			} {
				if got := lines[0][k]; got != want {
					t.Errorf("%s = %v, want %v", k, got, want)
				}
			}
		})
	}
}
