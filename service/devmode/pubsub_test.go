package devmode

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"cloud.google.com/go/pubsub/v2"
)

func TestStartPubSubDeliversToSubscription(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ps, err := StartPubSub(ctx, Project, Topic, Subscription)
	if err != nil {
		t.Fatalf("StartPubSub: %v", err)
	}
	t.Cleanup(func() {
		if err := ps.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	if !strings.HasPrefix(ps.Server.Addr, "127.0.0.1:") {
		t.Errorf("server address = %q, want loopback 127.0.0.1", ps.Server.Addr)
	}
	if got, want := ps.Topic, "projects/local-dev/topics/events"; got != want {
		t.Errorf("Topic = %q, want %q", got, want)
	}
	if got, want := ps.Subscription, "projects/local-dev/subscriptions/events-push"; got != want {
		t.Errorf("Subscription = %q, want %q", got, want)
	}
	if first, second := ps.Publisher(), ps.Publisher(); first != second {
		t.Error("Publisher returns a new publisher per call, want one shared publisher")
	}

	id, err := ps.Publisher().Publish(ctx, &pubsub.Message{
		Data:       []byte("hello"),
		Attributes: map[string]string{"kind": "greeting"},
	}).Get(ctx)
	if err != nil {
		t.Fatalf("Publish: %v", err)
	}

	recvCtx, stop := context.WithCancel(ctx)
	var (
		once sync.Once
		got  *pubsub.Message
	)
	err = ps.Subscriber().Receive(recvCtx, func(_ context.Context, m *pubsub.Message) {
		m.Ack()
		once.Do(func() { got = m; stop() })
	})
	if err != nil {
		t.Fatalf("Receive: %v", err)
	}
	if got == nil {
		t.Fatal("Receive ended without a message")
	}
	if got.ID != id {
		t.Errorf("message ID = %q, want the published %q", got.ID, id)
	}
	if string(got.Data) != "hello" {
		t.Errorf("data = %q, want %q", got.Data, "hello")
	}
	if got.Attributes["kind"] != "greeting" {
		t.Errorf("attributes = %v, want kind=greeting", got.Attributes)
	}
	if got.PublishTime.IsZero() {
		t.Error("publish time is zero")
	}
}

func TestStartPubSubErrors(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, project, topic, sub string }{
		{"no project", "", Topic, Subscription},
		{"no topic", Project, "", Subscription},
		{"no subscription", Project, Topic, ""},
		{"project with slash", "a/b", Topic, Subscription},
		{"topic with space", Project, "no spaces", Subscription},
		{"topic with slash", Project, "a/b/c", Subscription},
		{"short subscription", Project, Topic, "ab"},
		{"subscription starting with a digit", Project, Topic, "1abc"},
		{"reserved prefix", Project, "goog-events", Subscription},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			ps, err := StartPubSub(ctx, tt.project, tt.topic, tt.sub)
			if err == nil {
				ps.Close()
				t.Fatal("StartPubSub: no error, want one")
			}
		})
	}
}

func TestPubSubCloseTwice(t *testing.T) {
	t.Parallel()
	ps, err := StartPubSub(context.Background(), Project, Topic, Subscription)
	if err != nil {
		t.Fatalf("StartPubSub: %v", err)
	}
	if err := ps.Close(); err != nil {
		t.Errorf("first Close: %v", err)
	}
	if err := ps.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}
