package service

import (
	"context"
	"net/http"

	"github.com/go-chi/chi/v5"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	"go.opentelemetry.io/otel/propagation"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
	tracenoop "go.opentelemetry.io/otel/trace/noop"
)

// httpTelemetry is the middleware of OpenTelemetry's HTTP server metrics
// and of a span per request (otelhttp), followed by routeTelemetry; none at
// all when t records nothing.
//
// Spans continue the request's traceparent or, failing that, its
// X-Cloud-Trace-Context (the precedence ParseTrace has for log lines).
func httpTelemetry(t Telemetry) []func(http.Handler) http.Handler {
	if !t.on() {
		return nil
	}
	opts := []otelhttp.Option{otelhttp.WithServerName(t.ServerName)}
	if t.MeterProvider != nil {
		opts = append(opts, otelhttp.WithMeterProvider(t.MeterProvider))
	} else {
		opts = append(opts, otelhttp.WithMeterProvider(metricnoop.NewMeterProvider()))
	}
	if t.TracerProvider != nil {
		opts = append(opts, otelhttp.WithTracerProvider(t.TracerProvider),
			// Composite: the last one that finds a trace context wins.
			otelhttp.WithPropagators(propagation.NewCompositeTextMapPropagator(cloudTraceContext{}, propagation.TraceContext{})))
	} else {
		opts = append(opts, otelhttp.WithTracerProvider(tracenoop.NewTracerProvider()),
			otelhttp.WithPropagators(propagation.NewCompositeTextMapPropagator()))
	}
	return []func(http.Handler) http.Handler{otelhttp.NewMiddleware("pushgate", opts...), routeTelemetry}
}

// routeTelemetry sets http.route, chi's route pattern (never the raw path,
// so that the metrics' attribute values stay bounded), on the request's
// span and HTTP server metrics once chi has routed the request. A request
// that matched no route (404) has none. otelhttp takes the route from
// http.Request.Pattern, which chi sets only on its own copy of the request;
// its Labeler is how a handler adds attributes to its metrics.
//
// It also sets the span's client.address to the address the access log
// names (clientIP: the entry Google's front end appended to
// X-Forwarded-For), where otelhttp takes the first entry, which the client
// writes.
func routeTelemetry(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if span := trace.SpanFromContext(r.Context()); span.IsRecording() {
			span.SetAttributes(semconv.ClientAddress(clientIP(r)))
		}
		next.ServeHTTP(w, r)
		route := chi.RouteContext(r.Context()).RoutePattern()
		if route == "" {
			return
		}
		attr := semconv.HTTPRoute(route)
		if l, ok := otelhttp.LabelerFromContext(r.Context()); ok {
			l.Add(attr)
		}
		if span := trace.SpanFromContext(r.Context()); span.IsRecording() {
			span.SetName(r.Method + " " + route) // chi routes standard methods only
			span.SetAttributes(attr)
		}
	})
}

// cloudTraceContext is a one-way propagator of X-Cloud-Trace-Context, the
// header Google's load balancers and older clients send
// ("TRACE_ID/SPAN_ID;o=1", the span ID in decimal). It injects nothing:
// outgoing requests carry W3C traceparent. (Google's own propagator module,
// github.com/GoogleCloudPlatform/opentelemetry-operations-go/propagator, is
// deprecated in favour of W3C trace context and logs every malformed
// header; this one shares ParseTrace's parser.)
type cloudTraceContext struct{}

func (cloudTraceContext) Extract(ctx context.Context, carrier propagation.TextMapCarrier) context.Context {
	t, ok := parseCloudTraceContext(carrier.Get("X-Cloud-Trace-Context"))
	if !ok {
		return ctx
	}
	traceID, err1 := trace.TraceIDFromHex(t.TraceID)
	spanID, err2 := trace.SpanIDFromHex(t.SpanID)
	if err1 != nil || err2 != nil {
		return ctx // no span ID: nothing to continue
	}
	var flags trace.TraceFlags
	if t.Sampled {
		flags = trace.FlagsSampled
	}
	return trace.ContextWithRemoteSpanContext(ctx, trace.NewSpanContext(trace.SpanContextConfig{
		TraceID: traceID, SpanID: spanID, TraceFlags: flags, Remote: true,
	}))
}

func (cloudTraceContext) Inject(context.Context, propagation.TextMapCarrier) {}

func (cloudTraceContext) Fields() []string { return nil }
