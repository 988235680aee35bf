package push_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/cloudrun-authn/pushgate/handlers/push"
)

// ExampleOptions_meterProvider hands the handler an OpenTelemetry meter
// provider (here the SDK's, with a reader the example collects from; the
// service passes the one its OTEL_* variables configure). One message is
// delivered twice: it counts once as processed and once as a duplicate.
func ExampleOptions_meterProvider() {
	reader := sdkmetric.NewManualReader()
	h := push.NewHandler(func(ctx context.Context, m *push.Message) error { return nil },
		push.Options{MeterProvider: sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))})

	body := `{"message":{"data":"e30=","messageId":"1001","publishTime":"2025-03-01T12:00:00Z"},` +
		`"subscription":"projects/demo/subscriptions/orders-push"}`
	for range 2 {
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodPost, "/pubsub/push", strings.NewReader(body)))
	}

	var rm metricdata.ResourceMetrics
	_ = reader.Collect(context.Background(), &rm)
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if sum, ok := m.Data.(metricdata.Sum[int64]); ok && m.Name == "pushgate.push.deliveries" {
				counts := map[string]int64{}
				for _, dp := range sum.DataPoints {
					outcome, _ := dp.Attributes.Value("outcome")
					sub, _ := dp.Attributes.Value("subscription")
					counts[outcome.String()+" "+sub.String()] = dp.Value
				}
				fmt.Println(counts["processed projects/demo/subscriptions/orders-push"], counts["duplicate projects/demo/subscriptions/orders-push"])
			}
		}
	}
	// Output:
	// 1 1
}
