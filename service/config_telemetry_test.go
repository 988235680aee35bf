package service

import (
	"errors"
	"strings"
	"testing"
)

func TestLoadConfigTelemetry(t *testing.T) {
	t.Parallel()
	google := map[string]string{"AUTH_GOOGLE_AUDIENCES": "https://svc.run.app", "GOOGLE_CLOUD_PROJECT": "acme-prod"}
	tests := []struct {
		name            string
		env             map[string]string
		metrics, traces string
		host, port      string
	}{
		{"unset is off", nil, "", "", "localhost", "9464"},
		{"none is off", map[string]string{"OTEL_METRICS_EXPORTER": "none", "OTEL_TRACES_EXPORTER": "none"}, "", "", "localhost", "9464"},
		{"prometheus and otlp", map[string]string{"OTEL_METRICS_EXPORTER": "prometheus", "OTEL_TRACES_EXPORTER": "otlp",
			"OTEL_EXPORTER_PROMETHEUS_HOST": "0.0.0.0", "OTEL_EXPORTER_PROMETHEUS_PORT": "9090"}, "prometheus", "otlp", "0.0.0.0", "9090"},
		{"console", map[string]string{"OTEL_METRICS_EXPORTER": "console", "OTEL_TRACES_EXPORTER": "console"}, "console", "console", "localhost", "9464"},
		{"otlp metrics", map[string]string{"OTEL_METRICS_EXPORTER": "otlp"}, "otlp", "", "localhost", "9464"},
		{"sdk disabled", map[string]string{"OTEL_METRICS_EXPORTER": "prometheus", "OTEL_TRACES_EXPORTER": "otlp", "OTEL_SDK_DISABLED": "true"}, "", "", "localhost", "9464"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m := map[string]string{}
			for k, v := range google {
				m[k] = v
			}
			for k, v := range tt.env {
				m[k] = v
			}
			c, err := LoadConfig(env(m))
			if err != nil {
				t.Fatal(err)
			}
			got := c.Telemetry
			if got.MetricsExporter != tt.metrics || got.TracesExporter != tt.traces || got.PrometheusHost != tt.host || got.PrometheusPort != tt.port {
				t.Errorf("got %+v, want metrics %q traces %q on %s:%s", got, tt.metrics, tt.traces, tt.host, tt.port)
			}
			if got.On() != (tt.metrics != "" || tt.traces != "") {
				t.Errorf("On() = %v", got.On())
			}
		})
	}
}

func TestLoadConfigTelemetryProblems(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		env  map[string]string
		want string // the variable the one problem names
	}{
		{"unknown metrics exporter", map[string]string{"OTEL_METRICS_EXPORTER": "statsd"}, "OTEL_METRICS_EXPORTER"},
		{"prometheus traces", map[string]string{"OTEL_TRACES_EXPORTER": "prometheus"}, "OTEL_TRACES_EXPORTER"},
		{"a list", map[string]string{"OTEL_METRICS_EXPORTER": "prometheus,otlp"}, "OTEL_METRICS_EXPORTER"},
		{"metrics on the service's port", map[string]string{"OTEL_METRICS_EXPORTER": "prometheus", "PORT": "9464"}, "OTEL_EXPORTER_PROMETHEUS_PORT"},
		{"bad prometheus port", map[string]string{"OTEL_METRICS_EXPORTER": "prometheus", "OTEL_EXPORTER_PROMETHEUS_PORT": "metrics"}, "OTEL_EXPORTER_PROMETHEUS_PORT"},
		{"bad sdk disabled", map[string]string{"OTEL_SDK_DISABLED": "yes"}, "OTEL_SDK_DISABLED"},
		{"OTLP headers not key=value", map[string]string{"OTEL_TRACES_EXPORTER": "otlp", "OTEL_EXPORTER_OTLP_HEADERS": "authorization: Bearer s3cr3t-h34der"}, "OTEL_EXPORTER_OTLP_HEADERS"},
		{"OTLP trace headers badly escaped", map[string]string{"OTEL_EXPORTER_OTLP_TRACES_HEADERS": "a=1,authorization=Bearer%zzs3cr3t-h34der"}, "OTEL_EXPORTER_OTLP_TRACES_HEADERS"},
		{"OTLP metrics headers without a key", map[string]string{"OTEL_EXPORTER_OTLP_METRICS_HEADERS": "=s3cr3t-h34der"}, "OTEL_EXPORTER_OTLP_METRICS_HEADERS"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m := map[string]string{"AUTH_GOOGLE_AUDIENCES": "https://svc.run.app", "GOOGLE_CLOUD_PROJECT": "acme-prod"}
			for k, v := range tt.env {
				m[k] = v
			}
			_, err := LoadConfig(env(m))
			var ce *ConfigError
			if !errors.As(err, &ce) || len(ce.Problems) != 1 || !strings.HasPrefix(ce.Problems[0], tt.want+":") {
				t.Fatalf("LoadConfig: %v, want one problem naming %s", err, tt.want)
			}
			if strings.Contains(ce.Problems[0], "s3cr3t") {
				t.Errorf("the problem quotes the value: %s", ce.Problems[0])
			}
		})
	}
}

// TestLoadConfigDevModeMetricsOnLoopback: dev mode serves on loopback
// addresses only, /metrics included.
func TestLoadConfigDevModeMetricsOnLoopback(t *testing.T) {
	t.Parallel()
	vars := map[string]string{"OTEL_METRICS_EXPORTER": "prometheus", "PUSHGATE_DEV_DIR": t.TempDir()}
	if _, err := LoadConfig(env(vars)); err != nil {
		t.Fatalf("dev mode with /metrics on localhost: %v", err)
	}
	vars["OTEL_EXPORTER_PROMETHEUS_HOST"] = "0.0.0.0"
	_, err := LoadConfig(env(vars))
	var ce *ConfigError
	if !errors.As(err, &ce) || len(ce.Problems) != 1 || !strings.HasPrefix(ce.Problems[0], "OTEL_EXPORTER_PROMETHEUS_HOST:") {
		t.Fatalf("dev mode with /metrics on 0.0.0.0: %v, want one problem naming OTEL_EXPORTER_PROMETHEUS_HOST", err)
	}
}
