package dispatch

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"cloud.google.com/go/pubsub/v2"
)

// ErrRunning is returned by Run while another Run of the same Dispatcher is
// under way.
var ErrRunning = errors.New("dispatch: already running")

// Dispatcher delivers the messages of one subscription to one endpoint. Build
// it with New and start it with Run.
type Dispatcher struct {
	cfg      Config
	log      *slog.Logger
	client   *http.Client
	ownHTTP  bool          // client is ours, to close when Run ends
	slots    chan struct{} // one per push request in flight
	attempts *attemptLog
	running  atomic.Bool
	wg       sync.WaitGroup // message callbacks under way

	// wait blocks for d or until ctx ends, returning ctx's error then. Tests
	// replace it to see the backoffs asked for without waiting.
	wait func(ctx context.Context, d time.Duration) error
	// onReceive, when set by a test, is called as each message arrives.
	onReceive func()

	delivered, acked, nacked, deadLettered, inFlight atomic.Int64
}

// Stats is a snapshot of a Dispatcher's counters since New.
type Stats struct {
	Delivered    int64 // push requests sent; every attempt counts
	Acked        int64 // messages acknowledged after an acknowledging status
	Nacked       int64 // messages handed back for redelivery
	DeadLettered int64 // messages given up on after MaxAttempts
	InFlight     int64 // push requests under way now
}

// New checks cfg, fills in its defaults and returns a Dispatcher. Every
// problem with cfg is reported at once.
func New(cfg Config) (*Dispatcher, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	d := &Dispatcher{
		cfg:      cfg,
		log:      cfg.Logger,
		client:   cfg.HTTPClient,
		slots:    make(chan struct{}, cfg.MaxConcurrent),
		attempts: newAttemptLog(time.Hour+2*cfg.MaxBackoff, time.Now),
		wait:     sleep,
	}
	if d.client == nil {
		d.client = newHTTPClient(cfg.MaxConcurrent)
		d.ownHTTP = true
	}
	return d, nil
}

// newHTTPClient is the default client: keep-alive connections enough for
// every request in flight, and no redirects followed.
func newHTTPClient(conns int) *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = conns
	return &http.Client{
		Transport: tr,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}

// sleep waits for d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Stats returns the counters.
func (d *Dispatcher) Stats() Stats {
	return Stats{
		Delivered:    d.delivered.Load(),
		Acked:        d.acked.Load(),
		Nacked:       d.nacked.Load(),
		DeadLettered: d.deadLettered.Load(),
		InFlight:     d.inFlight.Load(),
	}
}

// Run pulls and delivers until ctx ends, then stops: no request starts after
// ctx ends; the requests in flight run to their end (at most AckDeadline) and
// their messages are acknowledged or handed back; the messages waiting for a
// slot or a retry are handed back at once. Run returns when all of that is
// done, with nil after ctx ended, or the error that stopped the subscriber.
func (d *Dispatcher) Run(ctx context.Context) error {
	if !d.running.CompareAndSwap(false, true) {
		return ErrRunning
	}
	defer d.running.Store(false)
	d.log.Info("dispatch: started",
		"subscription", d.cfg.Subscription,
		"endpoint", redactedEndpoint(d.cfg.Endpoint),
		"unwrapped", d.cfg.Unwrapped,
		"max_concurrent", d.cfg.MaxConcurrent,
		"max_attempts", d.cfg.MaxAttempts)

	err := d.cfg.Subscriber.Receive(ctx, d.handle)
	// Receive waits for its callbacks unless the Subscriber was given a
	// shutdown timeout; wait here too, so nothing outlives Run.
	d.wg.Wait()
	if d.ownHTTP {
		d.client.CloseIdleConnections()
	}
	s := d.Stats()
	d.log.Info("dispatch: stopped", "delivered", s.Delivered, "acked", s.Acked,
		"nacked", s.Nacked, "dead_lettered", s.DeadLettered)
	if err != nil {
		return fmt.Errorf("dispatch: receive from %s: %w", d.cfg.Subscription, err)
	}
	return nil
}

// handle is the Receive callback: one message from receipt to ack or nack.
// ctx ends when Run's context does (or the subscriber fails): from then on
// nothing new is sent.
func (d *Dispatcher) handle(ctx context.Context, m *pubsub.Message) {
	d.wg.Add(1)
	defer d.wg.Done()
	if d.onReceive != nil {
		d.onReceive()
	}

	select {
	case d.slots <- struct{}{}:
	case <-ctx.Done():
		d.nack(m)
		return
	}
	if ctx.Err() != nil { // both were ready: stopping wins
		<-d.slots
		d.nack(m)
		return
	}
	floor := 0
	if m.DeliveryAttempt != nil {
		floor = *m.DeliveryAttempt
	}
	attempt := d.attempts.next(m.ID, floor)
	out := d.deliver(ctx, m, attempt)
	<-d.slots

	if out.acked() {
		d.attempts.forget(m.ID)
		m.Ack()
		d.acked.Add(1)
		d.log.Debug("dispatch: acknowledged", "message_id", m.ID, "attempt", attempt, "status", out.status)
		d.report(m.ID, attempt, out, ResultAcked, 0)
		return
	}
	if d.cfg.MaxAttempts > 0 && attempt >= d.cfg.MaxAttempts && !out.local {
		if d.deadLetter(ctx, m, attempt, out) {
			d.report(m.ID, attempt, out, ResultDeadLettered, 0)
			return
		}
	}
	backoff := Backoff(attempt, d.cfg.MinBackoff, d.cfg.MaxBackoff)
	d.report(m.ID, attempt, out, ResultRetry, backoff)
	d.log.Warn("dispatch: not acknowledged; will retry",
		append(out.logAttrs(), "message_id", m.ID, "attempt", attempt, "backoff", backoff.String())...)
	// Holding the message (its lease kept by the subscriber) for the backoff,
	// then nacking it, makes Pub/Sub offer it again at once; an end of ctx
	// cuts the wait short so that stopping is not delayed.
	_ = d.wait(ctx, backoff)
	d.nack(m)
}

func (d *Dispatcher) nack(m *pubsub.Message) {
	m.Nack()
	d.nacked.Add(1)
}
