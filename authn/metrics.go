package authn

import (
	"context"
	"errors"
	"sync"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/metric/noop"
)

// meterName is the instrumentation scope of the package's instruments.
const meterName = "github.com/cloudrun-authn/pushgate/authn"

// providerNone is the provider attribute of a decision no rule set made:
// no credentials, a malformed token, an unknown issuer, an audience of
// none of a shared issuer's sets.
const providerNone = "none"

// metrics are the instruments of the contract's "Metrics" section that the
// authenticator records where it decides: pushgate.auth.decisions and
// pushgate.token_cache.lookups (the key sets record pushgate.keys.fetches).
// Attribute values are bounded: rule set names and reason codes, never a
// token, a subject or an email.
type metrics struct {
	decisions metric.Int64Counter
	lookups   metric.Int64Counter
	hit, miss metric.AddOption

	// options holds the attribute set of each (decision, provider, reason)
	// seen, made once, so that a decision costs a map lookup and an Add.
	options sync.Map // decision → metric.AddOption
}

type decision struct{ decision, provider, reason string }

// meterOf is the meter of provider, or a no-op one when it is nil: nothing
// is exported and the instruments cost nothing measurable.
func meterOf(provider metric.MeterProvider) metric.Meter {
	if provider == nil {
		provider = noop.NewMeterProvider()
	}
	return provider.Meter(meterName)
}

func newMetrics(meter metric.Meter) *metrics {
	m := &metrics{}
	// The API's constructors return a usable no-op instrument with their
	// error; the error (an invalid name) cannot happen with these names.
	m.decisions, _ = meter.Int64Counter("pushgate.auth.decisions",
		metric.WithDescription("Authentication and authorization decisions, by decision, rule set and reason."))
	m.lookups, _ = meter.Int64Counter("pushgate.token_cache.lookups",
		metric.WithDescription("Lookups of the verified-token cache, by result."))
	m.hit = metric.WithAttributeSet(attribute.NewSet(attribute.String("result", "hit")))
	m.miss = metric.WithAttributeSet(attribute.NewSet(attribute.String("result", "miss")))
	return m
}

func (m *metrics) lookup(ctx context.Context, hit bool) {
	if hit {
		m.lookups.Add(ctx, 1, m.hit)
	} else {
		m.lookups.Add(ctx, 1, m.miss)
	}
}

// decide counts one decision: allowed when err is nil, unavailable when no
// keys could be had, refused otherwise, with err's reason code.
func (m *metrics) decide(ctx context.Context, provider string, err error) {
	if provider == "" {
		provider = providerNone
	}
	d := decision{decision: "allowed", provider: provider}
	var ae *Error
	switch {
	case err == nil:
	case errors.Is(err, ErrKeysUnavailable):
		d.decision = "unavailable"
	case errors.As(err, &ae):
		d.decision, d.reason = "refused", ae.metric
	default:
		d.decision, d.reason = "refused", "internal"
	}
	m.decisions.Add(ctx, 1, m.option(d))
}

func (m *metrics) option(d decision) metric.AddOption {
	if opt, ok := m.options.Load(d); ok {
		return opt.(metric.AddOption)
	}
	attrs := []attribute.KeyValue{attribute.String("decision", d.decision), attribute.String("provider", d.provider)}
	if d.reason != "" {
		attrs = append(attrs, attribute.String("reason", d.reason))
	}
	opt, _ := m.options.LoadOrStore(d, metric.WithAttributeSet(attribute.NewSet(attrs...)))
	return opt.(metric.AddOption)
}

// fetchMetrics is a key set's pushgate.keys.fetches counter.
type fetchMetrics struct {
	fetches   metric.Int64Counter
	ok, error metric.AddOption
}

func newFetchMetrics(meter metric.Meter, provider string) *fetchMetrics {
	f := &fetchMetrics{}
	f.fetches, _ = meter.Int64Counter("pushgate.keys.fetches",
		metric.WithDescription("Fetches of signing keys (and discovery documents), by rule set and result."))
	f.ok = metric.WithAttributeSet(attribute.NewSet(attribute.String("provider", provider), attribute.String("result", "ok")))
	f.error = metric.WithAttributeSet(attribute.NewSet(attribute.String("provider", provider), attribute.String("result", "error")))
	return f
}

func (f *fetchMetrics) record(ctx context.Context, err error) {
	if err != nil {
		f.fetches.Add(ctx, 1, f.error)
	} else {
		f.fetches.Add(ctx, 1, f.ok)
	}
}
