package dispatch

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestConcurrencyBound(t *testing.T) {
	t.Parallel()
	const bound, messages = 4, 12
	ps := newPubsub(t)

	// Every request is held until the bound was reached and every message
	// has reached the dispatcher, so that it has every chance to exceed the
	// bound.
	var inFlight, maxInFlight, arrived, completed atomic.Int64
	reached := make(chan struct{})  // closed when bound requests are in flight at once
	received := make(chan struct{}) // closed when every message reached the dispatcher
	allDone := make(chan struct{})  // closed when every message was answered
	var reachOnce sync.Once
	ep := newEndpoint(t, func(_ http.ResponseWriter, _ *http.Request, _ int) int {
		n := inFlight.Add(1)
		for m := maxInFlight.Load(); n > m && !maxInFlight.CompareAndSwap(m, n); m = maxInFlight.Load() {
		}
		if n >= bound {
			reachOnce.Do(func() { close(reached) })
		}
		for _, ch := range []chan struct{}{reached, received} {
			select {
			case <-ch:
			case <-time.After(waitLimit):
				t.Errorf("requests held for %v: never %d in flight, or not all %d messages received", waitLimit, bound, messages)
			}
		}
		inFlight.Add(-1)
		if completed.Add(1) == messages {
			close(allDone)
		}
		return 204
	})
	for i := range messages {
		ps.publish(fmt.Sprintf("m%d", i), nil)
	}
	sub := ps.client.Subscriber(testSub)
	sub.ReceiveSettings.MaxOutstandingMessages = 10 * messages
	r := start(t, ps, Config{Subscriber: sub, Endpoint: ep.srv.URL, MaxConcurrent: bound}, func(d *Dispatcher) {
		d.onReceive = func() {
			if arrived.Add(1) == messages {
				close(received)
			}
		}
	})
	select {
	case <-allDone:
	case <-time.After(waitLimit):
		t.Fatalf("only %d of %d messages answered", completed.Load(), messages)
	}
	r.stop(t)

	if got := maxInFlight.Load(); got != bound {
		t.Errorf("at most %d requests in flight, want exactly the bound %d", got, bound)
	}
	if got := r.d.Stats(); got.Acked != messages || got.InFlight != 0 {
		t.Errorf("Stats() = %+v, want Acked %d and InFlight 0", got, messages)
	}
}

func TestStopFinishesInFlightAndStartsNothing(t *testing.T) {
	t.Parallel()
	const bound, messages = 2, 5
	ps := newPubsub(t)

	started := make(chan struct{}, messages)
	release := make(chan struct{})
	var completed atomic.Int64
	ep := newEndpoint(t, func(w http.ResponseWriter, _ *http.Request, _ int) int {
		started <- struct{}{}
		<-release
		w.WriteHeader(204)
		completed.Add(1)
		return 0
	})
	ids := make([]string, messages)
	for i := range ids {
		ids[i] = ps.publish(fmt.Sprintf("m%d", i), nil)
	}
	r := start(t, ps, Config{Endpoint: ep.srv.URL, MaxConcurrent: bound})
	for range bound {
		select {
		case <-started:
		case <-time.After(waitLimit):
			t.Fatalf("fewer than %d deliveries started", bound)
		}
	}
	r.cancel()
	select {
	case err := <-r.done:
		t.Fatalf("Run returned (%v) while deliveries were in flight", err)
	default:
	}
	close(release)
	r.stop(t)
	atRunReturn := len(ep.requests())
	ep.srv.Close() // waits for any handler still running

	if atRunReturn != bound {
		t.Errorf("endpoint saw %d requests by the time Run returned, want %d", atRunReturn, bound)
	}
	if got := len(ep.requests()); got != atRunReturn {
		t.Errorf("endpoint saw %d requests after Run returned", got-atRunReturn)
	}
	if got := completed.Load(); got != int64(atRunReturn) {
		t.Errorf("%d of %d started requests completed", got, atRunReturn)
	}
	acked := 0
	for _, id := range ids {
		acked += ps.message(t, id).Acks
	}
	if acked != bound {
		t.Errorf("server: %d messages acknowledged, want the %d in flight", acked, bound)
	}
	if got := r.d.Stats(); got.Delivered != bound || got.Acked != bound || got.InFlight != 0 {
		t.Errorf("Stats() = %+v, want Delivered %d, Acked %d, InFlight 0", got, bound, bound)
	}
}

func TestStopDuringBackoffHandsMessageBack(t *testing.T) {
	t.Parallel()
	ps := newPubsub(t)
	ep := newEndpoint(t, always(500))
	id := ps.publish("m", nil)
	// The real wait, with the default 10s backoff: only the stop ends it.
	r := start(t, ps, Config{Endpoint: ep.srv.URL})
	ep.next(t)
	r.stop(t)

	if m := ps.message(t, id); m.Acks != 0 {
		t.Errorf("server: acks %d, want 0", m.Acks)
	}
	if got, want := r.d.Stats(), (Stats{Delivered: 1, Nacked: 1}); got != want {
		t.Errorf("Stats() = %+v, want %+v", got, want)
	}
}

func TestRunTwiceAtOnce(t *testing.T) {
	t.Parallel()
	ps := newPubsub(t)
	ep := newEndpoint(t, always(204))
	ps.publish("m", nil)
	r := start(t, ps, Config{Endpoint: ep.srv.URL})
	ep.next(t) // the first Run is under way
	if err := r.d.Run(context.Background()); !errors.Is(err, ErrRunning) {
		t.Errorf("second Run = %v, want ErrRunning", err)
	}
	r.stop(t)
}

func TestRunReportsSubscriberFailure(t *testing.T) {
	t.Parallel()
	ps := newPubsub(t)
	d, err := New(Config{Subscriber: ps.client.Subscriber("projects/p/subscriptions/missing"), Endpoint: "http://127.0.0.1:1/"})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	if err := d.Run(ctx); err == nil || ctx.Err() != nil {
		t.Errorf("Run on a missing subscription = %v (context error %v), want its error before the context ends", err, ctx.Err())
	}
}
