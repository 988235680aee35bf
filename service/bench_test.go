package service

import (
	"bytes"
	"context"
	"crypto/rsa"
	"encoding/base64"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cloudrun-authn/pushgate/authn"
	"github.com/cloudrun-authn/pushgate/authn/mint"
	"github.com/cloudrun-authn/pushgate/handlers"
	"github.com/cloudrun-authn/pushgate/handlers/push"
)

// The benchmarks below run whole requests through NewServer's router, every
// middleware included, with a real Authenticator, the memory store and a
// JSON logger that writes to io.Discard. The access log is at its default,
// ACCESS_LOG=errors, so these successful requests write no line. They
// leave out net/http's connection handling, which the load harness in
// test/perf measures.
//
//	go test -run '^$' -bench 'Path$' -benchmem ./service/

const (
	benchIDWidth = 17
	benchParty   = "http://localhost:3000"
)

// benchServer is NewServer wired as Run wires it in production.
type benchServer struct {
	handler http.Handler
	google  *mint.Signer
	clerk   *mint.Signer
}

func newBenchServer(b testing.TB, cacheSize int, adapt ...func(*Deps)) *benchServer {
	b.Helper()
	google, err := mint.NewSigner("g1")
	if err != nil {
		b.Fatal(err)
	}
	clerk, err := mint.NewSigner("c1")
	if err != nil {
		b.Fatal(err)
	}
	d := Deps{
		Logger: NewLogger(io.Discard, testProject, slog.LevelInfo),
		Events: handlers.NewEventLog(0),
		Store:  push.NewMemoryStore(push.DefaultMemoryStoreSize, push.DefaultRetention, nil),
	}
	for _, f := range adapt {
		f(&d)
	}
	auth, err := authn.New(authn.Config{
		Google: &authn.GoogleConfig{
			Audiences: []string{testAudience}, ProjectID: testProject,
			Keys: authn.NewStaticKeySet(map[string]*rsa.PublicKey{google.KID: google.PublicKey()}),
		},
		Clerk: &authn.ClerkConfig{
			Issuer:            testIssuer,
			AuthorizedParties: []string{benchParty},
			Keys:              authn.NewStaticKeySet(map[string]*rsa.PublicKey{clerk.KID: clerk.PublicKey()}),
		},
		TokenCacheSize: cacheSize,
		Logger:         d.Logger,
		MeterProvider:  d.Telemetry.MeterProvider, // as serve wires it
	})
	if err != nil {
		b.Fatal(err)
	}
	d.Auth = auth
	return &benchServer{
		handler: NewServer(d),
		google:  google,
		clerk:   clerk,
	}
}

func (s *benchServer) googleToken(b testing.TB) string {
	b.Helper()
	tok, err := s.google.Sign(mint.GoogleClaims(testAudience, "pubsub-push@"+testProject+".iam.gserviceaccount.com", time.Now(), time.Hour))
	if err != nil {
		b.Fatal(err)
	}
	return tok
}

// clerkToken is a Clerk session token for subject, issued for benchParty.
func (s *benchServer) clerkToken(b testing.TB, subject string, ttl time.Duration) string {
	b.Helper()
	claims := mint.ClerkClaims(testIssuer, subject, time.Now(), ttl)
	claims["azp"] = benchParty
	tok, err := s.clerk.Sign(claims)
	if err != nil {
		b.Fatal(err)
	}
	return tok
}

// benchEnvelope is a wrapped push envelope as Pub/Sub sends it, with 1 KiB
// of data, and the offsets of its two message ID fields.
func benchEnvelope() ([]byte, []int) {
	data := bytes.Repeat([]byte("0123456789abcdef"), 64)
	id := fmt.Sprintf("%0*d", benchIDWidth, 0)
	body := fmt.Appendf(nil, `{"message":{"attributes":{"eventType":"order.created"},"data":%q,`+
		`"messageId":"%s","message_id":"%s","publishTime":"2026-01-15T10:00:00.123Z",`+
		`"publish_time":"2026-01-15T10:00:00.123Z"},"subscription":"projects/%s/subscriptions/orders"}`,
		base64.StdEncoding.EncodeToString(data), id, id, testProject)
	var at []int
	for off := 0; ; {
		i := bytes.Index(body[off:], []byte(id))
		if i < 0 {
			return body, at
		}
		at = append(at, off+i)
		off += i + benchIDWidth
	}
}

// putBenchID writes n as benchIDWidth digits at each offset.
func putBenchID(body []byte, at []int, n uint64) {
	for _, off := range at {
		v := n
		for i := off + benchIDWidth - 1; i >= off; i-- {
			body[i] = byte('0' + v%10)
			v /= 10
		}
	}
}

// benchWriter is a ResponseWriter that keeps nothing but the status, so
// that the benchmark measures the server, not a recorder.
type benchWriter struct {
	header http.Header
	status int
}

func (w *benchWriter) Header() http.Header { return w.header }
func (w *benchWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return len(p), nil
}
func (w *benchWriter) WriteHeader(status int) {
	if w.status == 0 {
		w.status = status
	}
}

func (w *benchWriter) reset() {
	clear(w.header)
	w.status = 0
}

// rewindBody is a request body that can be reset without allocating.
type rewindBody struct{ bytes.Reader }

func (*rewindBody) Close() error { return nil }

// BenchmarkPushPath is one Pub/Sub push delivery through the whole router:
// request ID, trace, access log, recovery, the authenticator with a cached
// Google token, the service policy, the body limit, envelope decoding,
// once-only processing in the memory store and the reference handler that
// records the event. Every delivery has a new message ID.
func BenchmarkPushPath(b *testing.B) {
	benchPush(b, newBenchServer(b, 0), false)
}

// BenchmarkWhoamiPath is GET /whoami with a cached Google token.
func BenchmarkWhoamiPath(b *testing.B) {
	s := newBenchServer(b, 0)
	req := httptest.NewRequest(http.MethodGet, "/whoami", nil)
	req.Header.Set("Authorization", "Bearer "+s.googleToken(b))
	w := &benchWriter{header: http.Header{}}

	b.ReportAllocs()
	for b.Loop() {
		w.reset()
		s.handler.ServeHTTP(w, req)
		if w.status != http.StatusOK {
			b.Fatalf("status %d, want 200", w.status)
		}
	}
}

// BenchmarkWhoamiClerkUncachedPath is GET /whoami with a Clerk token the
// server has not verified before: the token cache is off, so every request
// pays for a full verification, as it does when each carries a new token.
func BenchmarkWhoamiClerkUncachedPath(b *testing.B) {
	s := newBenchServer(b, -1)
	tok := s.clerkToken(b, "user_2abcdefghijklmnopqrstuvwxyz", time.Hour)
	req := httptest.NewRequest(http.MethodGet, "/whoami", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Origin", benchParty)
	w := &benchWriter{header: http.Header{}}

	b.ReportAllocs()
	for b.Loop() {
		w.reset()
		s.handler.ServeHTTP(w, req)
		if w.status != http.StatusOK {
			b.Fatalf("status %d, want 200", w.status)
		}
	}
}

// TestServerPrincipalPerRequest: the principal lives in each request's own
// context, so requests one after another on one keep-alive connection, and
// many at once, each see their own caller and never the one before: a
// request without a token after one with a token is refused.
func TestServerPrincipalPerRequest(t *testing.T) {
	t.Parallel()
	s := newBenchServer(t, 0)
	srv := httptest.NewServer(s.handler)
	defer srv.Close()
	google := s.googleToken(t)
	clerk := s.clerkToken(t, "user_1", time.Minute)
	whoami := func(c *http.Client, tok string) (int, string) {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+"/whoami", nil)
		if tok != "" {
			req.Header.Set("Authorization", "Bearer "+tok)
		}
		resp, err := c.Do(req)
		if err != nil {
			t.Error(err)
			return 0, ""
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	c := srv.Client() // one keep-alive connection, requests in turn
	for i, step := range []struct {
		tok      string
		status   int
		contains string
	}{
		{google, 200, `"kind":"service"`},
		{"", 401, ""},
		{clerk, 200, `"kind":"user"`},
		{"", 401, ""},
		{google, 200, `"kind":"service"`},
	} {
		status, body := whoami(c, step.tok)
		if status != step.status || !bytes.Contains([]byte(body), []byte(step.contains)) {
			t.Errorf("request %d: %d %s, want %d with %s", i, status, body, step.status, step.contains)
		}
	}
	var wg sync.WaitGroup
	for i := range 32 {
		wg.Go(func() {
			tok, want := google, `"kind":"service"`
			switch i % 3 {
			case 1:
				tok, want = clerk, `"kind":"user"`
			case 2:
				tok, want = "", ""
			}
			status, body := whoami(c, tok)
			if (tok == "" && status != 401) || (tok != "" && (status != 200 || !bytes.Contains([]byte(body), []byte(want)))) {
				t.Errorf("concurrent request %d: %d %s", i, status, body)
			}
		})
	}
	wg.Wait()
}

// TestServerEventDataUnderWrapPush: the event log keeps each delivery's
// data as delivered, with or without a WrapPush hook, even when the hook
// scrubs m.Data once the reference handler has returned.
func TestServerEventDataUnderWrapPush(t *testing.T) {
	t.Parallel()
	for _, wrapped := range []bool{false, true} {
		events := handlers.NewEventLog(0)
		s := newBenchServer(t, 0, func(d *Deps) {
			d.Events = events
			if wrapped {
				d.WrapPush = func(next push.HandlerFunc) push.HandlerFunc {
					return func(ctx context.Context, m *push.Message) error {
						defer clear(m.Data)
						return next(ctx, m)
					}
				}
			}
		})
		body, at := benchEnvelope()
		putBenchID(body, at, 1)
		req := httptest.NewRequest(http.MethodPost, "/pubsub/push", bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+s.googleToken(t))
		rec := httptest.NewRecorder()
		s.handler.ServeHTTP(rec, req)
		if rec.Code != http.StatusNoContent {
			t.Fatalf("wrapped=%v: status %d: %s", wrapped, rec.Code, rec.Body)
		}
		got := events.List()
		if want := strings.Repeat("0123456789abcdef", 64); len(got) != 1 || got[0].Data != want {
			t.Errorf("wrapped=%v: events %.80v…, want one with the delivered data", wrapped, got)
		}
	}
}

// TestServerRoutePolicies: the contract's table of who may call each route,
// through the whole router: the wrong kind of principal gets 403, no token
// 401 with WWW-Authenticate, both with a JSON error body; /healthz needs
// no token.
func TestServerRoutePolicies(t *testing.T) {
	t.Parallel()
	s := newBenchServer(t, 0)
	google := s.googleToken(t)
	clerk := s.clerkToken(t, "user_1", time.Minute)
	body, at := benchEnvelope()
	putBenchID(body, at, 7)
	tests := []struct {
		method, path, token string
		body                []byte
		want                int
	}{
		{http.MethodGet, "/healthz", "", nil, 200},
		{http.MethodGet, "/whoami", "", nil, 401},
		{http.MethodGet, "/whoami", google, nil, 200},
		{http.MethodGet, "/whoami", clerk, nil, 200},
		{http.MethodPost, "/pubsub/push", clerk, body, 403},
		{http.MethodPost, "/pubsub/push", "", body, 401},
		{http.MethodPost, "/pubsub/push", google, body, 204},
		{http.MethodPost, "/scheduler/nightly", clerk, nil, 403},
		{http.MethodPost, "/scheduler/nightly", "", nil, 401},
		{http.MethodPost, "/scheduler/nightly", google, nil, 204},
		{http.MethodGet, "/api/events", google, nil, 403},
		{http.MethodGet, "/api/events", "", nil, 401},
		{http.MethodGet, "/api/events", clerk, nil, 200},
		{http.MethodPost, "/api/events", google, []byte(`{"data":"x"}`), 403},
		{http.MethodPost, "/api/events", "", []byte(`{"data":"x"}`), 401},
		// The contract's "no topic configured" answer: this server has no publisher.
		{http.MethodPost, "/api/events", clerk, []byte(`{"data":"x"}`), 503},
	}
	for _, tt := range tests {
		req := httptest.NewRequest(tt.method, tt.path, bytes.NewReader(tt.body))
		if tt.token != "" {
			req.Header.Set("Authorization", "Bearer "+tt.token)
		}
		rec := httptest.NewRecorder()
		s.handler.ServeHTTP(rec, req)
		if rec.Code != tt.want {
			t.Errorf("%s %s (token %v): %d %s, want %d", tt.method, tt.path, tt.token != "", rec.Code, rec.Body, tt.want)
			continue
		}
		if tt.want == 401 && !strings.HasPrefix(rec.Header().Get("WWW-Authenticate"), "Bearer") {
			t.Errorf("%s %s: 401 without WWW-Authenticate: Bearer", tt.method, tt.path)
		}
		if tt.want >= 400 && !strings.Contains(rec.Body.String(), `"error":`) {
			t.Errorf("%s %s: %d body %q, want a JSON error", tt.method, tt.path, rec.Code, rec.Body)
		}
	}
}
