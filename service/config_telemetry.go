package service

import (
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// TelemetryConfig is what the service reads of OpenTelemetry's standard
// variables itself: which exporters are on, and where Prometheus's
// /metrics is served. Every other OTEL_* variable (endpoints, protocols,
// headers, OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES, the sampler, export
// intervals) keeps its standard meaning and is read by the OpenTelemetry
// libraries themselves.
type TelemetryConfig struct {
	// MetricsExporter is OTEL_METRICS_EXPORTER: prometheus, otlp or console;
	// "" when unset, none, or OTEL_SDK_DISABLED=true: no metrics at all.
	MetricsExporter string
	// TracesExporter is OTEL_TRACES_EXPORTER: otlp or console; "" when
	// unset, none, or OTEL_SDK_DISABLED=true: no traces at all.
	TracesExporter string
	// PrometheusHost and PrometheusPort are OTEL_EXPORTER_PROMETHEUS_HOST
	// and _PORT, with the standard defaults (localhost, 9464).
	PrometheusHost string
	PrometheusPort string
	// Revision is K_REVISION, set by Cloud Run: the faas.version resource
	// attribute.
	Revision string
}

// The Prometheus exporter's standard defaults.
const (
	DefaultPrometheusHost = "localhost"
	DefaultPrometheusPort = "9464"
)

// On reports whether any signal is exported.
func (t TelemetryConfig) On() bool { return t.MetricsExporter != "" || t.TracesExporter != "" }

// The exporters each variable accepts: the ones autoexport knows.
var (
	metricsExporters = []string{"prometheus", "otlp", "console", "none"}
	tracesExporters  = []string{"otlp", "console", "none"}
)

// telemetryConfig reads the OTEL_* variables the service acts on. port is
// the service's PORT, which /metrics must not share. Every problem names
// its variable.
func telemetryConfig(get func(string) string, port string) (TelemetryConfig, []string) {
	var problems []string
	bad := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	t := TelemetryConfig{
		PrometheusHost: orDefault(get("OTEL_EXPORTER_PROMETHEUS_HOST"), DefaultPrometheusHost),
		PrometheusPort: orDefault(get("OTEL_EXPORTER_PROMETHEUS_PORT"), DefaultPrometheusPort),
		Revision:       get("K_REVISION"),
	}
	exporter := func(name string, accepted []string) string {
		v := strings.ToLower(get(name))
		switch {
		case v == "" || v == "none":
			return ""
		case strings.Contains(v, ","):
			bad("%s: %q: one exporter only (of %s)", name, v, strings.Join(accepted, ", "))
		case !slices.Contains(accepted, v):
			bad("%s: %q is not one of %s", name, v, strings.Join(accepted, ", "))
		}
		return v
	}
	t.MetricsExporter = exporter("OTEL_METRICS_EXPORTER", metricsExporters)
	t.TracesExporter = exporter("OTEL_TRACES_EXPORTER", tracesExporters)
	switch v := strings.ToLower(get("OTEL_SDK_DISABLED")); v {
	case "", "false":
	case "true":
		t.MetricsExporter, t.TracesExporter = "", ""
	default:
		bad("OTEL_SDK_DISABLED: %q is not true or false", v)
	}
	for _, name := range []string{"OTEL_EXPORTER_OTLP_HEADERS", "OTEL_EXPORTER_OTLP_TRACES_HEADERS", "OTEL_EXPORTER_OTLP_METRICS_HEADERS"} {
		if i := badHeaderEntry(get(name)); i > 0 {
			// Never the value: exporter headers carry credentials.
			bad("%s: entry %d is not key=value (the value URL-escaped)", name, i)
		}
	}
	if t.MetricsExporter == "prometheus" {
		n, err := strconv.Atoi(t.PrometheusPort)
		switch {
		case err != nil || n < 0 || n > 65535:
			bad("OTEL_EXPORTER_PROMETHEUS_PORT: %q is not a TCP port (0-65535)", t.PrometheusPort)
		case t.PrometheusPort == port && n != 0:
			bad("OTEL_EXPORTER_PROMETHEUS_PORT: %s is the service's PORT; /metrics needs a port of its own", port)
		}
	}
	return t, problems
}

// badHeaderEntry returns the position (from 1) of the first entry of an
// OTLP headers list ("k1=v1,k2=v2", values URL-escaped) that the exporters
// could not read, or 0.
func badHeaderEntry(list string) int {
	if list == "" {
		return 0
	}
	for i, entry := range strings.Split(list, ",") {
		k, v, ok := strings.Cut(entry, "=")
		if _, err := url.PathUnescape(v); !ok || strings.TrimSpace(k) == "" || err != nil {
			return i + 1
		}
	}
	return 0
}

// devTelemetryProblems keeps dev mode's promise of loopback addresses only
// for /metrics too.
func devTelemetryProblems(c Config) []string {
	if c.DevMode() && c.Telemetry.MetricsExporter == "prometheus" && !loopbackHost(c.Telemetry.PrometheusHost) {
		return []string{fmt.Sprintf("OTEL_EXPORTER_PROMETHEUS_HOST: %q is not a loopback address; dev mode serves on loopback addresses only", c.Telemetry.PrometheusHost)}
	}
	return nil
}
