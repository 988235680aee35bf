package dispatch

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"cloud.google.com/go/pubsub/v2"
)

func TestNewRejectsBadConfig(t *testing.T) {
	t.Parallel()
	sub := &pubsub.Subscriber{}
	tests := []struct {
		name  string
		cfg   Config
		wants []string // each must appear in the error
	}{
		{"no subscriber", Config{Endpoint: "http://x/"}, []string{"Subscriber is required"}},
		{"no endpoint", Config{Subscriber: sub}, []string{"Endpoint is required"}},
		{"relative endpoint", Config{Subscriber: sub, Endpoint: "/pubsub/push"}, []string{"Endpoint is not"}},
		{"other scheme", Config{Subscriber: sub, Endpoint: "ftp://x/"}, []string{"Endpoint is not"}},
		{"metadata without unwrapping", Config{Subscriber: sub, Endpoint: "http://x/", WriteMetadata: true}, []string{"WriteMetadata needs Unwrapped"}},
		{"negative concurrency", Config{Subscriber: sub, Endpoint: "http://x/", MaxConcurrent: -1}, []string{"MaxConcurrent"}},
		{"negative deadline", Config{Subscriber: sub, Endpoint: "http://x/", AckDeadline: -time.Second}, []string{"AckDeadline"}},
		{"min above max", Config{Subscriber: sub, Endpoint: "http://x/", MinBackoff: time.Minute, MaxBackoff: time.Second}, []string{"MinBackoff"}},
		{"negative attempts", Config{Subscriber: sub, Endpoint: "http://x/", MaxAttempts: -1}, []string{"MaxAttempts"}},
		{
			"every problem at once",
			Config{Endpoint: "nope", MaxConcurrent: -1, MaxAttempts: -2},
			[]string{"Subscriber", "Endpoint", "MaxConcurrent", "MaxAttempts"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.cfg)
			if err == nil {
				t.Fatal("New accepted the config")
			}
			for _, want := range tt.wants {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not mention %q", err, want)
				}
			}
		})
	}
}

func TestNewDoesNotEchoEndpointSecret(t *testing.T) {
	t.Parallel()
	_, err := New(Config{Endpoint: "mailto:SECRET"})
	if err == nil || strings.Contains(err.Error(), "SECRET") {
		t.Errorf("error %v: want an error without the endpoint", err)
	}
}

func TestNewDefaults(t *testing.T) {
	t.Parallel()
	ps := newPubsub(t)
	d, err := New(Config{Subscriber: ps.client.Subscriber("s"), Endpoint: "http://127.0.0.1:8080/pubsub/push"})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	got := d.cfg
	for _, c := range []struct {
		name      string
		got, want any
	}{
		{"Subscription", got.Subscription, testSub},
		{"Audience", got.Audience, "http://127.0.0.1:8080/pubsub/push"},
		{"MaxConcurrent", got.MaxConcurrent, DefaultMaxConcurrent},
		{"AckDeadline", got.AckDeadline, DefaultAckDeadline},
		{"MinBackoff", got.MinBackoff, DefaultMinBackoff},
		{"MaxBackoff", got.MaxBackoff, DefaultMaxBackoff},
		{"slots", cap(d.slots), DefaultMaxConcurrent},
		{"own client", d.ownHTTP, true},
	} {
		if fmt.Sprint(c.got) != fmt.Sprint(c.want) {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
	if got.Logger == nil {
		t.Error("Logger left nil")
	}
}

func TestRedactedEndpoint(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"https://svc.example/pubsub/push", "https://svc.example/pubsub/push"},
		{"https://user:SECRET@svc.example/p?token=SECRET#x", "https://svc.example/p"},
		{"::bad", ""},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := redactedEndpoint(tt.in); got != tt.want {
				t.Errorf("redactedEndpoint(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestTransportErrorDropsURL(t *testing.T) {
	t.Parallel()
	d, err := New(Config{Subscriber: &pubsub.Subscriber{}, Endpoint: "http://127.0.0.1:1/push?token=SECRET", AckDeadline: 5 * time.Second})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	out := d.deliver(t.Context(), &pubsub.Message{ID: "1"}, 1)
	if out.err == nil {
		t.Fatal("delivery to a closed port succeeded")
	}
	if strings.Contains(out.err.Error(), "SECRET") {
		t.Errorf("error %q holds the endpoint's query", out.err)
	}
}
