package service

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cloudrun-authn/pushgate/authn/authntest"
	"github.com/cloudrun-authn/pushgate/authn/mint"
	"github.com/cloudrun-authn/pushgate/handlers/push"
	"github.com/cloudrun-authn/pushgate/service/devmode"
)

// syncBuffer is a bytes.Buffer safe for the server's and the test's
// goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

const (
	testProject  = "acme-test"
	testAudience = "https://pushgate-test.example.run.app"
	testIssuer   = "https://clerk.acme-test.example"
)

// testEnv is a production configuration against local key servers.
type testEnv struct {
	google, clerk *mint.Signer
	vars          map[string]string
}

func newTestEnv(t *testing.T) *testEnv {
	t.Helper()
	google, err := mint.NewSigner("g1")
	if err != nil {
		t.Fatal(err)
	}
	clerk, err := mint.NewSigner("c1")
	if err != nil {
		t.Fatal(err)
	}
	keys := authntest.NewKeyServer(t, google)
	return &testEnv{google: google, clerk: clerk, vars: map[string]string{
		"PORT":                  "0",
		"GOOGLE_CLOUD_PROJECT":  testProject,
		"AUTH_GOOGLE_AUDIENCES": testAudience,
		"AUTH_GOOGLE_CERTS_URL": keys.URL,
		"CLERK_ISSUER":          testIssuer,
		"CLERK_JWT_KEY":         string(clerk.PublicKeyPEM()),
	}}
}

func (e *testEnv) serviceToken(t *testing.T) string {
	t.Helper()
	tok, err := e.google.Sign(mint.GoogleClaims(testAudience, "push@"+testProject+".iam.gserviceaccount.com", time.Now(), time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func (e *testEnv) userToken(t *testing.T) string {
	t.Helper()
	tok, err := e.clerk.Sign(mint.ClerkClaims(testIssuer, "user_1", time.Now(), time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// running is a service started by startRun.
type running struct {
	base   string
	stdout *syncBuffer
	cancel context.CancelFunc
	done   chan error
}

// startRun runs the service in-process and waits until /healthz answers.
func startRun(t *testing.T, opts Options, vars map[string]string) *running {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{stdout: &syncBuffer{}, cancel: cancel, done: make(chan error, 1)}
	var stderr syncBuffer
	go func() { r.done <- RunWith(ctx, opts, []string{"pushgate"}, env(vars), r.stdout, &stderr) }()
	t.Cleanup(func() {
		cancel()
		<-r.done
	})
	deadline := time.Now().Add(10 * time.Second)
	for r.base == "" {
		if time.Now().After(deadline) {
			t.Fatalf("no listening line; stdout: %s stderr: %s", r.stdout, stderr.String())
		}
		select {
		case err := <-r.done:
			t.Fatalf("Run returned early: %v; stderr: %s", err, stderr.String())
		case <-time.After(10 * time.Millisecond):
		}
		for _, line := range strings.Split(r.stdout.String(), "\n") {
			var l struct{ Message, Addr string }
			if json.Unmarshal([]byte(line), &l) == nil && l.Message == "listening" {
				r.base = "http://" + l.Addr
			}
		}
	}
	return r
}

func (r *running) do(t *testing.T, method, path, token, body string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(method, r.base+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

func TestRunRefusesBadConfiguration(t *testing.T) {
	t.Parallel()
	var stdout, stderr bytes.Buffer
	err := Run(context.Background(), []string{"pushgate"}, env(map[string]string{
		"PORT": "nope", "AUTH_GOOGLE_AUDIENCES": "https://x", "K_SERVICE": "svc", "ACCESS_LOG": "verbose",
	}), &stdout, &stderr)
	var ce *ConfigError
	if !errors.As(err, &ce) {
		t.Fatalf("got %v, want a *ConfigError", err)
	}
	lines := logLines(t, &stderr)
	if len(lines) != 3 {
		t.Fatalf("got %d lines, want one per problem (3): %s", len(lines), stderr.String())
	}
	for i, name := range []string{"PORT", "ACCESS_LOG", "GOOGLE_CLOUD_PROJECT"} {
		if msg, _ := lines[i]["message"].(string); !strings.Contains(msg, name) || lines[i]["severity"] != "ERROR" {
			t.Errorf("line %d = %v, want an ERROR naming %s", i, lines[i], name)
		}
	}
	if stdout.Len() != 0 {
		t.Errorf("stdout: %q, want nothing", stdout.String())
	}
}

func TestRunCloudRunWithoutProviderIsFatal(t *testing.T) {
	t.Parallel()
	var stdout, stderr bytes.Buffer
	err := Run(context.Background(), []string{"pushgate"}, env(map[string]string{"K_SERVICE": "svc", "HOME": t.TempDir()}), &stdout, &stderr)
	if err == nil || !strings.Contains(stderr.String(), "K_SERVICE") {
		t.Fatalf("got %v, stderr %q; want a fatal error naming K_SERVICE", err, stderr.String())
	}
}

// TestRunPublishesThroughEmulator publishes with POST /api/events to a
// pstest server reached through PUBSUB_EMULATOR_HOST, as the contract says.
func TestRunPublishesThroughEmulator(t *testing.T) {
	t.Parallel()
	ps, err := devmode.StartPubSub(context.Background(), testProject, "events", "events-sub")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ps.Close() })
	e := newTestEnv(t)
	e.vars["PUBSUB_TOPIC"] = "events"
	e.vars["PUBSUB_EMULATOR_HOST"] = ps.Server.Addr
	r := startRun(t, Options{}, e.vars)

	resp := r.do(t, "POST", "/api/events", e.userToken(t), `{"data":"hello pstest","attributes":{"kind":"greeting"}}`)
	var body struct{ MessageID string }
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || resp.StatusCode != http.StatusAccepted || body.MessageID == "" {
		t.Fatalf("publish: got %d %+v %v, want 202 with a messageId", resp.StatusCode, body, err)
	}
	var found bool
	for _, m := range ps.Server.Messages() {
		if m.ID == body.MessageID {
			found = true
			if string(m.Data) != "hello pstest" || m.Attributes["kind"] != "greeting" {
				t.Errorf("arrived: data %q attributes %v", m.Data, m.Attributes)
			}
		}
	}
	if !found {
		t.Errorf("message %s not on the topic", body.MessageID)
	}
}

func TestRunWithoutTopicAnswers503(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	r := startRun(t, Options{}, e.vars)
	if resp := r.do(t, "POST", "/api/events", e.userToken(t), `{"data":"x"}`); resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("got %d, want 503", resp.StatusCode)
	}
}

// TestRunDrainsOnShutdown cancels Run (as SIGTERM does) while a push is in
// its handler: the push completes with 204 and Run returns nil.
func TestRunDrainsOnShutdown(t *testing.T) {
	t.Parallel()
	entered, release := make(chan struct{}), make(chan struct{})
	opts := Options{WrapPush: func(next push.HandlerFunc) push.HandlerFunc {
		return func(ctx context.Context, m *push.Message) error {
			close(entered)
			<-release
			return next(ctx, m)
		}
	}}
	e := newTestEnv(t)
	r := startRun(t, opts, e.vars)
	tok := e.serviceToken(t)

	status := make(chan int, 1)
	go func() {
		env := fmt.Sprintf(`{"message":{"data":%q,"messageId":"77"},"subscription":"projects/%s/subscriptions/s"}`,
			base64.StdEncoding.EncodeToString([]byte("in flight")), testProject)
		req, _ := http.NewRequest("POST", r.base+"/pubsub/push", strings.NewReader(env))
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			status <- 0
			return
		}
		resp.Body.Close()
		status <- resp.StatusCode
	}()
	<-entered
	r.cancel() // what SIGTERM does
	// The listener closes before the in-flight request is released.
	deadline := time.Now().Add(5 * time.Second)
	for {
		if _, err := http.Get(r.base + "/healthz"); err != nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("still accepting connections after shutdown began")
		}
		time.Sleep(5 * time.Millisecond)
	}
	close(release)
	if got := <-status; got != http.StatusNoContent {
		t.Errorf("in-flight push: got %d, want 204", got)
	}
	if err := <-r.done; err != nil {
		t.Errorf("Run: %v, want nil", err)
	}
	r.done <- nil // for the cleanup
	if !strings.Contains(r.stdout.String(), `"message":"stopped"`) {
		t.Errorf("no stopped line: %s", r.stdout)
	}
}

// TestRunBodyLimits: a push body over 16 MiB gets 413, whether its
// Content-Length says so or it is streamed without one; a 10 MB message in
// a wrapped envelope fits.
func TestRunBodyLimits(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	r := startRun(t, Options{}, e.vars)
	tok := e.serviceToken(t)
	big := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte("x"), 10_000_000))
	fits := fmt.Sprintf(`{"message":{"data":%q,"messageId":"big-1"},"subscription":"projects/%s/subscriptions/s"}`, big, testProject)
	tooBig := strings.Repeat(" ", PushBodyLimit+1) + fits
	tests := []struct {
		name    string
		body    string
		chunked bool
		want    int
	}{
		{"10 MB message fits", fits, false, http.StatusNoContent},
		{"over the limit, by Content-Length", tooBig, false, http.StatusRequestEntityTooLarge},
		{"over the limit, streamed", tooBig, true, http.StatusRequestEntityTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var body io.Reader = strings.NewReader(tt.body)
			if tt.chunked {
				body = io.MultiReader(body) // hides the length: sent chunked
			}
			req, err := http.NewRequest("POST", r.base+"/pubsub/push", body)
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Authorization", "Bearer "+tok)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tt.want {
				t.Errorf("got %d, want %d", resp.StatusCode, tt.want)
			}
		})
	}
}
