package console

import (
	"bytes"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"os"
	"sync"
	"testing"

	"github.com/go-chi/chi/v5"

	"github.com/cloudrun-authn/pushgate/service/devmode"
	"github.com/cloudrun-authn/pushgate/service/dispatch"
)

// testPort is the port the fixture's origin names; requests are served
// in-process, so nothing listens on it.
const (
	testPort   = "18080"
	testOrigin = "http://127.0.0.1:" + testPort
	testHost   = "127.0.0.1:" + testPort
)

// logBuffer collects log lines from any goroutine.
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

// fixture is a Console on a chi router, with the dev keys of a temporary
// directory, a teed logger and its own rings.
type fixture struct {
	keys       *devmode.Keys
	deliveries *Recent[dispatch.Delivery]
	refusals   *Recent[Refusal]
	logs       *logBuffer
	logger     *slog.Logger
	console    *Console
	router     chi.Router
}

// testKeys are the dev keys every test shares: RSA key generation is slow,
// and no test changes them. TestMain makes them.
var testKeys *devmode.Keys

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "console-test-keys-")
	if err == nil {
		testKeys, err = devmode.LoadOrCreateKeys(dir)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "dev keys:", err)
		os.Exit(1)
	}
	code := m.Run()
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{
		keys:       testKeys,
		deliveries: NewRecent[dispatch.Delivery](10),
		refusals:   NewRecent[Refusal](10),
		logs:       &logBuffer{},
	}
	f.logger = slog.New(TeeRefusals(slog.NewJSONHandler(f.logs, nil), f.refusals))
	f.console = New(Config{Origin: testOrigin, Keys: f.keys, Deliveries: f.deliveries, Refusals: f.refusals, Logger: f.logger})
	f.router = chi.NewRouter()
	f.console.Routes(f.router)
	t.Cleanup(f.console.Close)
	return f
}

// serve sends one request to the console, with Host and headers as given.
func (f *fixture) serve(method, host, path string, header map[string]string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, "http://"+host+path, nil)
	r.Host = host
	for k, v := range header {
		r.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	f.router.ServeHTTP(w, r)
	return w
}

// browserPOST are the headers a browser sends on a fetch POST from the
// console's own page.
var browserPOST = map[string]string{"Origin": testOrigin, "Sec-Fetch-Site": "same-origin"}
