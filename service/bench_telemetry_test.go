package service

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
)

// BenchmarkPushPathTelemetry is BenchmarkPushPath with the OpenTelemetry
// SDK on, as serve wires it: otelhttp's HTTP server metrics and span, the
// route, authn's and push's instruments and the delivery span. Metrics go
// to a reader nobody collects from (a Prometheus exporter between scrapes);
// spans are sampled (the SDK's default, parentbased_always_on) and go
// through the batch span processor to an exporter that drops them, so the
// figure leaves out only the encoding and the write of an export. "off" is
// the zero Telemetry, BenchmarkPushPath's own setup.
//
//	GOMAXPROCS=1 go test -run '^$' -bench 'PushPath' -benchmem -count 6 ./service/
func BenchmarkPushPathTelemetry(b *testing.B) {
	for _, tc := range []struct {
		name            string
		metrics, traces bool
	}{
		{"off", false, false},
		{"metrics", true, false},
		{"traces", false, true},
		{"metrics+traces", true, true},
	} {
		b.Run(tc.name, func(b *testing.B) {
			var tel Telemetry
			if tc.metrics {
				mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
				b.Cleanup(func() { _ = mp.Shutdown(context.Background()) })
				tel.MeterProvider = mp
			}
			if tc.traces {
				tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(tracetest.NewNoopExporter()))
				b.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
				tel.TracerProvider = tp
			}
			if tel.on() {
				tel.ServerName = "pushgate:8080"
			}
			benchPush(b, newBenchServer(b, 0, func(d *Deps) { d.Telemetry = tel }), true)
		})
	}
}

// benchPush is BenchmarkPushPath's loop over s, with headers as Pub/Sub's
// push requests carry them; traceparent adds the one Pub/Sub sends when
// its push is traced.
func benchPush(b *testing.B, s *benchServer, traceparent bool) {
	body, at := benchEnvelope()
	req := httptest.NewRequest(http.MethodPost, "/pubsub/push", nil)
	req.Header.Set("Authorization", "Bearer "+s.googleToken(b))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "APIs-Google; (+https://developers.google.com/webmasters/APIs-Google.html)")
	if traceparent {
		req.Header.Set("Traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
	}
	req.ContentLength = int64(len(body))
	rb := &rewindBody{}
	w := &benchWriter{header: http.Header{}}

	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	var n uint64
	for b.Loop() {
		n++
		putBenchID(body, at, n)
		rb.Reset(body)
		req.Body = rb
		w.reset()
		s.handler.ServeHTTP(w, req)
		if w.status != http.StatusNoContent {
			b.Fatalf("status %d, want 204", w.status)
		}
	}
}
