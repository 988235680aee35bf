package dispatch

import (
	"context"
	"net/http/httptest"
	"testing"

	"cloud.google.com/go/pubsub/v2"
	"go.opentelemetry.io/otel"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
	"google.golang.org/api/option"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/cloudrun-authn/pushgate/handlers/push"
)

// TestPublisherTraceReachesThePushHandler: a message published by the
// Pub/Sub client with its OpenTelemetry tracing on carries the publisher's
// trace context in googclient_traceparent; the dispatcher passes the
// attributes through as Pub/Sub does, and the push handler's delivery span
// continues that trace, as a child of the client's publish ("create") span.
//
// Not parallel: the Pub/Sub client takes OpenTelemetry's global tracer
// provider, which this test sets for its duration.
func TestPublisherTraceReachesThePushHandler(t *testing.T) {
	ps := newPubsub(t)
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	otel.SetTracerProvider(tp)
	t.Cleanup(func() { otel.SetTracerProvider(noop.NewTracerProvider()) })

	conn, err := grpc.NewClient(ps.srv.Addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	client, err := pubsub.NewClientWithConfig(t.Context(), testProject,
		&pubsub.ClientConfig{EnableOpenTelemetryTracing: true}, option.WithGRPCConn(conn))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = client.Close() })
	publisher := client.Publisher(testTopic)
	t.Cleanup(publisher.Stop)

	ctx, request := tp.Tracer("test").Start(context.Background(), "POST /api/events")
	id, err := publisher.Publish(ctx, &pubsub.Message{Data: []byte("traced"), Attributes: map[string]string{"k": "v"}}).Get(ctx)
	request.End()
	if err != nil {
		t.Fatal(err)
	}
	if got := ps.message(t, id).Attributes["googclient_traceparent"]; len(got) != 55 {
		t.Fatalf("published attribute googclient_traceparent = %q, want a W3C traceparent", got)
	}

	delivered := make(chan trace.SpanContext, 1)
	srv := httptest.NewServer(push.NewHandler(func(ctx context.Context, m *push.Message) error {
		delivered <- trace.SpanContextFromContext(ctx)
		return nil
	}, push.Options{TracerProvider: tp}))
	t.Cleanup(srv.Close)
	r := start(t, ps, Config{Endpoint: srv.URL})
	got := <-delivered
	r.stop(t)

	if got.TraceID() != request.SpanContext().TraceID() {
		t.Errorf("delivery span in trace %s, want the publisher's %s", got.TraceID(), request.SpanContext().TraceID())
	}
	var create, delivery sdktrace.ReadOnlySpan
	for _, s := range rec.Ended() {
		switch {
		case s.SpanKind() == trace.SpanKindProducer:
			create = s
		case s.SpanContext().SpanID() == got.SpanID():
			delivery = s
		}
	}
	if create == nil || delivery == nil {
		t.Fatalf("spans: publish %v, delivery %v; want both recorded", create != nil, delivery != nil)
	}
	if delivery.Parent().SpanID() != create.SpanContext().SpanID() {
		t.Errorf("delivery span's parent %s, want the publish span %q %s", delivery.Parent().SpanID(), create.Name(), create.SpanContext().SpanID())
	}
}
