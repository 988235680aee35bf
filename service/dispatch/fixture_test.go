package dispatch

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
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
)

// Names of the fixture's Pub/Sub resources.
const (
	testProject = "p"
	testTopic   = "projects/p/topics/t"
	testSub     = "projects/p/subscriptions/s"
	testDLTopic = "projects/p/topics/dead"
	testDLSub   = "projects/p/subscriptions/dead"
)

// waitLimit bounds every wait for a state in these tests. It is generous: it
// only turns a hang into a failure and is never part of an assertion.
const waitLimit = 20 * time.Second

// pubsubFixture is an in-process pstest server with a topic, a subscription
// and a dead-letter topic with its own subscription, and a client of it.
type pubsubFixture struct {
	srv    *pstest.Server
	client *pubsub.Client
}

func newPubsub(t *testing.T) *pubsubFixture {
	t.Helper()
	srv := pstest.NewServer()
	t.Cleanup(func() { _ = srv.Close() })
	ctx := t.Context()
	for _, topic := range []string{testTopic, testDLTopic} {
		if _, err := srv.GServer.CreateTopic(ctx, &pb.Topic{Name: topic}); err != nil {
			t.Fatalf("create topic %s: %v", topic, err)
		}
	}
	for sub, topic := range map[string]string{testSub: testTopic, testDLSub: testDLTopic} {
		if _, err := srv.GServer.CreateSubscription(ctx, &pb.Subscription{
			Name: sub, Topic: topic, AckDeadlineSeconds: 10,
		}); err != nil {
			t.Fatalf("create subscription %s: %v", sub, err)
		}
	}
	conn, err := grpc.NewClient(srv.Addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatalf("grpc client: %v", err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	client, err := pubsub.NewClient(ctx, testProject, option.WithGRPCConn(conn))
	if err != nil {
		t.Fatalf("pubsub client: %v", err)
	}
	t.Cleanup(func() { _ = client.Close() })
	return &pubsubFixture{srv: srv, client: client}
}

// publish publishes data with attrs to the test topic and returns its ID.
func (f *pubsubFixture) publish(data string, attrs map[string]string) string {
	return f.srv.Publish(testTopic, []byte(data), attrs)
}

// message is the server's record of message id.
func (f *pubsubFixture) message(t *testing.T, id string) *pstest.Message {
	t.Helper()
	m := f.srv.Message(id)
	if m == nil {
		t.Fatalf("no message %s on the server", id)
	}
	return m
}

// onTopic returns the messages ever published to topic.
func (f *pubsubFixture) onTopic(topic string) []*pstest.Message {
	var out []*pstest.Message
	for _, m := range f.srv.Messages() {
		if m.Topic == topic {
			out = append(out, m)
		}
	}
	return out
}

// testToken is what the tests' token source returns for an audience. Tests
// search the logs for it.
func testToken(audience string) string { return "tok-SECRET-for-" + audience }

// tokenCounter is a TokenSource that counts its calls.
type tokenCounter struct {
	mu        sync.Mutex
	audiences []string
}

func (tc *tokenCounter) source(_ context.Context, audience string) (string, error) {
	tc.mu.Lock()
	tc.audiences = append(tc.audiences, audience)
	tc.mu.Unlock()
	return testToken(audience), nil
}

func (tc *tokenCounter) calls() []string {
	tc.mu.Lock()
	defer tc.mu.Unlock()
	return append([]string(nil), tc.audiences...)
}

// logBuffer collects JSON log lines from any goroutine.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// newLogger returns a debug-level JSON logger writing to a buffer that is
// checked for the token when the test ends.
func newLogger(t *testing.T) (*slog.Logger, *logBuffer) {
	t.Helper()
	b := &logBuffer{}
	t.Cleanup(func() {
		if strings.Contains(b.String(), "SECRET") {
			t.Errorf("a token reached the log:\n%s", b.String())
		}
	})
	return slog.New(slog.NewJSONHandler(b, &slog.HandlerOptions{Level: slog.LevelDebug})), b
}

// received is one request as the endpoint saw it.
type received struct {
	n      int // 1 for the endpoint's first request
	header http.Header
	body   []byte
}

// endpoint is an httptest push endpoint. respond decides each response; the
// endpoint records every request and reports it on reqs.
type endpoint struct {
	srv  *httptest.Server
	reqs chan received

	mu  sync.Mutex
	all []received
}

// respondFunc answers request n (1-based); it may block, write any response
// itself and return 0, or return the status to write.
type respondFunc func(w http.ResponseWriter, r *http.Request, n int) int

func newEndpoint(t *testing.T, respond respondFunc) *endpoint {
	t.Helper()
	e := &endpoint{reqs: make(chan received, 1000)}
	e.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			t.Errorf("endpoint: read body: %v", err)
		}
		e.mu.Lock()
		rec := received{n: len(e.all) + 1, header: r.Header.Clone(), body: body}
		e.all = append(e.all, rec)
		e.mu.Unlock()
		e.reqs <- rec
		if status := respond(w, r, rec.n); status != 0 {
			w.WriteHeader(status)
		}
	}))
	t.Cleanup(e.srv.Close)
	return e
}

// requests returns every request seen so far.
func (e *endpoint) requests() []received {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]received(nil), e.all...)
}

// next waits for the endpoint's next request.
func (e *endpoint) next(t *testing.T) received {
	t.Helper()
	select {
	case r := <-e.reqs:
		return r
	case <-time.After(waitLimit):
		t.Fatalf("no request reached the endpoint within %v", waitLimit)
		return received{}
	}
}

// always answers every request with status.
func always(status int) respondFunc {
	return func(http.ResponseWriter, *http.Request, int) int { return status }
}

// running is a Dispatcher started by start.
type running struct {
	d      *Dispatcher
	cancel context.CancelFunc
	done   chan error
}

// start builds a Dispatcher for the fixture's subscription and runs it.
// The test must call stop (or cleanup does).
func start(t *testing.T, ps *pubsubFixture, cfg Config, setup ...func(*Dispatcher)) *running {
	t.Helper()
	if cfg.Subscriber == nil {
		cfg.Subscriber = ps.client.Subscriber(testSub)
	}
	if cfg.Logger == nil {
		cfg.Logger, _ = newLogger(t)
	}
	d, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	for _, f := range setup {
		f(d)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{d: d, cancel: cancel, done: make(chan error, 1)}
	go func() { r.done <- d.Run(ctx) }()
	t.Cleanup(func() {
		r.cancel()
		select {
		case <-r.done:
		case <-time.After(waitLimit):
			t.Errorf("Run did not return within %v of its context ending", waitLimit)
		}
	})
	return r
}

// stop cancels Run and waits for it to return, failing on an error.
func (r *running) stop(t *testing.T) {
	t.Helper()
	r.cancel()
	select {
	case err := <-r.done:
		r.done <- err // for cleanup
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
	case <-time.After(waitLimit):
		t.Fatalf("Run did not return within %v of its context ending", waitLimit)
	}
}

// noWait replaces the backoff wait: it records each backoff asked for and
// returns at once.
type noWait struct {
	mu    sync.Mutex
	waits []time.Duration
}

func (nw *noWait) install(d *Dispatcher) {
	d.wait = func(ctx context.Context, dur time.Duration) error {
		nw.mu.Lock()
		nw.waits = append(nw.waits, dur)
		nw.mu.Unlock()
		return ctx.Err()
	}
}

func (nw *noWait) got() []time.Duration {
	nw.mu.Lock()
	defer nw.mu.Unlock()
	return append([]time.Duration(nil), nw.waits...)
}

// errSentinel is a TokenSource failure.
var errSentinel = errors.New("token source down")
