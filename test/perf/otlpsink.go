package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
)

// otlpSinkPlaceholder in -service-env is replaced with the OTLP sink's URL,
// e.g. OTEL_TRACES_EXPORTER=otlp,OTEL_EXPORTER_OTLP_ENDPOINT={otlp}.
const otlpSinkPlaceholder = "{otlp}"

// otlpSink stands in for an OpenTelemetry Collector sidecar: it takes
// OTLP/HTTP exports (POST /v1/traces, /v1/metrics, /v1/logs), reads them
// whole and answers 200 with an empty response message, as a collector
// that accepts everything does. It runs in the harness, on the load
// generator's CPU, so the server pays for encoding and sending only.
type otlpSink struct {
	*httptest.Server
	exports atomic.Int64
	bytes   atomic.Int64
}

func newOTLPSink() *otlpSink {
	s := &otlpSink{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			http.Error(w, "POST only", http.StatusMethodNotAllowed)
			return
		}
		n, _ := io.Copy(io.Discard, r.Body)
		s.exports.Add(1)
		s.bytes.Add(n)
		w.Header().Set("Content-Type", "application/x-protobuf")
		w.WriteHeader(http.StatusOK)
	}))
	return s
}
