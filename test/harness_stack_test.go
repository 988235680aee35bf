package test

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"cloud.google.com/go/pubsub/v2"
	pb "cloud.google.com/go/pubsub/v2/apiv1/pubsubpb"
	"cloud.google.com/go/pubsub/v2/pstest"
	"google.golang.org/api/option"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/cloudrun-authn/pushgate/authn/authntest"
	"github.com/cloudrun-authn/pushgate/service/dispatch"
)

// stack is the world around one service process: Google's and Clerk's key
// servers, an in-process Pub/Sub (pstest over gRPC) and the production
// environment pointing at them. Tests adjust env (and the key servers)
// before they start the process.
type stack struct {
	googleKeys *authntest.KeyServer
	clerkKeys  *authntest.KeyServer
	pubsub     *pubsubFake
	env        map[string]string
}

// newStack starts the stand-ins and returns the production configuration
// for them: Google and Clerk auth on, publishing to pstest, CORS and
// authorized parties for appOrigin.
func newStack(t *testing.T) *stack {
	t.Helper()
	s := &stack{
		googleKeys: authntest.NewKeyServer(t, e2e.google),
		clerkKeys:  authntest.NewClerkKeyServer(t, e2e.clerkSecret, e2e.clerk),
		pubsub:     newPubsubFake(t),
	}
	s.env = map[string]string{
		"GOOGLE_CLOUD_PROJECT":       project,
		"AUTH_GOOGLE_AUDIENCES":      audience,
		"AUTH_GOOGLE_ALLOWED_EMAILS": computeEmail,
		"AUTH_GOOGLE_CERTS_URL":      s.googleKeys.URL,
		"CLERK_ISSUER":               clerkIssuer,
		"CLERK_SECRET_KEY":           e2e.clerkSecret,
		"CLERK_API_URL":              s.clerkKeys.URL,
		"CLERK_AUTHORIZED_PARTIES":   appOrigin,
		"CORS_ALLOWED_ORIGINS":       appOrigin,
		"PUBSUB_EMULATOR_HOST":       s.pubsub.srv.Addr,
		"PUBSUB_TOPIC":               topicID,
	}
	return s
}

// start starts the reference binary in this stack.
func (s *stack) start(t *testing.T) *proc {
	t.Helper()
	return startProc(t, "pushgate", e2e.bin, s.env)
}

// pubsubFake is pstest listening on loopback, with the topic the service
// publishes to, a pull subscription on it (what the dispatcher delivers
// from) and a client.
type pubsubFake struct {
	srv    *pstest.Server
	client *pubsub.Client
	topic  string // full names
	sub    string
}

func newPubsubFake(t *testing.T) *pubsubFake {
	t.Helper()
	srv := pstest.NewServerWithAddress("127.0.0.1:0")
	t.Cleanup(func() { _ = srv.Close() })
	f := &pubsubFake{
		srv:   srv,
		topic: "projects/" + project + "/topics/" + topicID,
		sub:   "projects/" + project + "/subscriptions/" + subscriptionID,
	}
	ctx := t.Context()
	if _, err := srv.GServer.CreateTopic(ctx, &pb.Topic{Name: f.topic}); err != nil {
		t.Fatalf("pstest: create topic: %v", err)
	}
	if _, err := srv.GServer.CreateSubscription(ctx, &pb.Subscription{
		Name: f.sub, Topic: f.topic, AckDeadlineSeconds: 10,
	}); err != nil {
		t.Fatalf("pstest: create subscription: %v", err)
	}
	conn, err := grpc.NewClient(srv.Addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatalf("pstest: dial: %v", err)
	}
	client, err := pubsub.NewClient(context.WithoutCancel(ctx), project, option.WithGRPCConn(conn))
	if err != nil {
		t.Fatalf("pstest: client: %v", err)
	}
	t.Cleanup(func() { _ = client.Close() })
	f.client = client
	return f
}

// publish publishes one message straight to pstest and returns its ID.
func (f *pubsubFake) publish(data string, attrs map[string]string) string {
	return f.srv.Publish(f.topic, []byte(data), attrs)
}

// pusher is a push subscription: service/dispatch delivering the pstest
// subscription's messages to a service's /pubsub/push with Google-shaped
// tokens minted by the test, reused across deliveries as Pub/Sub does.
type pusher struct {
	d    *dispatch.Dispatcher
	logs *syncBuffer
	stop func() // stops the dispatcher and waits for Run to return
}

// pushOptions adjust the dispatcher; zero values are the defaults below.
type pushOptions struct {
	maxConcurrent int
}

// startPusher starts delivering to endpoint (the service's /pubsub/push
// URL) until the test ends or stop is called. Backoffs are short
// (50 ms to 500 ms) so that retries are quick.
func (s *stack) startPusher(t *testing.T, endpoint string, o pushOptions) *pusher {
	t.Helper()
	if o.maxConcurrent == 0 {
		o.maxConcurrent = 16
	}
	logs := &syncBuffer{}
	tokens := dispatch.CachedTokenSource(func(ctx context.Context, aud string) (string, error) {
		c := serviceClaims()
		c["aud"] = aud
		tok, err := e2e.google.Sign(c)
		if err == nil {
			e2e.tokens.add(tok)
		}
		return tok, err
	}, 0)
	d, err := dispatch.New(dispatch.Config{
		Subscriber:    s.pubsub.client.Subscriber(s.pubsub.sub),
		Subscription:  s.pubsub.sub,
		Endpoint:      endpoint,
		Audience:      audience,
		Tokens:        tokens,
		MaxConcurrent: o.maxConcurrent,
		MinBackoff:    50 * time.Millisecond,
		MaxBackoff:    500 * time.Millisecond,
		Logger:        slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelWarn})),
	})
	if err != nil {
		t.Fatalf("dispatch.New: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	var once sync.Once
	p := &pusher{d: d, logs: logs}
	p.stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("dispatcher: %v", err)
			}
			if i, what, found := e2e.tokens.leak(strings.Split(logs.String(), "\n")); found {
				t.Errorf("dispatcher log line %d holds %s", i, what)
			}
		})
	}
	t.Cleanup(p.stop)
	return p
}

// syncBuffer is a bytes.Buffer safe for concurrent use.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}
