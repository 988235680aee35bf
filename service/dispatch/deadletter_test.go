package dispatch

import (
	"bufio"
	"encoding/json"
	"maps"
	"slices"
	"strings"
	"testing"

	"cloud.google.com/go/pubsub/v2"
)

// errorLines returns the ERROR log lines, decoded.
func errorLines(t *testing.T, logs string) []map[string]any {
	t.Helper()
	var out []map[string]any
	sc := bufio.NewScanner(strings.NewReader(logs))
	for sc.Scan() {
		var line map[string]any
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			t.Fatalf("log line is not JSON: %v: %s", err, sc.Text())
		}
		if line["level"] == "ERROR" {
			out = append(out, line)
		}
	}
	return out
}

func TestDeadLetterAfterMaxAttempts(t *testing.T) {
	t.Parallel()
	for _, withTopic := range []bool{true, false} {
		name := "with dead-letter topic"
		if !withTopic {
			name = "without dead-letter topic"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ps := newPubsub(t)
			ep := newEndpoint(t, always(500))
			logger, logs := newLogger(t)
			cfg := Config{Endpoint: ep.srv.URL, MaxAttempts: 3, Logger: logger}
			if withTopic {
				dl := ps.client.Publisher(testDLTopic)
				t.Cleanup(dl.Stop)
				cfg.DeadLetter = dl
			}
			attrs := map[string]string{"kind": "poison"}
			id := ps.publish("poison", attrs)
			r := start(t, ps, cfg, (&noWait{}).install)
			var attempts []int
			for range 3 {
				attempts = append(attempts, decodeEnvelope(t, ep.next(t).body).DeliveryAttempt)
			}
			r.stop(t)

			if want := []int{1, 2, 3}; !slices.Equal(attempts, want) {
				t.Errorf("deliveryAttempt %v, want %v", attempts, want)
			}
			if got := len(ep.requests()); got != 3 {
				t.Errorf("endpoint saw %d requests, want 3", got)
			}
			if m := ps.message(t, id); m.Acks != 1 {
				t.Errorf("server: acks %d, want 1 (dead-lettered messages are acknowledged)", m.Acks)
			}
			if got, want := r.d.Stats(), (Stats{Delivered: 3, Nacked: 2, DeadLettered: 1}); got != want {
				t.Errorf("Stats() = %+v, want %+v", got, want)
			}
			if n := r.d.attempts.len(); n != 0 {
				t.Errorf("attempt log still holds %d IDs", n)
			}

			errs := errorLines(t, logs.String())
			if len(errs) != 1 {
				t.Fatalf("%d ERROR lines, want 1:\n%s", len(errs), logs.String())
			}
			if errs[0]["message_id"] != id || errs[0]["attempts"] != float64(3) {
				t.Errorf("ERROR line %v, want message_id %s and attempts 3", errs[0], id)
			}

			dead := ps.onTopic(testDLTopic)
			if !withTopic {
				if len(dead) != 0 {
					t.Errorf("%d messages on the dead-letter topic, want none", len(dead))
				}
				return
			}
			if len(dead) != 1 {
				t.Fatalf("%d messages on the dead-letter topic, want 1", len(dead))
			}
			if got := string(dead[0].Data); got != "poison" {
				t.Errorf("dead-letter data %q, want %q", got, "poison")
			}
			want := maps.Clone(attrs)
			want[AttrDeadLetterDeliveryCount] = "3"
			want[AttrDeadLetterSubscription] = "s"
			want[AttrDeadLetterSubscriptionProject] = "p"
			want[AttrDeadLetterPublishTime] = formatTime(ps.message(t, id).PublishTime)
			if got := dead[0].Attributes; !maps.Equal(got, want) {
				t.Errorf("dead-letter attributes %v, want %v", got, want)
			}
		})
	}
}

func TestDeadLetterPublishFailureKeepsMessage(t *testing.T) {
	t.Parallel()
	ps := newPubsub(t)
	ep := newEndpoint(t, always(500))
	logger, logs := newLogger(t)
	missing := ps.client.Publisher("projects/p/topics/missing")
	t.Cleanup(missing.Stop)
	id := ps.publish("poison", nil)
	r := start(t, ps, Config{Endpoint: ep.srv.URL, MaxAttempts: 2, DeadLetter: missing, Logger: logger}, (&noWait{}).install)
	// Attempt 2 is the last; its dead-lettering fails, so attempt 3 comes.
	for range 3 {
		ep.next(t)
	}
	r.stop(t)

	if m := ps.message(t, id); m.Acks != 0 {
		t.Errorf("server: acks %d, want 0 (a message that could not be dead-lettered must stay)", m.Acks)
	}
	if got := r.d.Stats().DeadLettered; got != 0 {
		t.Errorf("Stats().DeadLettered = %d, want 0", got)
	}
	if !strings.Contains(logs.String(), "dead-letter publish failed") {
		t.Errorf("no log of the failed dead-letter publish:\n%s", logs.String())
	}
}

func TestDeadLetterMessageKeepsOrderingKeyOnlyWithOrdering(t *testing.T) {
	t.Parallel()
	for _, ordering := range []bool{false, true} {
		pub := &pubsub.Publisher{EnableMessageOrdering: ordering}
		d := &Dispatcher{cfg: Config{DeadLetter: pub, Subscription: testSub}}
		got := d.deadLetterMessage(&pubsub.Message{ID: "1", Data: []byte("x"), OrderingKey: "k"}, 5)
		want := ""
		if ordering {
			want = "k"
		}
		if got.OrderingKey != want {
			t.Errorf("ordering %v: OrderingKey %q, want %q", ordering, got.OrderingKey, want)
		}
	}
}

func TestSplitSubscription(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, project, sub string }{
		{"projects/p/subscriptions/s", "p", "s"},
		{"s", "", "s"},
		{"projects/p/topics/t", "", "projects/p/topics/t"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			project, sub := splitSubscription(tt.name)
			if project != tt.project || sub != tt.sub {
				t.Errorf("splitSubscription(%q) = %q, %q; want %q, %q", tt.name, project, sub, tt.project, tt.sub)
			}
		})
	}
}
