package push

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
)

// metricReader collects the handler's metrics with the SDK's manual reader.
type metricReader struct {
	reader   *sdkmetric.ManualReader
	provider *sdkmetric.MeterProvider
}

func newMetricReader() *metricReader {
	r := sdkmetric.NewManualReader()
	return &metricReader{reader: r, provider: sdkmetric.NewMeterProvider(sdkmetric.WithReader(r))}
}

func (m *metricReader) collect(t *testing.T, name string) metricdata.Aggregation {
	t.Helper()
	var rm metricdata.ResourceMetrics
	if err := m.reader.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	for _, sm := range rm.ScopeMetrics {
		for _, mt := range sm.Metrics {
			if mt.Name == name {
				if sm.Scope.Name != instrumentationName {
					t.Errorf("%s: scope %q, want %q", name, sm.Scope.Name, instrumentationName)
				}
				return mt.Data
			}
		}
	}
	return nil
}

// deliveries returns pushgate.push.deliveries as "outcome subscription" → count.
func (m *metricReader) deliveries(t *testing.T) map[string]int64 {
	t.Helper()
	got := map[string]int64{}
	sum, ok := m.collect(t, "pushgate.push.deliveries").(metricdata.Sum[int64])
	if !ok {
		return got
	}
	if !sum.IsMonotonic {
		t.Error("pushgate.push.deliveries is not a counter")
	}
	for _, dp := range sum.DataPoints {
		got[attr(dp.Attributes, "outcome")+" "+attr(dp.Attributes, "subscription")] += dp.Value
		if dp.Attributes.Len() != 2 {
			t.Errorf("deliveries attributes %v, want outcome and subscription only", dp.Attributes.ToSlice())
		}
	}
	return got
}

// histogram returns the data points of a histogram by the value of key.
func (m *metricReader) histogram(t *testing.T, name, key string) map[string]metricdata.HistogramDataPoint[float64] {
	t.Helper()
	got := map[string]metricdata.HistogramDataPoint[float64]{}
	h, ok := m.collect(t, name).(metricdata.Histogram[float64])
	if !ok {
		return got
	}
	for _, dp := range h.DataPoints {
		if dp.Attributes.Len() != 1 {
			t.Errorf("%s attributes %v, want %s only", name, dp.Attributes.ToSlice(), key)
		}
		got[attr(dp.Attributes, key)] = dp
	}
	return got
}

func attr(set attribute.Set, key string) string {
	v, _ := set.Value(attribute.Key(key))
	return v.String()
}

// TestHandlerMetricsPerOutcome: each outcome of the contract is counted
// once, with the subscription, and timed, for the event that causes it.
func TestHandlerMetricsPerOutcome(t *testing.T) {
	t.Parallel()
	const sub = "projects/p/subscriptions/s"
	unavailable := fmt.Errorf("redisstore: %w", ErrStoreUnavailable)
	tests := []struct {
		name     string
		fn       HandlerFunc
		store    func(*MemoryStore) Store
		body     string
		outcome  string
		sub      string
		wantCode int
	}{
		{name: "processed", outcome: "processed", sub: sub, wantCode: 204},
		{name: "poison", fn: func(context.Context, *Message) error { return Permanent(errors.New("bad order")) },
			outcome: "poison", sub: sub, wantCode: 204},
		{name: "failed", fn: func(context.Context, *Message) error { return errors.New("database down") },
			outcome: "failed", sub: sub, wantCode: 500},
		{name: "duplicate", store: func(m *MemoryStore) Store {
			_ = m.Done(context.Background(), "42", 0)
			return m
		}, outcome: "duplicate", sub: sub, wantCode: 204},
		{name: "busy", store: func(m *MemoryStore) Store {
			_, _ = m.Claim(context.Background(), "42", time.Minute)
			return m
		}, outcome: "busy", sub: sub, wantCode: 409},
		{name: "store_unavailable", store: func(m *MemoryStore) Store {
			return &faultyStore{Store: m, claimErr: unavailable}
		}, outcome: "store_unavailable", sub: sub, wantCode: 503},
		{name: "malformed", body: `{"subscription":"projects/p/subscriptions/s"}`, outcome: "malformed", sub: SubscriptionUnknown, wantCode: 400},
		{name: "no subscription", body: `{"message":{"data":"e30=","messageId":"42"}}`, outcome: "processed", sub: SubscriptionUnknown, wantCode: 204},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			mr := newMetricReader()
			var store Store = NewMemoryStore(10, time.Hour, nil)
			if tt.store != nil {
				store = tt.store(store.(*MemoryStore))
			}
			fn := tt.fn
			if fn == nil {
				fn = func(context.Context, *Message) error { return nil }
			}
			h := NewHandler(fn, Options{Store: store, MeterProvider: mr.provider})
			body := tt.body
			if body == "" {
				body = wrappedBody("42", "x")
			}
			if got := serve(h, newPushRequest(body, nil)).Code; got != tt.wantCode {
				t.Fatalf("status = %d, want %d", got, tt.wantCode)
			}
			want := map[string]int64{tt.outcome + " " + tt.sub: 1}
			if got := mr.deliveries(t); fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("pushgate.push.deliveries = %v, want %v", got, want)
			}
			durations := mr.histogram(t, "pushgate.push.handler.duration", "outcome")
			if len(durations) != 1 || durations[tt.outcome].Count != 1 {
				t.Errorf("pushgate.push.handler.duration = %v, want one point for outcome %s with count 1", durations, tt.outcome)
			}
		})
	}
}

// TestHandlerMetricsPanic: a handler that panics counts as failed.
func TestHandlerMetricsPanic(t *testing.T) {
	t.Parallel()
	mr := newMetricReader()
	h := NewHandler(func(context.Context, *Message) error { panic("boom") }, Options{MeterProvider: mr.provider})
	func() {
		defer func() { _ = recover() }()
		serve(h, newPushRequest(wrappedBody("42", "x"), nil))
	}()
	if got, want := mr.deliveries(t), "map[failed projects/p/subscriptions/s:1]"; fmt.Sprint(got) != want {
		t.Errorf("pushgate.push.deliveries = %v, want %s", got, want)
	}
}

// TestHandlerMetricsWaitingDuplicate: a delivery that waits for another of
// its ID in this process counts as a duplicate once that one succeeds.
func TestHandlerMetricsWaitingDuplicate(t *testing.T) {
	t.Parallel()
	mr := newMetricReader()
	started, release := make(chan struct{}), make(chan struct{})
	h := newHandler(func(context.Context, *Message) error {
		close(started)
		<-release
		return nil
	}, Options{MeterProvider: mr.provider})
	h.waitHook = func() { close(release) }
	var wg sync.WaitGroup
	codes := make([]int, 2)
	wg.Go(func() { codes[0] = serve(h, newPushRequest(wrappedBody("w", "x"), nil)).Code })
	<-started
	wg.Go(func() { codes[1] = serve(h, newPushRequest(wrappedBody("w", "x"), nil)).Code })
	wg.Wait()
	if codes[0] != http.StatusNoContent || codes[1] != http.StatusNoContent {
		t.Fatalf("statuses %v, want both 204", codes)
	}
	want := "map[duplicate projects/p/subscriptions/s:1 processed projects/p/subscriptions/s:1]"
	if got := mr.deliveries(t); fmt.Sprint(got) != want {
		t.Errorf("pushgate.push.deliveries = %v, want %s", got, want)
	}
}

// TestHandlerMessageAge: the age is the time from publishTime to the
// delivery's arrival, per subscription; a publish time ahead of the clock
// counts as 0 and a message without one records no age.
func TestHandlerMessageAge(t *testing.T) {
	t.Parallel()
	mr := newMetricReader()
	clock := newFakeClock() // 12:00:00; wrappedBody's publishTime is 12:00:00.5
	h := NewHandler(func(context.Context, *Message) error { return nil },
		Options{MeterProvider: mr.provider, Now: clock.Now})

	serve(h, newPushRequest(wrappedBody("ahead", "x"), nil))
	clock.Advance(90*time.Second + time.Second)
	serve(h, newPushRequest(wrappedBody("late", "x"), nil))
	serve(h, newPushRequest(`{"message":{"data":"e30=","messageId":"untimed"},"subscription":"projects/p/subscriptions/t"}`, nil))

	ages := mr.histogram(t, "pushgate.push.message.age", "subscription")
	dp, ok := ages["projects/p/subscriptions/s"]
	if len(ages) != 1 || !ok {
		t.Fatalf("pushgate.push.message.age = %v, want points for projects/p/subscriptions/s only", ages)
	}
	if dp.Count != 2 || dp.Sum != 90.5 {
		t.Errorf("age count %d sum %v, want 2 and 90.5 (0 for the one ahead of the clock)", dp.Count, dp.Sum)
	}
	if mn, _ := dp.Min.Value(); mn != 0 {
		t.Errorf("age min = %v, want 0", mn)
	}
}

// TestHandlerSubscriptionLabelsBounded: past MaxSubscriptionLabels
// distinct names, and for values that are no subscription's name, the
// attribute is "other"; names seen before keep their own value.
func TestHandlerSubscriptionLabelsBounded(t *testing.T) {
	t.Parallel()
	mr := newMetricReader()
	h := NewHandler(func(context.Context, *Message) error { return nil }, Options{MeterProvider: mr.provider})
	deliver := func(id, sub string) {
		body := fmt.Sprintf(`{"message":{"data":"e30=","messageId":%q},"subscription":%q}`, id, sub)
		if got := serve(h, newPushRequest(body, nil)).Code; got != http.StatusNoContent {
			t.Fatalf("status %d for subscription %q", got, sub)
		}
	}
	for i := range MaxSubscriptionLabels + 5 {
		deliver(fmt.Sprint("a", i), fmt.Sprintf("projects/p/subscriptions/sub-%d", i))
	}
	deliver("again", "projects/p/subscriptions/sub-0")
	for i, bad := range []string{"eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln", "projects/P/subscriptions/s1", "projects/p/subscriptions/1ab", "projects/p/topics/t"} {
		deliver(fmt.Sprint("bad", i), bad)
	}
	got := mr.deliveries(t)
	if n := got["processed projects/p/subscriptions/sub-0"]; n != 2 {
		t.Errorf("sub-0 counted %d, want 2", n)
	}
	if n := got["processed "+SubscriptionOther]; n != 5+4 {
		t.Errorf("other counted %d, want 9 (5 past the bound, 4 invalid)", n)
	}
	if len(got) != MaxSubscriptionLabels+1 {
		t.Errorf("%d distinct attribute sets, want %d", len(got), MaxSubscriptionLabels+1)
	}
	for k := range got {
		if strings.Contains(k, "eyJ") || strings.Contains(k, "sub-"+fmt.Sprint(MaxSubscriptionLabels)) {
			t.Errorf("attribute set %q should have been bounded", k)
		}
	}
}

// TestHandlerMetricsOff: without a MeterProvider nothing is recorded and
// the handler works as before (the no-op path is the default).
func TestHandlerMetricsOff(t *testing.T) {
	t.Parallel()
	h := newHandler(func(context.Context, *Message) error { return nil }, Options{})
	if h.metrics != nil || h.tracing != nil {
		t.Fatal("metrics or tracing on without providers")
	}
	if got := serve(h, newPushRequest(wrappedBody("42", "x"), nil)).Code; got != http.StatusNoContent {
		t.Errorf("status = %d, want 204", got)
	}
}
