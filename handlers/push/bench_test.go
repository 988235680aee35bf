package push

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
)

// reusableBody is a request body that can be rewound without allocating.
type reusableBody struct{ bytes.Reader }

func (*reusableBody) Close() error { return nil }

// benchRequest returns a request whose body rewind() resets to payload.
func benchRequest(payload []byte, header map[string]string) (r *http.Request, rewind func()) {
	body := &reusableBody{}
	r = httptest.NewRequest(http.MethodPost, "/push", nil)
	for k, v := range header {
		r.Header.Set(k, v)
	}
	r.ContentLength = int64(len(payload))
	return r, func() {
		body.Reset(payload)
		r.Body = body
	}
}

func benchEnvelope(size int) []byte {
	data := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte("x"), size))
	return fmt.Appendf(nil, `{"message":{"data":%q,"attributes":{"type":"order.created","source":"checkout"},"messageId":"1234567890123456","message_id":"1234567890123456","publishTime":"2025-03-01T12:00:00.123Z","publish_time":"2025-03-01T12:00:00.123Z"},"subscription":"projects/p/subscriptions/s"}`, data)
}

// naiveDecode is the obvious decoder the push path is measured against:
// read all, decode into generic maps, base64-decode the string.
func naiveDecode(r *http.Request) (*Message, error) {
	b, err := io.ReadAll(r.Body)
	if err != nil {
		return nil, err
	}
	var v map[string]any
	if err := json.Unmarshal(b, &v); err != nil {
		return nil, err
	}
	msg, ok := v["message"].(map[string]any)
	if !ok {
		return nil, errors.New("no message")
	}
	s, _ := msg["data"].(string)
	data, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil, err
	}
	id, _ := msg["messageId"].(string)
	m := &Message{ID: id, Data: data, Form: FormWrapped}
	if attrs, ok := msg["attributes"].(map[string]any); ok {
		m.Attributes = make(map[string]string, len(attrs))
		for k, v := range attrs {
			m.Attributes[k], _ = v.(string)
		}
	}
	if pt, ok := msg["publishTime"].(string); ok {
		m.PublishTime, _ = time.Parse(time.RFC3339Nano, pt)
	}
	m.Subscription, _ = v["subscription"].(string)
	return m, nil
}

func BenchmarkDecode(b *testing.B) {
	eventarc := map[string]string{"Ce-Id": "1", "Ce-Type": EventarcType, "Ce-Source": "//pubsub.googleapis.com/projects/p/topics/t", "Ce-Specversion": "1.0"}
	unwrapped := map[string]string{"X-Goog-Pubsub-Message-Id": "1234567890123456", "X-Goog-Pubsub-Publish-Time": "2025-03-01T12:00:00.123Z",
		"X-Goog-Pubsub-Subscription-Name": "projects/p/subscriptions/s", "Type": "order.created"}
	for _, size := range []int{1 << 10, 64 << 10} {
		envelope := benchEnvelope(size)
		raw := bytes.Repeat([]byte("x"), size)
		cases := []struct {
			name    string
			payload []byte
			header  map[string]string
			decode  func(*http.Request) (*Message, error)
		}{
			{"wrapped", envelope, nil, Decode},
			{"eventarc", envelope, eventarc, Decode},
			{"unwrapped", raw, unwrapped, Decode},
			{"naive-wrapped", envelope, nil, naiveDecode},
		}
		for _, c := range cases {
			b.Run(fmt.Sprintf("%s/%dKiB", c.name, size>>10), func(b *testing.B) {
				r, rewind := benchRequest(c.payload, c.header)
				b.SetBytes(int64(len(c.payload)))
				b.ReportAllocs()
				for b.Loop() {
					rewind()
					m, err := c.decode(r)
					if err != nil || len(m.Data) != size {
						b.Fatalf("decode = %v, %v", m, err)
					}
				}
			})
		}
	}
}

// statusWriter is a ResponseWriter that keeps only the status.
type statusWriter struct {
	header http.Header
	code   int
}

func (w *statusWriter) Header() http.Header         { return w.header }
func (w *statusWriter) Write(p []byte) (int, error) { return len(p), nil }
func (w *statusWriter) WriteHeader(code int)        { w.code = code }

func BenchmarkHandler(b *testing.B) {
	const idDigits = 16
	tests := []struct {
		name    string
		unique  bool // a new message ID each op, else one ID redelivered
		metrics bool // the SDK's meter provider, with a reader nobody collects from
		traces  bool // the SDK's tracer provider, sampling all, exporting nowhere
	}{
		{name: "unique-id", unique: true},
		{name: "redelivered-id"},
		{name: "unique-id/metrics", unique: true, metrics: true},
		{name: "unique-id/traces", unique: true, traces: true},
	}
	for _, tt := range tests {
		b.Run(tt.name, func(b *testing.B) {
			opts := Options{Store: NewMemoryStore(DefaultMemoryStoreSize, DefaultRetention, nil)}
			if tt.metrics {
				opts.MeterProvider = sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
			}
			if tt.traces {
				tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(tracetest.NewNoopExporter()))
				b.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
				opts.TracerProvider = tp
			}
			h := NewHandler(func(ctx context.Context, m *Message) error { return nil }, opts)
			payload := benchEnvelope(1 << 10)
			placeholder := []byte(`"1234567890123456"`)
			// Every occurrence of the ID is rewritten in place each op.
			var at []int
			for i := 0; ; {
				j := bytes.Index(payload[i:], placeholder)
				if j < 0 {
					break
				}
				at = append(at, i+j+1)
				i += j + len(placeholder)
			}
			r, rewind := benchRequest(payload, nil)
			w := &statusWriter{header: http.Header{}}
			digits := make([]byte, 0, idDigits)
			b.SetBytes(int64(len(payload)))
			b.ReportAllocs()
			n := 0
			for b.Loop() {
				if tt.unique {
					n++
					digits = strconv.AppendInt(digits[:0], int64(n), 10)
					for _, pos := range at {
						id := payload[pos : pos+idDigits]
						copy(id, strings.Repeat("0", idDigits-len(digits)))
						copy(id[idDigits-len(digits):], digits)
					}
				}
				rewind()
				h.ServeHTTP(w, r)
				if w.code != http.StatusNoContent {
					b.Fatalf("status = %d, want 204", w.code)
				}
			}
		})
	}
}
