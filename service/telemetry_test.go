package service

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/attribute"
)

// freeLoopbackPort returns a TCP port that was free on 127.0.0.1 a moment ago.
func freeLoopbackPort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	return port
}

// telemetryEnv sets vars in the process environment (which the
// OpenTelemetry libraries read) and returns the service's configuration
// read from the same values.
func telemetryEnv(t *testing.T, vars map[string]string) Config {
	t.Helper()
	m := map[string]string{"AUTH_GOOGLE_AUDIENCES": testAudience, "GOOGLE_CLOUD_PROJECT": testProject}
	for _, k := range []string{"OTEL_METRICS_EXPORTER", "OTEL_TRACES_EXPORTER", "OTEL_SERVICE_NAME", "OTEL_RESOURCE_ATTRIBUTES",
		"OTEL_EXPORTER_PROMETHEUS_HOST", "OTEL_EXPORTER_PROMETHEUS_PORT", "OTEL_SDK_DISABLED"} {
		t.Setenv(k, "") // empty is unset to every library here
	}
	for k, v := range vars {
		m[k] = v
		if strings.HasPrefix(k, "OTEL_") {
			t.Setenv(k, v)
		}
	}
	c, err := LoadConfig(env(m))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func discardLogger() *slog.Logger { return NewLogger(io.Discard, "", slog.LevelInfo) }

// TestTelemetryOffIsZero: with no exporter configured nothing is started
// and NewServer gets the zero Telemetry (no middleware, no instruments).
func TestTelemetryOffIsZero(t *testing.T) {
	cfg := telemetryEnv(t, nil)
	s, err := startTelemetry(context.Background(), cfg, "8080", discardLogger())
	if err != nil {
		t.Fatal(err)
	}
	if s.Telemetry != (Telemetry{}) || len(s.shutdown) != 0 {
		t.Errorf("got %+v, want the zero Telemetry", s.Telemetry)
	}
	if n := len(httpTelemetry(s.Telemetry)); n != 0 {
		t.Errorf("%d middleware with telemetry off, want none", n)
	}
}

// TestTelemetryPrometheus: OTEL_METRICS_EXPORTER=prometheus serves the
// contract's metrics and the HTTP server metrics on its own port, with the
// resource in target_info; Shutdown closes the port.
func TestTelemetryPrometheus(t *testing.T) {
	port := freeLoopbackPort(t)
	cfg := telemetryEnv(t, map[string]string{
		"OTEL_METRICS_EXPORTER":         "prometheus",
		"OTEL_EXPORTER_PROMETHEUS_HOST": "127.0.0.1",
		"OTEL_EXPORTER_PROMETHEUS_PORT": port,
		"K_SERVICE":                     "orders",
		"K_REVISION":                    "orders-00042-xyz",
	})
	s, err := startTelemetry(context.Background(), cfg, "8080", discardLogger())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Shutdown(context.Background())
	if s.TracerProvider != nil {
		t.Error("a tracer provider with traces off")
	}
	srv := newBenchServer(t, 0, func(d *Deps) { d.Telemetry = s.Telemetry })
	body, at := benchEnvelope()
	putBenchID(body, at, 1)
	req := httptest.NewRequest(http.MethodPost, "/pubsub/push", strings.NewReader(string(body)))
	req.Header.Set("Authorization", "Bearer "+srv.googleToken(t))
	w := httptest.NewRecorder()
	srv.handler.ServeHTTP(w, req)
	if w.Code != http.StatusNoContent {
		t.Fatalf("push: %d", w.Code)
	}

	resp, err := http.Get("http://127.0.0.1:" + port + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	text := string(b)
	for _, want := range []string{
		`pushgate_push_deliveries_total{`,
		`outcome="processed"`,
		`subscription="projects/` + testProject + `/subscriptions/orders"`,
		`pushgate_push_handler_duration_seconds_bucket{`,
		`pushgate_push_message_age_seconds_count{`,
		`pushgate_auth_decisions_total{`,
		`http_server_request_duration_seconds_count{`,
		`http_route="/pubsub/push"`,
		`server_address="orders"`,
		`faas_name="orders"`,
		`faas_version="orders-00042-xyz"`,
		`cloud_platform="gcp_cloud_run"`,
		`service_name="orders"`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if t.Failed() {
		t.Logf("/metrics:\n%s", text)
	}
	if err := s.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := net.Dial("tcp", "127.0.0.1:"+port); err == nil {
		t.Error("the /metrics port still listens after Shutdown")
	}
}

// TestTelemetryPrometheusPortTaken: a /metrics port that cannot be had
// stops start-up, naming the exporter.
func TestTelemetryPrometheusPortTaken(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	cfg := telemetryEnv(t, map[string]string{"OTEL_METRICS_EXPORTER": "prometheus",
		"OTEL_EXPORTER_PROMETHEUS_HOST": "127.0.0.1", "OTEL_EXPORTER_PROMETHEUS_PORT": port})
	if _, err := startTelemetry(context.Background(), cfg, "8080", discardLogger()); err == nil ||
		!strings.Contains(err.Error(), "OTEL_METRICS_EXPORTER=prometheus") {
		t.Errorf("got %v, want an error naming OTEL_METRICS_EXPORTER=prometheus", err)
	}
}

// TestTelemetryNotInProcessEnvironment: a getenv that says otlp while the
// process environment (which the exporters read) says nothing is an error,
// not autoexport's silent default.
func TestTelemetryNotInProcessEnvironment(t *testing.T) {
	cfg := telemetryEnv(t, nil)
	cfg.Telemetry.TracesExporter = "otlp"
	_, err := startTelemetry(context.Background(), cfg, "8080", discardLogger())
	if err == nil || !strings.Contains(err.Error(), "not in the process environment") {
		t.Errorf("got %v, want an error saying OTEL_TRACES_EXPORTER is not in the process environment", err)
	}
}

// TestTelemetryResource: the Cloud Run attributes come from the
// environment, and the standard variables override them.
func TestTelemetryResource(t *testing.T) {
	cfg := telemetryEnv(t, map[string]string{
		"K_SERVICE": "orders", "K_REVISION": "orders-00042-xyz",
		"OTEL_SERVICE_NAME": "orders-api", "OTEL_RESOURCE_ATTRIBUTES": "deployment.environment.name=prod,faas.version=pinned",
	})
	res, err := telemetryResource(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	for k, want := range map[attribute.Key]string{
		"service.name":                "orders-api",
		"cloud.provider":              "gcp",
		"cloud.platform":              "gcp_cloud_run",
		"cloud.account.id":            testProject,
		"faas.name":                   "orders",
		"faas.version":                "pinned",
		"deployment.environment.name": "prod",
		"telemetry.sdk.language":      "go",
	} {
		if got, _ := res.Set().Value(k); got.String() != want {
			t.Errorf("%s = %q, want %q", k, got.String(), want)
		}
	}
	if id, ok := res.Set().Value("service.instance.id"); !ok || len(id.String()) != 36 {
		t.Errorf("service.instance.id = %q, want a UUID", id.String())
	}

	t.Setenv("OTEL_RESOURCE_ATTRIBUTES", "novalue")
	if _, err := telemetryResource(context.Background(), cfg); err == nil || !strings.Contains(err.Error(), "OTEL_RESOURCE_ATTRIBUTES") {
		t.Errorf("malformed OTEL_RESOURCE_ATTRIBUTES: got %v, want an error naming it", err)
	}
}
