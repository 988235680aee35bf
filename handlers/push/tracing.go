package push

import (
	"context"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
)

// TraceAttributePrefix is the prefix of the message attributes in which
// the Pub/Sub client libraries carry the publisher's W3C trace context:
// googclient_traceparent and googclient_tracestate (cloud.google.com/go/
// pubsub/v2, trace.go, with EnableOpenTelemetryTracing on).
const TraceAttributePrefix = "googclient_"

// attributeCarrier reads the trace context out of a message's attributes,
// as the Pub/Sub client libraries write it.
type attributeCarrier map[string]string

func (c attributeCarrier) Get(key string) string { return c[TraceAttributePrefix+key] }
func (c attributeCarrier) Set(string, string)    {} // read only
func (c attributeCarrier) Keys() []string        { return nil }

// publisherTrace is the W3C trace context propagator of the attributes.
var publisherTrace propagation.TraceContext

// tracing gives each delivery a span. A nil *tracing makes none and costs
// nothing.
type tracing struct {
	tracer trace.Tracer
}

func newTracing(provider trace.TracerProvider) *tracing {
	if provider == nil {
		return nil
	}
	return &tracing{tracer: provider.Tracer(instrumentationName)}
}

// start begins m's delivery span. When the message carries its publisher's
// trace context (googclient_traceparent), the span continues that trace and
// links to the push request's own span (the one in ctx); otherwise it is a
// child of the request's span, which continues the request's traceparent
// or X-Cloud-Trace-Context. The returned context carries the span, so that
// fn's work and every log line of the delivery name it.
func (t *tracing) start(ctx context.Context, m *Message, subscription string) (context.Context, trace.Span) {
	if t == nil {
		return ctx, nil
	}
	opts := []trace.SpanStartOption{
		trace.WithSpanKind(trace.SpanKindConsumer),
		trace.WithAttributes(
			semconv.MessagingSystemGCPPubSub,
			semconv.MessagingOperationTypeProcess,
			semconv.MessagingOperationName("process"),
			semconv.MessagingDestinationSubscriptionName(subscription),
			semconv.MessagingMessageID(m.ID),
		),
	}
	if m.DeliveryAttempt > 0 {
		opts = append(opts, trace.WithAttributes(semconv.MessagingGCPPubSubMessageDeliveryAttempt(m.DeliveryAttempt)))
	}
	parent := ctx
	if len(m.Attributes) > 0 {
		if remote := trace.SpanContextFromContext(publisherTrace.Extract(context.Background(), attributeCarrier(m.Attributes))); remote.IsValid() {
			opts = append(opts, trace.WithLinks(trace.LinkFromContext(ctx)))
			parent = trace.ContextWithRemoteSpanContext(ctx, remote)
		}
	}
	name := "process"
	if subscription != SubscriptionUnknown && subscription != SubscriptionOther {
		name = "process " + subscriptionID(subscription)
	}
	return t.tracer.Start(parent, name, opts...)
}

// end records the delivery's outcome on span and ends it.
func (t *tracing) end(span trace.Span, o outcome) {
	if span == nil {
		return
	}
	span.SetAttributes(outcomeKey.String(o.String()))
	if !o.acked() && o != outBusy || o == outPoison {
		span.SetStatus(codes.Error, o.String())
	}
	span.End()
}

// outcomeKey is the span attribute of the delivery's outcome: the outcome
// attribute of pushgate.push.deliveries.
const outcomeKey attribute.Key = "pushgate.push.outcome"
