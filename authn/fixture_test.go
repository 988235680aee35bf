package authn_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/cloudrun-authn/pushgate/authn"
	"github.com/cloudrun-authn/pushgate/authn/authntest"
	"github.com/cloudrun-authn/pushgate/authn/mint"
)

// Names shared by the tests.
const (
	testProject  = "acme"
	testAudience = "https://pushgate.example.run.app"
	testEmail    = "pubsub-push@acme.iam.gserviceaccount.com"
	clerkIssuer  = "https://clerk.acme.example"
	clerkSecret  = "sk_test_0123456789abcdefSECRET"
	clerkParty   = "https://app.acme.example"
	clerkUser    = "user_2abcDEF"
)

// Keys are expensive to generate: TestMain makes them once per test binary,
// before any test reads them. They are read-only after that.
var (
	googleKey, googleKey2, clerkKey *mint.Signer
	otherKeySameKID                 *mint.Signer
)

func TestMain(m *testing.M) {
	for _, k := range []struct {
		dst **mint.Signer
		kid string
	}{{&googleKey, "google-1"}, {&googleKey2, "google-2"}, {&clerkKey, "ins_clerk_1"}, {&otherKeySameKID, "google-1"}} {
		s, err := mint.NewSigner(k.kid)
		if err != nil {
			fmt.Fprintln(os.Stderr, "NewSigner:", err)
			os.Exit(2)
		}
		*k.dst = s
	}
	os.Exit(m.Run())
}

func mustSigner(tb testing.TB, kid string) *mint.Signer {
	tb.Helper()
	s, err := mint.NewSigner(kid)
	if err != nil {
		tb.Fatalf("NewSigner(%q): %v", kid, err)
	}
	return s
}

// fakeClock is an injected clock that moves only when told.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newFakeClock() *fakeClock { return &fakeClock{now: time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// syncBuffer is a log sink safe for concurrent writes.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) Reset() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf.Reset()
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// fixture is an Authenticator with both providers, served by fake key servers.
type fixture struct {
	clock   *fakeClock
	google  *authntest.KeyServer
	clerk   *authntest.KeyServer
	logs    *syncBuffer
	metrics *metricReader
	auth    *authn.Authenticator
}

type fixtureOption func(*authn.Config)

func newFixture(t *testing.T, opts ...fixtureOption) *fixture {
	t.Helper()
	f := &fixture{
		clock:   newFakeClock(),
		google:  authntest.NewKeyServer(t, googleKey, googleKey2),
		clerk:   authntest.NewClerkKeyServer(t, clerkSecret, clerkKey),
		logs:    &syncBuffer{},
		metrics: newMetricReader(),
	}
	cfg := authn.Config{
		MeterProvider: f.metrics.provider,
		Google: &authn.GoogleConfig{
			Audiences:     []string{testAudience, "https://other.example"},
			ProjectID:     testProject,
			AllowedEmails: []string{"123456789-compute@developer.gserviceaccount.com"},
			CertsURL:      f.google.URL + "/oauth2/v3/certs",
		},
		Clerk: &authn.ClerkConfig{
			Issuer:            clerkIssuer,
			SecretKey:         clerkSecret,
			APIURL:            f.clerk.URL,
			AuthorizedParties: []string{clerkParty},
		},
		Logger: slog.New(slog.NewJSONHandler(f.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Now:    f.clock.Now,
	}
	for _, o := range opts {
		o(&cfg)
	}
	a, err := authn.New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	f.auth = a
	return f
}

func (f *fixture) googleClaims() map[string]any {
	return mint.GoogleClaims(testAudience, testEmail, f.clock.Now(), time.Hour)
}

func (f *fixture) clerkClaims() map[string]any {
	c := mint.ClerkClaims(clerkIssuer, clerkUser, f.clock.Now(), time.Minute)
	c["azp"] = clerkParty
	return c
}

func sign(tb testing.TB, s *mint.Signer, claims map[string]any) string {
	tb.Helper()
	tok, err := s.Sign(claims)
	if err != nil {
		tb.Fatalf("Sign: %v", err)
	}
	return tok
}

// signWithHeader signs claims under an arbitrary header with s's key.
func signWithHeader(tb testing.TB, s *mint.Signer, header, claims map[string]any) string {
	tb.Helper()
	h, err := json.Marshal(header)
	if err != nil {
		tb.Fatal(err)
	}
	p, err := json.Marshal(claims)
	if err != nil {
		tb.Fatal(err)
	}
	tok, err := s.SignRaw(h, p)
	if err != nil {
		tb.Fatal(err)
	}
	return tok
}

// unsigned builds header.payload.sig from parts without any signing.
func unsigned(tb testing.TB, header, claims map[string]any, sig string) string {
	tb.Helper()
	h, _ := json.Marshal(header)
	p, _ := json.Marshal(claims)
	enc := base64.RawURLEncoding
	return enc.EncodeToString(h) + "." + enc.EncodeToString(p) + "." + sig
}

func bearer(method, tok string) *http.Request {
	r := httptest.NewRequest(method, "/target", nil)
	r.Header.Set("Authorization", "Bearer "+tok)
	return r
}

func cookie(method, tok string) *http.Request {
	r := httptest.NewRequest(method, "/target", nil)
	r.AddCookie(&http.Cookie{Name: authn.SessionCookie, Value: tok})
	return r
}

// serve runs r through Middleware with a handler that echoes the principal's kind.
func (f *fixture) serve(r *http.Request) *httptest.ResponseRecorder {
	h := f.auth.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, _ := authn.PrincipalFrom(r.Context())
		_, _ = w.Write([]byte(p.Kind))
	}))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	return rec
}

// assertNoTokenLeak fails when the token, or a long piece of it, appears in s.
func assertNoTokenLeak(t *testing.T, where, s, tok string) {
	t.Helper()
	if tok == "" {
		return
	}
	if strings.Contains(s, tok) {
		t.Errorf("%s contains the token", where)
		return
	}
	for _, part := range strings.Split(tok, ".") {
		if len(part) >= 16 && strings.Contains(s, part) {
			t.Errorf("%s contains a segment of the token", where)
		}
	}
}

// metricReader collects an Authenticator's metrics with the OpenTelemetry
// SDK's manual reader.
type metricReader struct {
	reader   *sdkmetric.ManualReader
	provider *sdkmetric.MeterProvider
}

func newMetricReader() *metricReader {
	r := sdkmetric.NewManualReader()
	return &metricReader{reader: r, provider: sdkmetric.NewMeterProvider(sdkmetric.WithReader(r))}
}

// count sums the counter name's data points whose attributes include
// every one of attrs ("key=value").
func (m *metricReader) count(tb testing.TB, name string, attrs ...string) int64 {
	tb.Helper()
	var total int64
	for _, dp := range m.points(tb, name) {
		if hasAttributes(dp.Attributes, attrs) {
			total += dp.Value
		}
	}
	return total
}

func (m *metricReader) points(tb testing.TB, name string) []metricdata.DataPoint[int64] {
	tb.Helper()
	var rm metricdata.ResourceMetrics
	if err := m.reader.Collect(context.Background(), &rm); err != nil {
		tb.Fatal(err)
	}
	for _, sm := range rm.ScopeMetrics {
		for _, metric := range sm.Metrics {
			if metric.Name == name {
				return metric.Data.(metricdata.Sum[int64]).DataPoints
			}
		}
	}
	return nil
}

func hasAttributes(set attribute.Set, attrs []string) bool {
	for _, kv := range attrs {
		k, v, _ := strings.Cut(kv, "=")
		got, ok := set.Value(attribute.Key(k))
		if !ok || got.String() != v {
			return false
		}
	}
	return true
}
