package service

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"cloud.google.com/go/pubsub/v2"
	"google.golang.org/api/option"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

// errPublisherStopped is returned by Publish after Stop.
var errPublisherStopped = errors.New("service: publisher stopped")

// Publisher publishes to one Pub/Sub topic. Its client is made once, on
// first use or by Warm in the background, so that start-up makes no blocking
// network call (finding credentials may ask the metadata server); Stop
// flushes what is pending and closes the client.
type Publisher struct {
	topic string
	dial  func(ctx context.Context) (*pubsub.Client, error)
	owns  bool // whether Stop closes the client

	mu      sync.Mutex
	client  *pubsub.Client
	pub     *pubsub.Publisher
	stopped bool
}

// NewPublisher returns a publisher to topic in project. With emulatorHost
// (PUBSUB_EMULATOR_HOST) it talks to the emulator without credentials.
// With tracing, the Pub/Sub client's OpenTelemetry tracing is on: each
// publish gets spans (children of the span in Publish's context) from
// OpenTelemetry's global tracer provider, the only one the client uses, and
// the message carries their trace context in its googclient_traceparent
// attribute, so that its push delivery continues the trace.
func NewPublisher(project, topic, emulatorHost string, tracing bool) *Publisher {
	return &Publisher{
		topic: topic,
		owns:  true,
		dial: func(ctx context.Context) (*pubsub.Client, error) {
			var opts []option.ClientOption
			if emulatorHost != "" {
				opts = append(opts,
					option.WithEndpoint(emulatorHost),
					option.WithoutAuthentication(),
					option.WithGRPCDialOption(grpc.WithTransportCredentials(insecure.NewCredentials())),
				)
			}
			return pubsub.NewClientWithConfig(ctx, project,
				&pubsub.ClientConfig{EnableOpenTelemetryTracing: tracing}, opts...)
		},
	}
}

// NewPublisherFrom wraps a publisher that its owner stops (dev mode's
// in-process Pub/Sub); Stop leaves it running.
func NewPublisherFrom(pub *pubsub.Publisher) *Publisher {
	return &Publisher{topic: pub.String(), pub: pub}
}

// Warm makes the client in the background, so the first publish is fast.
func (p *Publisher) Warm(ctx context.Context) {
	go func() { _, _ = p.publisher(ctx) }()
}

func (p *Publisher) publisher(ctx context.Context) (*pubsub.Publisher, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stopped {
		return nil, errPublisherStopped
	}
	if p.pub != nil {
		return p.pub, nil
	}
	client, err := p.dial(ctx)
	if err != nil {
		return nil, fmt.Errorf("service: pubsub client: %w", err)
	}
	p.client = client
	p.pub = client.Publisher(p.topic)
	return p.pub, nil
}

// Publish publishes one message and waits for its message ID.
func (p *Publisher) Publish(ctx context.Context, data []byte, attributes map[string]string) (string, error) {
	pub, err := p.publisher(ctx)
	if err != nil {
		return "", err
	}
	id, err := pub.Publish(ctx, &pubsub.Message{Data: data, Attributes: attributes}).Get(ctx)
	if err != nil {
		return "", fmt.Errorf("service: publish to %s: %w", p.topic, err)
	}
	return id, nil
}

// Stop sends what is pending, then closes the client if it owns it. Publish
// fails after Stop.
func (p *Publisher) Stop() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stopped {
		return nil
	}
	p.stopped = true
	if !p.owns {
		return nil
	}
	if p.pub != nil {
		p.pub.Stop()
	}
	if p.client != nil {
		return p.client.Close()
	}
	return nil
}
