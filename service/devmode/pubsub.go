package devmode

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"cloud.google.com/go/pubsub/v2"
	"cloud.google.com/go/pubsub/v2/apiv1/pubsubpb"
	"cloud.google.com/go/pubsub/v2/pstest"
	"google.golang.org/api/option"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

// ackDeadlineSeconds is the dev subscription's ack deadline, Pub/Sub's
// default for a push subscription.
const ackDeadlineSeconds = 10

// PubSub is an in-process Pub/Sub (the pstest fake, listening on loopback)
// with one topic and one pull subscription on it, and a client connected to
// it. The service publishes with [PubSub.Publisher]; the dev push loop pulls
// with [PubSub.Subscriber] and delivers each message to the service's own
// push endpoint. Nothing leaves the process; messages live in memory until
// Close.
type PubSub struct {
	// Server is the fake Pub/Sub server; Server.Addr is its gRPC address.
	Server *pstest.Server
	// Client is a client of Server for project.
	Client *pubsub.Client
	// Topic is the topic's full name, "projects/<project>/topics/<topic>".
	Topic string
	// Subscription is the subscription's full name,
	// "projects/<project>/subscriptions/<subscription>".
	Subscription string

	conn      *grpc.ClientConn
	publisher *pubsub.Publisher
	closeOnce sync.Once
	closeErr  error
}

// StartPubSub starts an in-process Pub/Sub server on 127.0.0.1, connects a
// client for project to it over plain gRPC, and creates the topic and a pull
// subscription to it (ack deadline 10 s). Topic and subscription are IDs,
// e.g. [Topic] and [Subscription]. The caller must call Close.
func StartPubSub(ctx context.Context, project, topic, subscription string) (*PubSub, error) {
	if project == "" || strings.Contains(project, "/") {
		return nil, fmt.Errorf("devmode: pubsub: bad project ID %q", project)
	}
	for _, id := range []string{topic, subscription} {
		if !validResourceID(id) {
			return nil, fmt.Errorf("devmode: pubsub: bad topic or subscription ID %q", id)
		}
	}
	srv, err := startServer()
	if err != nil {
		return nil, err
	}
	p := &PubSub{
		Server:       srv,
		Topic:        fmt.Sprintf("projects/%s/topics/%s", project, topic),
		Subscription: fmt.Sprintf("projects/%s/subscriptions/%s", project, subscription),
	}
	if err := p.connect(ctx, project); err != nil {
		p.Close()
		return nil, err
	}
	return p, nil
}

// validResourceID reports whether id follows Pub/Sub's rules for topic and
// subscription IDs, which pstest does not check: 3 to 255 characters from
// letters, digits and "-_.~+%", starting with a letter, not starting with
// "goog".
func validResourceID(id string) bool {
	if len(id) < 3 || len(id) > 255 || strings.HasPrefix(id, "goog") {
		return false
	}
	for i, r := range id {
		letter := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z'
		if !letter && (i == 0 || !(r >= '0' && r <= '9' || strings.ContainsRune("-_.~+%", r))) {
			return false
		}
	}
	return true
}

// startServer starts the fake on an ephemeral loopback port. pstest panics
// when it cannot listen; that becomes an error.
func startServer() (srv *pstest.Server, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("devmode: pubsub: start server: %v", r)
		}
	}()
	return pstest.NewServerWithAddress("127.0.0.1:0"), nil
}

// connect dials the server, creates the client, the topic and the
// subscription.
func (p *PubSub) connect(ctx context.Context, project string) error {
	conn, err := grpc.NewClient(p.Server.Addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return fmt.Errorf("devmode: pubsub: dial: %w", err)
	}
	p.conn = conn
	client, err := pubsub.NewClient(ctx, project, option.WithGRPCConn(conn))
	if err != nil {
		return fmt.Errorf("devmode: pubsub: client: %w", err)
	}
	p.Client = client
	if _, err := client.TopicAdminClient.CreateTopic(ctx, &pubsubpb.Topic{Name: p.Topic}); err != nil {
		return fmt.Errorf("devmode: pubsub: create topic: %w", err)
	}
	if _, err := client.SubscriptionAdminClient.CreateSubscription(ctx, &pubsubpb.Subscription{
		Name:               p.Subscription,
		Topic:              p.Topic,
		AckDeadlineSeconds: ackDeadlineSeconds,
	}); err != nil {
		return fmt.Errorf("devmode: pubsub: create subscription: %w", err)
	}
	p.publisher = client.Publisher(p.Topic)
	return nil
}

// Publisher returns the publisher for the topic. It is shared: every call
// returns the same one, and Close stops it.
func (p *PubSub) Publisher() *pubsub.Publisher {
	return p.publisher
}

// Subscriber returns a new subscriber for the subscription. A Subscriber
// allows one Receive at a time, so each call returns a fresh one.
func (p *PubSub) Subscriber() *pubsub.Subscriber {
	return p.Client.Subscriber(p.Subscription)
}

// Close stops the publisher (flushing what it holds), closes the client and
// its connection and stops the server. It is safe to call more than once;
// later calls return the first call's result.
func (p *PubSub) Close() error {
	p.closeOnce.Do(func() {
		var errs []error
		if p.publisher != nil {
			p.publisher.Stop()
		}
		switch {
		case p.Client != nil:
			errs = append(errs, p.Client.Close()) // closes conn too
		case p.conn != nil:
			errs = append(errs, p.conn.Close())
		}
		if p.Server != nil {
			errs = append(errs, p.Server.Close())
		}
		if err := errors.Join(errs...); err != nil {
			p.closeErr = fmt.Errorf("devmode: pubsub: close: %w", err)
		}
	})
	return p.closeErr
}
