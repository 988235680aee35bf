// Command smoke checks a deployed pushgate service with a real Google ID
// token: /healthz, /whoami without and with a token, and one Pub/Sub push
// delivery. It prints what it saw and exits non-zero on any failure.
//
//	go run ./scripts/smoke --url=https://pushgate-123.us-central1.run.app
//
// The token is minted with google.golang.org/api/idtoken from Application
// Default Credentials for --audience (default: --url), which must be the
// audience the service accepts (AUTH_GOOGLE_AUDIENCES). The credentials must
// be a service account of the service's project: run
// `gcloud auth application-default login --impersonate-service-account=SA`
// first when working as a person.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"time"

	"google.golang.org/api/idtoken"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr, googleTokens)
	stop()
	os.Exit(code)
}

// newTokensFunc makes the token source for an audience; tests pass a fake.
type newTokensFunc func(ctx context.Context, audience string) (TokenFunc, error)

// googleTokens mints real Google ID tokens from Application Default Credentials.
func googleTokens(ctx context.Context, audience string) (TokenFunc, error) {
	ts, err := idtoken.NewTokenSource(ctx, audience)
	if err != nil {
		return nil, fmt.Errorf("smoke: ID token source: %w", err)
	}
	return func(context.Context) (string, error) {
		tok, err := ts.Token()
		if err != nil {
			return "", err
		}
		return tok.AccessToken, nil
	}, nil
}

// run parses args, runs the checks and returns the exit status: 0 when every
// check passed, 1 when one failed, 2 for bad usage.
func run(ctx context.Context, args []string, stdout, stderr io.Writer, newTokens newTokensFunc) int {
	fs := flag.NewFlagSet("smoke", flag.ContinueOnError)
	fs.SetOutput(stderr)
	base := fs.String("url", "", "service URL, https://HOST (required)")
	audience := fs.String("audience", "", "audience of the ID token (default: --url)")
	timeout := fs.Duration("timeout", 30*time.Second, "timeout of each request")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "smoke: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	u, err := url.Parse(*base)
	if *base == "" || err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		fmt.Fprintln(stderr, "smoke: --url must be the service URL, e.g. https://pushgate-123.us-central1.run.app")
		return 2
	}
	if *audience == "" {
		*audience = strings.TrimRight(*base, "/")
	}

	tokens, err := newTokens(ctx, *audience)
	if err != nil {
		fmt.Fprintf(stderr, "%v\n", err)
		fmt.Fprintln(stderr, "smoke: hint: use a service account of the project, e.g.\n"+
			"  gcloud auth application-default login --impersonate-service-account=pushgate-push@PROJECT_ID.iam.gserviceaccount.com")
		return 1
	}
	fmt.Fprintf(stdout, "smoke: %s (audience %s)\n", *base, *audience)
	results := Check(ctx, Target{
		BaseURL: *base,
		Client:  &http.Client{Timeout: *timeout},
		Token:   tokens,
	})
	failed := 0
	for _, r := range results {
		mark := "ok  "
		if !r.OK {
			mark = "FAIL"
			failed++
		}
		fmt.Fprintf(stdout, "%s %-36s %s\n", mark, r.Name, r.Detail)
	}
	if failed > 0 {
		fmt.Fprintf(stdout, "smoke: %d of %d checks failed\n", failed, len(results))
		return 1
	}
	fmt.Fprintf(stdout, "smoke: all %d checks passed\n", len(results))
	return 0
}
