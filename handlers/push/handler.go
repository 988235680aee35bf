package push

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"

	"github.com/cloudrun-authn/pushgate/handlers/httperror"
)

// HandlerFunc processes one message. Returning nil acknowledges it; an error
// makes Pub/Sub deliver it again, unless it is marked with Permanent. ctx
// carries the request's values and ends after Options.Timeout.
type HandlerFunc func(ctx context.Context, m *Message) error

// DefaultTimeout is the handler's deadline when Options.Timeout is 0: below
// Pub/Sub's default ack deadline of 10 s, so that a slow handler ends with a
// 500 the service logs rather than a delivery Pub/Sub silently gives up on.
const DefaultTimeout = 8 * time.Second

// leaseMargin is how much longer than the handler's deadline a claim's
// lease lasts by default, to cover the store round trips around the call.
const leaseMargin = 2 * time.Second

// Options configures NewHandler. The zero value is usable.
type Options struct {
	// Store remembers which message IDs are done or in progress.
	// nil → NewMemoryStore(DefaultMemoryStoreSize, DefaultRetention, nil),
	// which de-duplicates within one instance only.
	Store Store
	// Timeout is the deadline of the HandlerFunc's context; 0 → DefaultTimeout.
	// Keep it below the subscription's ack deadline.
	Timeout time.Duration
	// Lease is how long a claim holds an ID before another delivery may take
	// it over; 0 → Timeout + 2s. It also bounds how long a concurrent
	// duplicate delivery waits for the one in progress in this process.
	Lease time.Duration
	// Retention is how long a done ID is remembered; 0 → the store's default
	// (DefaultRetention for MemoryStore). Pub/Sub may redeliver for as long as
	// the subscription retains messages (7 days by default).
	Retention time.Duration
	// Logger receives the handler's logs; nil → discard. Calls pass the
	// request's context (with the delivery's span, when traced), so a
	// trace-aware slog.Handler can add the trace.
	Logger *slog.Logger
	// MeterProvider receives pushgate.push.deliveries,
	// pushgate.push.handler.duration and pushgate.push.message.age (see the
	// package documentation). Nil → none are recorded.
	MeterProvider metric.MeterProvider
	// TracerProvider gives each delivery a span that continues the
	// publisher's trace when the message carries it (googclient_traceparent)
	// and links to the push request's span. Nil → no spans.
	TracerProvider trace.TracerProvider
	// Now is the clock of the message age and the handler duration.
	// Nil → time.Now.
	Now func() time.Time
}

// NewHandler returns an http.Handler for a push endpoint that decodes each
// delivery (see Decode), runs fn at most once per message ID at a time and
// once in all for an ID that succeeded, and answers as the package
// documentation lists.
//
// Deliveries of one ID that arrive while it is being processed in this
// process wait for that outcome (up to Options.Lease or their own request's
// end) and answer with it: 204 after a success, 500 after a failure, without
// calling fn again. A delivery whose ID is held by another instance gets 409,
// which Pub/Sub redelivers later.
//
// If fn panics, the ID is released and the panic continues, so that the
// service's recovery middleware answers 500.
func NewHandler(fn HandlerFunc, opts Options) http.Handler {
	return newHandler(fn, opts)
}

type handler struct {
	fn        HandlerFunc
	store     Store
	timeout   time.Duration
	lease     time.Duration
	retention time.Duration
	log       *slog.Logger
	now       func() time.Time
	metrics   *metrics // nil: not recorded
	tracing   *tracing // nil: no spans
	subs      *subscriptionLabels

	mu       sync.Mutex
	inflight map[string]*flight

	// waitHook, when set (by tests), is called as a delivery starts waiting
	// for a local flight of its ID.
	waitHook func()
}

func newHandler(fn HandlerFunc, opts Options) *handler {
	h := &handler{
		fn:        fn,
		store:     opts.Store,
		timeout:   opts.Timeout,
		lease:     opts.Lease,
		retention: opts.Retention,
		log:       opts.Logger,
		now:       opts.Now,
		metrics:   newMetrics(opts.MeterProvider),
		tracing:   newTracing(opts.TracerProvider),
		subs:      newSubscriptionLabels(MaxSubscriptionLabels),
		inflight:  make(map[string]*flight),
	}
	if h.store == nil {
		h.store = NewMemoryStore(DefaultMemoryStoreSize, DefaultRetention, nil)
	}
	if h.timeout <= 0 {
		h.timeout = DefaultTimeout
	}
	if h.lease <= 0 {
		h.lease = h.timeout + leaseMargin
	}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	if h.now == nil {
		h.now = time.Now
	}
	return h
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	var start time.Time
	if h.metrics != nil { // the clock is read only for the metrics
		start = h.now()
	}
	m, err := Decode(r)
	if err != nil {
		h.reject(ctx, w, err)
		if h.metrics != nil {
			h.metrics.delivered(ctx, outMalformed, SubscriptionUnknown, h.now().Sub(start))
		}
		return
	}
	sub := SubscriptionUnknown
	if h.metrics != nil || h.tracing != nil {
		sub = h.subs.label(m.Subscription)
	}
	h.metrics.received(ctx, sub, m.PublishTime, start)
	ctx, span := h.tracing.start(ctx, m, sub)
	res := outFailed // what waiters learn, and what is counted, if process panics
	defer func() {
		if h.metrics != nil {
			h.metrics.delivered(ctx, res, sub, h.now().Sub(start))
		}
		h.tracing.end(span, res)
	}()

	f, leader := h.join(m.ID)
	if !leader {
		res = h.wait(ctx, w, m, f)
		return
	}
	defer func() { h.leave(m.ID, f, res) }()
	res = h.process(ctx, m)
	res.write(w)
}

// reject answers a request Decode refused.
func (h *handler) reject(ctx context.Context, w http.ResponseWriter, err error) {
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		h.log.LogAttrs(ctx, slog.LevelWarn, "push delivery over the body limit",
			slog.Int64("limit", tooBig.Limit))
		httperror.Write(w, http.StatusRequestEntityTooLarge, "body too large")
		return
	}
	reason := strings.TrimPrefix(err.Error(), "push: ")
	h.log.LogAttrs(ctx, slog.LevelWarn, "malformed push delivery", slog.String("reason", reason))
	httperror.Write(w, http.StatusBadRequest, reason)
}

// process claims the message's ID and, if this delivery got it, runs fn.
func (h *handler) process(ctx context.Context, m *Message) outcome {
	claim, err := h.store.Claim(ctx, m.ID, h.lease)
	if err != nil {
		h.log.LogAttrs(ctx, slog.LevelError, "de-duplication store unavailable; delivery not processed",
			slog.Any("pushMessage", m), slog.String("error", err.Error()))
		return outUnavailable
	}
	switch claim {
	case Claimed:
		return h.run(ctx, m)
	case AlreadyDone:
		h.log.LogAttrs(ctx, slog.LevelInfo, "duplicate delivery", slog.Any("pushMessage", m))
		return outDuplicate
	case InProgress:
		h.log.LogAttrs(ctx, slog.LevelInfo, "message is being processed by another instance",
			slog.Any("pushMessage", m))
		return outBusy
	}
	h.log.LogAttrs(ctx, slog.LevelError, "de-duplication store gave an unknown claim result",
		slog.Any("pushMessage", m), slog.String("result", claim.String()))
	return outUnavailable
}

// run calls fn for a claimed message and records the outcome in the store.
func (h *handler) run(ctx context.Context, m *Message) outcome {
	// The store is told the outcome even if the caller has gone away.
	storeCtx := context.WithoutCancel(ctx)
	completed := false
	defer func() {
		if completed {
			return
		}
		// fn panicked: give the ID back, then let the panic go on.
		h.log.LogAttrs(ctx, slog.LevelError, "push handler panicked; message released",
			slog.Any("pushMessage", m))
		h.release(storeCtx, m)
	}()
	err := h.call(ctx, m)
	completed = true

	switch {
	case err == nil:
		h.done(storeCtx, m)
		h.log.LogAttrs(ctx, slog.LevelDebug, "message processed", slog.Any("pushMessage", m))
		return outProcessed
	case IsPermanent(err):
		h.done(storeCtx, m)
		h.log.LogAttrs(ctx, slog.LevelError, "poison message acknowledged without processing",
			slog.Bool("poison", true), slog.Any("pushMessage", m), slog.String("error", err.Error()))
		return outPoison
	}
	h.release(storeCtx, m)
	h.log.LogAttrs(ctx, slog.LevelWarn, "message processing failed; Pub/Sub will redeliver",
		slog.Any("pushMessage", m), slog.String("error", err.Error()))
	return outFailed
}

func (h *handler) call(ctx context.Context, m *Message) error {
	ctx, cancel := context.WithTimeout(ctx, h.timeout)
	defer cancel()
	return h.fn(ctx, m)
}

// done marks m done. A failure is logged and otherwise ignored: the message
// was processed, so acknowledging it is right; the claim's lease lapses.
func (h *handler) done(ctx context.Context, m *Message) {
	if err := h.store.Done(ctx, m.ID, h.retention); err != nil {
		h.log.LogAttrs(ctx, slog.LevelError, "could not mark message done; a redelivery may process it again",
			slog.Any("pushMessage", m), slog.String("error", err.Error()))
	}
}

// release gives m's ID back. On failure the lease still lapses in time.
func (h *handler) release(ctx context.Context, m *Message) {
	if err := h.store.Release(ctx, m.ID); err != nil {
		h.log.LogAttrs(ctx, slog.LevelError, "could not release message; redeliveries wait for its lease to lapse",
			slog.Any("pushMessage", m), slog.String("error", err.Error()))
	}
}
