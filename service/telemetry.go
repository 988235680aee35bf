package service

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"time"

	"github.com/google/uuid"
	"go.opentelemetry.io/contrib/exporters/autoexport"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
)

// Telemetry is what the service records metrics and traces with. The zero
// value records nothing: no instrument, no span, no middleware, so that with
// no OTEL_*_EXPORTER set the service costs what it did without them.
type Telemetry struct {
	// MeterProvider receives the contract's metrics and otelhttp's HTTP
	// server metrics. Nil: none.
	MeterProvider metric.MeterProvider
	// TracerProvider makes a span per request and per push delivery. Nil:
	// none, and log lines take their trace from the request's headers.
	TracerProvider trace.TracerProvider
	// ServerName is the server.address[:server.port] of the HTTP server
	// metrics and spans; "" takes them from each request's Host header,
	// which the caller chooses (and so would make the metrics' attribute
	// values unbounded).
	ServerName string
}

// on reports whether anything is recorded.
func (t Telemetry) on() bool { return t.MeterProvider != nil || t.TracerProvider != nil }

// telemetrySDK is the OpenTelemetry SDK the service runs when an exporter
// is configured, and what Shutdown flushes.
type telemetrySDK struct {
	Telemetry
	shutdown []func(context.Context) error
}

// startTelemetry starts the SDK's providers with the exporters that
// cfg.Telemetry names, through autoexport. Nothing is started for a signal
// that is off, so the zero Telemetry comes back when both are.
//
// autoexport, the exporters, the resource's WithFromEnv and the SDK read
// the other OTEL_* variables (protocol, endpoint, headers, service name,
// resource attributes, sampler, intervals) from the process environment
// themselves, not through the service's getenv: their APIs take no lookup.
// The service reads through getenv only what it acts on (which exporters,
// the Prometheus port). Nothing here makes a network call: the OTLP
// exporters connect on first export; the Prometheus exporter only listens.
//
// With traces on, the tracer provider also becomes OpenTelemetry's global
// one (otel.SetTracerProvider): the Pub/Sub client (POST /api/events) and
// the Google API transports under it take their tracer from there only.
// It is the one global state Run sets, and only when traces are exported.
func startTelemetry(ctx context.Context, cfg Config, port string, logger *slog.Logger) (*telemetrySDK, error) {
	s := &telemetrySDK{}
	tc := cfg.Telemetry
	if !tc.On() {
		return s, nil
	}
	res, err := telemetryResource(ctx, cfg)
	if err != nil {
		return nil, err
	}
	s.ServerName = net.JoinHostPort(serviceName(cfg), port)
	if tc.MetricsExporter != "" {
		reader, err := autoexport.NewMetricReader(ctx,
			autoexport.WithFallbackMetricReader(notInProcessEnv[sdkmetric.Reader]("OTEL_METRICS_EXPORTER")))
		if err != nil {
			return nil, fmt.Errorf("service: OTEL_METRICS_EXPORTER=%s: %w", tc.MetricsExporter, err)
		}
		mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader), sdkmetric.WithResource(res))
		s.MeterProvider = mp
		s.shutdown = append(s.shutdown, mp.Shutdown)
	}
	if tc.TracesExporter != "" {
		exp, err := autoexport.NewSpanExporter(ctx,
			autoexport.WithFallbackSpanExporter(notInProcessEnv[sdktrace.SpanExporter]("OTEL_TRACES_EXPORTER")))
		if err != nil {
			err = fmt.Errorf("service: OTEL_TRACES_EXPORTER=%s: %w", tc.TracesExporter, err)
			return nil, errors.Join(err, s.Shutdown(ctx))
		}
		tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp), sdktrace.WithResource(res))
		s.TracerProvider = tp
		s.shutdown = append(s.shutdown, tp.Shutdown)
		otel.SetTracerProvider(tp)
	}
	attrs := []any{"metrics", orDefault(tc.MetricsExporter, "none"), "traces", orDefault(tc.TracesExporter, "none")}
	if tc.MetricsExporter == "prometheus" {
		attrs = append(attrs, "prometheus", "http://"+net.JoinHostPort(tc.PrometheusHost, tc.PrometheusPort)+"/metrics")
	}
	logger.Info("telemetry", attrs...)
	return s, nil
}

// telemetryFlushGrace bounds the final flush of the exporters at exit: with
// ShutdownGrace for draining, it ends within Cloud Run's ten seconds.
const telemetryFlushGrace = 1500 * time.Millisecond

// flush shuts the SDK down at exit, within telemetryFlushGrace. A failure
// (a collector that does not answer) is logged: it loses telemetry, not
// work, so it does not make the exit status an error.
func (s *telemetrySDK) flush(ctx context.Context, logger *slog.Logger) {
	if len(s.shutdown) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), telemetryFlushGrace)
	defer cancel()
	if err := s.Shutdown(ctx); err != nil {
		logger.Warn("flushing telemetry at exit", "error", err)
	}
}

// notInProcessEnv is autoexport's fallback, used when the process
// environment lacks the variable that the service's getenv gave: rather
// than autoexport's default (otlp), an error that says so.
func notInProcessEnv[T any](name string) func(context.Context) (T, error) {
	return func(context.Context) (T, error) {
		var zero T
		return zero, fmt.Errorf("%s is set for the service but not in the process environment, which the OpenTelemetry exporters read", name)
	}
}

// Shutdown flushes what the exporters hold and stops them (and the
// Prometheus exporter's listener), within ctx.
func (s *telemetrySDK) Shutdown(ctx context.Context) error {
	var errs []error
	for i := len(s.shutdown) - 1; i >= 0; i-- {
		errs = append(errs, s.shutdown[i](ctx))
	}
	s.shutdown = nil
	return errors.Join(errs...)
}

// telemetryResource describes this process to the backends, with no
// network call. On Cloud Run (K_SERVICE set): cloud.provider gcp,
// cloud.platform gcp_cloud_run, faas.name K_SERVICE, faas.version
// K_REVISION and cloud.account.id GOOGLE_CLOUD_PROJECT, the attributes
// go.opentelemetry.io/contrib/detectors/gcp sets. That detector is not used:
// it asks the metadata server (OnGCE, the instance ID, the region) during
// start-up. service.instance.id is a random UUID per process (the instance
// ID and region are the metadata server's; an OpenTelemetry Collector
// sidecar's resourcedetection processor adds them). service.name is
// K_SERVICE, or "pushgate"; OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES
// override all of these.
func telemetryResource(ctx context.Context, cfg Config) (*resource.Resource, error) {
	attrs := []attribute.KeyValue{
		semconv.ServiceName(serviceName(cfg)),
		semconv.ServiceInstanceID(uuid.NewString()),
	}
	if cfg.KService != "" {
		attrs = append(attrs, semconv.CloudProviderGCP, semconv.CloudPlatformGCPCloudRun, semconv.FaaSName(cfg.KService))
		if cfg.Telemetry.Revision != "" {
			attrs = append(attrs, semconv.FaaSVersion(cfg.Telemetry.Revision))
		}
		if cfg.Project != "" {
			attrs = append(attrs, semconv.CloudAccountID(cfg.Project))
		}
	}
	res, err := resource.New(ctx,
		resource.WithTelemetrySDK(),
		resource.WithAttributes(attrs...),
		resource.WithFromEnv(), // last: the standard variables win
	)
	if err != nil {
		return nil, fmt.Errorf("service: OTEL_RESOURCE_ATTRIBUTES: %w", err)
	}
	return res, nil
}

// serviceName is K_SERVICE on Cloud Run, else "pushgate".
func serviceName(cfg Config) string {
	if cfg.KService != "" {
		return cfg.KService
	}
	return "pushgate"
}
