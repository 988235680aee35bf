package dispatch

import (
	"encoding/json"
	"net/http"
	"slices"
	"testing"
	"time"
)

// statusTransport sends the request and then reports status instead of the
// endpoint's: net/http cannot produce a final 1xx status any other way.
type statusTransport struct {
	base   http.RoundTripper
	status int
}

func (st statusTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := st.base.RoundTrip(r)
	if err == nil {
		resp.StatusCode = st.status
	}
	return resp, err
}

func TestAcknowledgingStatusAcksOnce(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		respond respondFunc
		status  int // reported by the transport instead of the endpoint's; 0: none
	}{
		{name: "200", respond: always(200)},
		{name: "201", respond: always(201)},
		{name: "202", respond: always(202)},
		{name: "204", respond: always(204)},
		{
			// A net/http server can send 102 only as an interim response;
			// the final status that follows decides.
			name: "interim 102 then 204",
			respond: func(w http.ResponseWriter, _ *http.Request, _ int) int {
				w.WriteHeader(http.StatusProcessing)
				return 204
			},
		},
		{
			// A final 102, as Pub/Sub counts it, reaches the dispatcher only
			// through a transport; the endpoint's own 500 would not ack.
			name:    "final 102 from the transport",
			respond: always(500),
			status:  http.StatusProcessing,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ps := newPubsub(t)
			ep := newEndpoint(t, tt.respond)
			cfg := Config{Endpoint: ep.srv.URL + "/pubsub/push"}
			if tt.status != 0 {
				cfg.HTTPClient = &http.Client{Transport: statusTransport{base: http.DefaultTransport, status: tt.status}}
			}
			id := ps.publish("hello", nil)
			r := start(t, ps, cfg)
			ep.next(t)
			r.stop(t)

			if got := len(ep.requests()); got != 1 {
				t.Errorf("endpoint saw %d requests, want 1", got)
			}
			m := ps.message(t, id)
			if m.Acks != 1 || m.Deliveries != 1 {
				t.Errorf("server: acks %d, deliveries %d; want 1 and 1", m.Acks, m.Deliveries)
			}
			if got, want := r.d.Stats(), (Stats{Delivered: 1, Acked: 1}); got != want {
				t.Errorf("Stats() = %+v, want %+v", got, want)
			}
		})
	}
}

func TestNonAcknowledgingOutcomeRetries(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		first       respondFunc // the first request's answer; the second gets 204
		ackDeadline time.Duration
	}{
		{name: "400", first: always(400)},
		{name: "409", first: always(409)},
		{name: "429", first: always(429)},
		{name: "500", first: always(500)},
		{name: "503", first: always(503)},
		{name: "203", first: always(203)},
		{
			name: "redirect is not followed",
			first: func(w http.ResponseWriter, r *http.Request, _ int) int {
				http.Redirect(w, r, "/elsewhere", http.StatusFound)
				return 0
			},
		},
		{
			name: "connection closed without an answer",
			first: func(w http.ResponseWriter, _ *http.Request, _ int) int {
				conn, _, err := http.NewResponseController(w).Hijack()
				if err == nil {
					_ = conn.Close()
				}
				return 0
			},
		},
		{
			name: "no answer within the ack deadline",
			first: func(_ http.ResponseWriter, r *http.Request, _ int) int {
				<-r.Context().Done() // the dispatcher gives up and hangs up
				return 0
			},
			ackDeadline: time.Second,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ps := newPubsub(t)
			ep := newEndpoint(t, func(w http.ResponseWriter, r *http.Request, n int) int {
				if n == 1 {
					return tt.first(w, r, n)
				}
				return 204
			})
			waits := &noWait{}
			id := ps.publish("retry me", nil)
			r := start(t, ps, Config{Endpoint: ep.srv.URL, AckDeadline: tt.ackDeadline}, waits.install)
			first, second := ep.next(t), ep.next(t)
			r.stop(t)

			for i, req := range []received{first, second} {
				env := decodeEnvelope(t, req.body)
				if env.Message.MessageID != id {
					t.Errorf("request %d: messageId %q, want %q", i+1, env.Message.MessageID, id)
				}
				if env.DeliveryAttempt != i+1 {
					t.Errorf("request %d: deliveryAttempt %d, want %d", i+1, env.DeliveryAttempt, i+1)
				}
			}
			if got, want := waits.got(), []time.Duration{DefaultMinBackoff}; !slices.Equal(got, want) {
				t.Errorf("backoffs %v, want %v", got, want)
			}
			if m := ps.message(t, id); m.Acks != 1 {
				t.Errorf("server: acks %d, want 1", m.Acks)
			}
			if got, want := r.d.Stats(), (Stats{Delivered: 2, Acked: 1, Nacked: 1}); got != want {
				t.Errorf("Stats() = %+v, want %+v", got, want)
			}
		})
	}
}

func TestBackoffGrowsAcrossRedeliveries(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		min, max time.Duration
		want     []time.Duration
	}{
		{name: "defaults", want: []time.Duration{10 * time.Second, 20 * time.Second, 40 * time.Second, 80 * time.Second}},
		{name: "capped", min: 10 * time.Second, max: 25 * time.Second,
			want: []time.Duration{10 * time.Second, 20 * time.Second, 25 * time.Second, 25 * time.Second}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ps := newPubsub(t)
			fails := len(tt.want)
			ep := newEndpoint(t, func(_ http.ResponseWriter, _ *http.Request, n int) int {
				if n <= fails {
					return 500
				}
				return 204
			})
			waits := &noWait{}
			id := ps.publish("flaky", nil)
			r := start(t, ps, Config{Endpoint: ep.srv.URL, MinBackoff: tt.min, MaxBackoff: tt.max}, waits.install)
			var attempts []int
			for range fails + 1 {
				attempts = append(attempts, decodeEnvelope(t, ep.next(t).body).DeliveryAttempt)
			}
			r.stop(t)

			if want := []int{1, 2, 3, 4, 5}; !slices.Equal(attempts, want) {
				t.Errorf("deliveryAttempt %v, want %v", attempts, want)
			}
			if got := waits.got(); !slices.Equal(got, tt.want) {
				t.Errorf("backoffs %v, want %v", got, tt.want)
			}
			if m := ps.message(t, id); m.Acks != 1 {
				t.Errorf("server: acks %d, want 1", m.Acks)
			}
		})
	}
}

// pushEnvelope is the wrapped push body as an endpoint reads it, written
// here independently of the dispatcher's own type.
type pushEnvelope struct {
	Message struct {
		Data             []byte            `json:"data"`
		Attributes       map[string]string `json:"attributes"`
		MessageID        string            `json:"messageId"`
		MessageIDSnake   string            `json:"message_id"`
		PublishTime      string            `json:"publishTime"`
		PublishTimeSnake string            `json:"publish_time"`
		OrderingKey      string            `json:"orderingKey"`
	} `json:"message"`
	Subscription    string `json:"subscription"`
	DeliveryAttempt int    `json:"deliveryAttempt"`
}

func decodeEnvelope(t *testing.T, body []byte) pushEnvelope {
	t.Helper()
	var env pushEnvelope
	if err := json.Unmarshal(body, &env); err != nil {
		t.Fatalf("body is not a push envelope: %v\n%s", err, body)
	}
	return env
}
