package test

import (
	"context"
	"flag"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/cloudrun-authn/pushgate/authn/mint"
)

// The production configuration every test stack shares.
const (
	project        = "pushgate-e2e"
	audience       = "https://pushgate-e2e-abc123-ew.a.run.app"
	pushEmail      = "x@" + project + ".iam.gserviceaccount.com"
	computeEmail   = "123456789-compute@developer.gserviceaccount.com" // listed in AUTH_GOOGLE_ALLOWED_EMAILS
	clerkIssuer    = "https://clerk.pushgate-e2e.test"
	appOrigin      = "https://app.pushgate-e2e.test" // CLERK_AUTHORIZED_PARTIES and CORS_ALLOWED_ORIGINS
	userID         = "user_e2e"
	topicID        = "events"
	subscriptionID = "events-push"

	// waitLimit bounds every wait for a state. It is generous on purpose:
	// it only turns a hang into a failure and is never an assertion.
	waitLimit = 2 * time.Minute
)

// suite is what TestMain prepares once for all tests: the binaries and the
// signing keys. It is read-only after TestMain, except the token registry,
// which is safe for concurrent use.
type suite struct {
	bin      string // the pushgate binary
	faultBin string // the test/faultsvc binary

	google   *mint.Signer // Google's current signing key
	google2  *mint.Signer // the key Google rotates to
	clerk    *mint.Signer // the Clerk instance's key
	attacker *mint.Signer // a key nobody trusts

	clerkSecret string // CLERK_SECRET_KEY
	tokens      *tokenRegistry
	client      *http.Client
}

// e2e is the suite, set by TestMain before any test runs.
var e2e *suite

func TestMain(m *testing.M) {
	flag.Parse()
	if testing.Short() {
		fmt.Println("test: skipping the end-to-end suite under -short: it builds the binary and runs it as a process")
		os.Exit(0)
	}
	dir, err := os.MkdirTemp("", "pushgate-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "test:", err)
		os.Exit(1)
	}
	s, err := newSuite(dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, "test:", err)
		_ = os.RemoveAll(dir)
		os.Exit(1)
	}
	e2e = s
	code := m.Run()
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

// newSuite builds the binaries into dir and generates the keys.
func newSuite(dir string) (*suite, error) {
	s := &suite{
		bin:         filepath.Join(dir, "pushgate"),
		faultBin:    filepath.Join(dir, "faultsvc"),
		clerkSecret: "sk_test_" + randomHex(16),
		tokens:      newTokenRegistry(),
		client:      newClient(16),
	}
	s.tokens.add(s.clerkSecret)

	keys := make(chan error, 1)
	go func() {
		var err error
		for _, k := range []struct {
			signer **mint.Signer
			kid    string
		}{{&s.google, "google-1"}, {&s.google2, "google-2"}, {&s.clerk, "ins_e2e"}, {&s.attacker, "google-1"}} {
			if *k.signer, err = mint.NewSigner(k.kid); err != nil {
				break
			}
		}
		keys <- err
	}()

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	goBin, err := exec.LookPath("go")
	if err != nil {
		return nil, fmt.Errorf("the go command is needed to build the binary: %w", err)
	}
	// One build command for both programs: the packages share their
	// dependencies' compilation.
	cmd := exec.CommandContext(ctx, goBin, "build", "-o", dir+string(filepath.Separator),
		"github.com/cloudrun-authn/pushgate", "github.com/cloudrun-authn/pushgate/test/faultsvc")
	if out, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("go build: %w\n%s", err, out)
	}
	for _, p := range []string{s.bin, s.faultBin} {
		if _, err := os.Stat(p); err != nil {
			return nil, fmt.Errorf("go build did not write %s: %w", p, err)
		}
	}
	if err := <-keys; err != nil {
		return nil, err
	}
	return s, nil
}

// reportFigures logs figures for the README with t.Logf (go test -v shows
// them) and, when PUSHGATE_E2E_FIGURES names a file, appends them there.
func reportFigures(t *testing.T, lines ...string) {
	t.Helper()
	for _, l := range lines {
		t.Logf("FIGURE %s: %s", t.Name(), l)
	}
	path := os.Getenv("PUSHGATE_E2E_FIGURES")
	if path == "" {
		return
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		t.Errorf("figures file: %v", err)
		return
	}
	defer f.Close()
	for _, l := range lines {
		fmt.Fprintf(f, "%s: %s\n", t.Name(), l)
	}
}
