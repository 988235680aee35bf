package push

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"testing"

	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
)

const (
	publisherTraceID = "4bf92f3577b34da6a3ce929d0e0e4736"
	publisherSpanID  = "00f067aa0ba902b7"
)

// tracedDelivery serves one delivery of body inside a request span, as the
// service's otelhttp middleware makes one, and returns the recorded spans,
// the request span's context and the span context fn saw.
func tracedDelivery(t *testing.T, body string, fnErr error) (spans []sdktrace.ReadOnlySpan, request, inHandler trace.SpanContext) {
	t.Helper()
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	h := NewHandler(func(ctx context.Context, m *Message) error {
		inHandler = trace.SpanContextFromContext(ctx)
		return fnErr
	}, Options{TracerProvider: tp})

	ctx, reqSpan := tp.Tracer("test").Start(context.Background(), "POST /pubsub/push", trace.WithSpanKind(trace.SpanKindServer))
	serve(h, newPushRequest(body, nil).WithContext(ctx))
	reqSpan.End()
	return rec.Ended(), reqSpan.SpanContext(), inHandler
}

// deliverySpan is the one recorded span that is not the request's.
func deliverySpan(t *testing.T, spans []sdktrace.ReadOnlySpan, request trace.SpanContext) sdktrace.ReadOnlySpan {
	t.Helper()
	var found sdktrace.ReadOnlySpan
	for _, s := range spans {
		if s.SpanContext().SpanID() != request.SpanID() {
			if found != nil {
				t.Fatalf("more than one delivery span: %s and %s", found.Name(), s.Name())
			}
			found = s
		}
	}
	if found == nil {
		t.Fatal("no delivery span")
	}
	return found
}

func bodyWithAttributes(attrs string) string {
	return fmt.Sprintf(`{"message":{"data":"e30=","attributes":%s,"messageId":"m-1"},"subscription":"projects/p/subscriptions/orders-push","deliveryAttempt":3}`, attrs)
}

// TestDeliverySpanContinuesPublisherTrace: googclient_traceparent makes
// the delivery span a child of the publisher's span, in its trace, linked
// to the push request's span; fn runs in it.
func TestDeliverySpanContinuesPublisherTrace(t *testing.T) {
	t.Parallel()
	body := bodyWithAttributes(fmt.Sprintf(`{"googclient_traceparent":"00-%s-%s-01","k":"v"}`, publisherTraceID, publisherSpanID))
	spans, request, inHandler := tracedDelivery(t, body, nil)
	s := deliverySpan(t, spans, request)

	if got := s.SpanContext().TraceID().String(); got != publisherTraceID {
		t.Errorf("trace ID = %s, want the publisher's %s", got, publisherTraceID)
	}
	if got := s.Parent(); got.SpanID().String() != publisherSpanID || !got.IsRemote() {
		t.Errorf("parent = %s (remote %v), want the publisher's span %s, remote", got.SpanID(), got.IsRemote(), publisherSpanID)
	}
	if links := s.Links(); len(links) != 1 || links[0].SpanContext.SpanID() != request.SpanID() || links[0].SpanContext.TraceID() != request.TraceID() {
		t.Errorf("links = %v, want one to the request span %s", links, request.SpanID())
	}
	if inHandler.SpanID() != s.SpanContext().SpanID() {
		t.Errorf("the handler ran in span %s, want the delivery span %s", inHandler.SpanID(), s.SpanContext().SpanID())
	}
	if s.SpanKind() != trace.SpanKindConsumer || s.Name() != "process orders-push" {
		t.Errorf("span %q kind %v, want \"process orders-push\", consumer", s.Name(), s.SpanKind())
	}
	want := map[string]string{
		"messaging.system":                              "gcp_pubsub",
		"messaging.operation.type":                      "process",
		"messaging.destination.subscription.name":       "projects/p/subscriptions/orders-push",
		"messaging.message.id":                          "m-1",
		"messaging.gcp_pubsub.message.delivery_attempt": "3",
		"pushgate.push.outcome":                         "processed",
	}
	got := map[string]string{}
	for _, kv := range s.Attributes() {
		got[string(kv.Key)] = kv.Value.String()
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("attribute %s = %q, want %q", k, got[k], v)
		}
	}
	if _, ok := got["k"]; ok {
		t.Error("a message attribute became a span attribute")
	}
}

// TestDeliverySpanWithoutPublisherTrace: without googclient_traceparent (or
// with one that does not parse) the delivery span is a child of the
// request's span, with no link.
func TestDeliverySpanWithoutPublisherTrace(t *testing.T) {
	t.Parallel()
	for name, attrs := range map[string]string{
		"none":      `{"k":"v"}`,
		"malformed": `{"googclient_traceparent":"00-zz-00f067aa0ba902b7-01"}`,
		"zero":      `{"googclient_traceparent":"00-00000000000000000000000000000000-00f067aa0ba902b7-01"}`,
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			spans, request, _ := tracedDelivery(t, bodyWithAttributes(attrs), nil)
			s := deliverySpan(t, spans, request)
			if s.Parent().SpanID() != request.SpanID() || s.SpanContext().TraceID() != request.TraceID() {
				t.Errorf("parent %s in trace %s, want the request span %s in %s",
					s.Parent().SpanID(), s.SpanContext().TraceID(), request.SpanID(), request.TraceID())
			}
			if len(s.Links()) != 0 {
				t.Errorf("links = %v, want none", s.Links())
			}
		})
	}
}

// TestDeliverySpanStatus: failures and poison mark the span as an error.
func TestDeliverySpanStatus(t *testing.T) {
	t.Parallel()
	tests := []struct {
		err     error
		outcome string
		status  codes.Code
	}{
		{nil, "processed", codes.Unset},
		{errors.New("database down"), "failed", codes.Error},
		{Permanent(errors.New("bad order")), "poison", codes.Error},
	}
	for _, tt := range tests {
		t.Run(tt.outcome, func(t *testing.T) {
			t.Parallel()
			spans, request, _ := tracedDelivery(t, bodyWithAttributes(`{}`), tt.err)
			s := deliverySpan(t, spans, request)
			if s.Status().Code != tt.status {
				t.Errorf("status = %v, want %v", s.Status().Code, tt.status)
			}
			for _, kv := range s.Attributes() {
				if kv.Key == outcomeKey && kv.Value.String() != tt.outcome {
					t.Errorf("outcome = %s, want %s", kv.Value.String(), tt.outcome)
				}
			}
		})
	}
}

// TestDeliveryUntracedKeepsRequestContext: without a TracerProvider the
// handler's context carries the request's span unchanged.
func TestDeliveryUntracedKeepsRequestContext(t *testing.T) {
	t.Parallel()
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	var inHandler trace.SpanContext
	h := NewHandler(func(ctx context.Context, m *Message) error {
		inHandler = trace.SpanContextFromContext(ctx)
		return nil
	}, Options{})
	ctx, reqSpan := tp.Tracer("test").Start(context.Background(), "request")
	body := bodyWithAttributes(fmt.Sprintf(`{"googclient_traceparent":"00-%s-%s-01"}`, publisherTraceID, publisherSpanID))
	if got := serve(h, newPushRequest(body, nil).WithContext(ctx)).Code; got != http.StatusNoContent {
		t.Fatalf("status %d", got)
	}
	reqSpan.End()
	if !inHandler.Equal(reqSpan.SpanContext()) {
		t.Errorf("handler span %v, want the request's %v", inHandler, reqSpan.SpanContext())
	}
	if n := len(rec.Ended()); n != 1 {
		t.Errorf("%d spans, want the request's only", n)
	}
}
