package push

import (
	"context"
	"sync"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
)

// instrumentationName is the instrumentation scope of the package's
// instruments and spans.
const instrumentationName = "github.com/cloudrun-authn/pushgate/handlers/push"

// Bucket boundaries, in seconds. A handler's deadline is at most a few
// seconds (DefaultTimeout 8 s); a message may wait in its subscription for
// up to 7 days by default, and the age is the backlog signal.
var (
	durationBuckets = []float64{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}
	ageBuckets      = []float64{0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600, 7200, 21600, 86400, 604800}
)

// metrics are the contract's push instruments, recorded where the handler
// decides: pushgate.push.deliveries (outcome, subscription),
// pushgate.push.handler.duration (outcome) and pushgate.push.message.age
// (subscription). A nil *metrics records nothing and costs nothing.
// Attribute values are bounded: the outcome names, and subscription labels
// from a bounded set (see subscriptionLabels).
type metrics struct {
	deliveries metric.Int64Counter
	duration   metric.Float64Histogram
	age        metric.Float64Histogram

	byOutcome [numOutcomes]metric.RecordOption
	// attribute sets made once each, so that a delivery costs map lookups
	// and the instruments' own work.
	deliveryOpts sync.Map // deliveryKey → metric.AddOption
	ageOpts      sync.Map // subscription label → metric.RecordOption
}

type deliveryKey struct {
	outcome      outcome
	subscription string
}

// newMetrics returns the instruments of provider, or nil when it is nil.
func newMetrics(provider metric.MeterProvider) *metrics {
	if provider == nil {
		return nil
	}
	meter := provider.Meter(instrumentationName)
	m := &metrics{}
	// The API's constructors return a usable no-op instrument with their
	// error; the error (an invalid name) cannot happen with these names.
	m.deliveries, _ = meter.Int64Counter("pushgate.push.deliveries",
		metric.WithDescription("Push deliveries, by outcome and subscription."))
	m.duration, _ = meter.Float64Histogram("pushgate.push.handler.duration",
		metric.WithDescription("Time from a push delivery's arrival at the handler to its answer, by outcome."),
		metric.WithUnit("s"), metric.WithExplicitBucketBoundaries(durationBuckets...))
	m.age, _ = meter.Float64Histogram("pushgate.push.message.age",
		metric.WithDescription("Time from a message's publishTime to the receipt of its push delivery, by subscription."),
		metric.WithUnit("s"), metric.WithExplicitBucketBoundaries(ageBuckets...))
	for o := range numOutcomes {
		m.byOutcome[o] = metric.WithAttributeSet(attribute.NewSet(attribute.String("outcome", o.String())))
	}
	return m
}

// delivered counts one delivery with its outcome and how long it took.
func (m *metrics) delivered(ctx context.Context, o outcome, subscription string, took time.Duration) {
	if m == nil {
		return
	}
	m.deliveries.Add(ctx, 1, m.deliveryOption(o, subscription))
	m.duration.Record(ctx, took.Seconds(), m.byOutcome[o])
}

// received records the age of a message at its receipt. A message without
// a publish time has none; a publish time in the future (clock skew) counts
// as age 0.
func (m *metrics) received(ctx context.Context, subscription string, published, now time.Time) {
	if m == nil || published.IsZero() {
		return
	}
	m.age.Record(ctx, max(now.Sub(published).Seconds(), 0), m.ageOption(subscription))
}

func (m *metrics) deliveryOption(o outcome, subscription string) metric.AddOption {
	k := deliveryKey{o, subscription}
	if opt, ok := m.deliveryOpts.Load(k); ok {
		return opt.(metric.AddOption)
	}
	opt, _ := m.deliveryOpts.LoadOrStore(k, metric.WithAttributeSet(attribute.NewSet(
		attribute.String("outcome", o.String()), attribute.String("subscription", subscription))))
	return opt.(metric.AddOption)
}

func (m *metrics) ageOption(subscription string) metric.RecordOption {
	if opt, ok := m.ageOpts.Load(subscription); ok {
		return opt.(metric.RecordOption)
	}
	opt, _ := m.ageOpts.LoadOrStore(subscription, metric.WithAttributeSet(attribute.NewSet(
		attribute.String("subscription", subscription))))
	return opt.(metric.RecordOption)
}
