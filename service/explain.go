package service

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/cloudrun-authn/pushgate/authn"
	"github.com/cloudrun-authn/pushgate/service/devmode"
)

// Exit statuses of `pushgate explain` (contract, "The explain command").
const (
	ExplainAccepted    = 0
	ExplainRefused     = 1
	ExplainUsage       = 2
	ExplainUnavailable = 3
)

// ExitError is an error that asks for a particular exit status.
type ExitError struct {
	Code int
	Err  error
}

func (e *ExitError) Error() string { return e.Err.Error() }
func (e *ExitError) Unwrap() error { return e.Err }

// ExitCode is the exit status for Run's error: 0 for nil, an ExitError's
// own, 1 for any other.
func ExitCode(err error) int {
	var ee *ExitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ee):
		return ee.Code
	}
	return 1
}

const explainUsage = `usage: pushgate explain [--method M] [--origin O] [--cookie] < token

Judges the token on standard input with this environment's configuration,
exactly as the service would, and prints every rule's verdict, what a
refusing rule expected and found, and the principal the token would yield.
It never prints the token or any part of it.

Exit status: 0 accepted, 1 refused, 2 usage or configuration error,
3 no signing keys could be had (the service would answer 503).
`

// explainCommand is `pushgate explain`.
func explainCommand(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	usageErr := func(format string, a ...any) error {
		fmt.Fprintf(stderr, "pushgate explain: "+format+"\n", a...)
		return &ExitError{Code: ExplainUsage, Err: fmt.Errorf("service: explain: "+format, a...)}
	}
	fs := flag.NewFlagSet("explain", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, explainUsage) }
	method := fs.String("method", http.MethodGet, "the request's method (the cookie rule is stricter for POST, PUT, PATCH and DELETE)")
	origin := fs.String("origin", "", "the request's Origin header")
	cookie := fs.Bool("cookie", false, "the token came in the __session cookie, not in Authorization")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return &ExitError{Code: ExplainUsage, Err: err}
	}
	if _, err := http.NewRequest(*method, "/", nil); err != nil {
		return usageErr("--method: not an HTTP method")
	}
	if fs.NArg() > 0 {
		// Not echoed: the argument may well be the token itself.
		return usageErr("unexpected argument: the token is read from standard input, never from the command line")
	}
	tok, err := readToken(stdin)
	if err != nil {
		return usageErr("%v", err)
	}
	cfg, err := LoadConfig(getenv)
	if err != nil {
		var ce *ConfigError
		if errors.As(err, &ce) {
			for _, p := range ce.Problems {
				fmt.Fprintln(stderr, "pushgate explain: configuration: "+p)
			}
		}
		return &ExitError{Code: ExplainUsage, Err: err}
	}
	ac := authConfig(cfg, slog.New(slog.DiscardHandler))
	mode := "production configuration"
	if cfg.DevMode() {
		keys, err := devmode.LoadOrCreateKeys(cfg.DevKeyDir)
		if err != nil {
			return usageErr("dev mode keys: %v", err)
		}
		devAuth(cfg, keys, devmode.Audience(cfg.Port), &ac)
		mode = "dev mode: the dev-mode rules and local keys"
	}
	auth, err := authn.New(ac)
	if err != nil {
		return usageErr("%v", err)
	}
	x := auth.Explain(ctx, tok, authn.ExplainRequest{Method: *method, Origin: *origin, Cookie: *cookie})
	printExplanation(stdout, x, mode)
	switch {
	case x.Principal != nil:
		return nil
	case x.Unavailable():
		return &ExitError{Code: ExplainUnavailable, Err: x.Err}
	}
	return &ExitError{Code: ExplainRefused, Err: x.Err}
}

// readToken reads one token from r: the first line, trimmed; a "Bearer "
// prefix, as copied from a header, is dropped.
func readToken(r io.Reader) (string, error) {
	sc := bufio.NewScanner(io.LimitReader(r, 4*authn.MaxTokenBytes))
	sc.Buffer(make([]byte, 0, 4096), 4*authn.MaxTokenBytes)
	if !sc.Scan() {
		if sc.Err() != nil {
			return "", fmt.Errorf("reading standard input: %v", sc.Err())
		}
		return "", errors.New("no token on standard input")
	}
	tok := strings.TrimSpace(sc.Text())
	if scheme, rest, ok := strings.Cut(tok, " "); ok && strings.EqualFold(scheme, "Bearer") {
		tok = strings.TrimSpace(rest)
	}
	if tok == "" {
		return "", errors.New("no token on standard input")
	}
	return tok, nil
}

// printExplanation writes x for a person: the rule set, a line per rule,
// the verdict, the principal and the hints.
func printExplanation(w io.Writer, x authn.Explanation, mode string) {
	set := x.Provider
	if set == "" {
		set = "none (no rule set takes this token)"
	}
	fmt.Fprintf(w, "rule set: %s (%s)\n", set, mode)
	for _, c := range x.Checks {
		switch {
		case c.OK:
			fmt.Fprintf(w, "  %-15s ok\n", c.Rule)
		case c.Skipped:
			fmt.Fprintf(w, "  %-15s not checked: %s\n", c.Rule, c.Reason)
		default:
			fmt.Fprintf(w, "  %-15s refused: %s\n", c.Rule, c.Reason)
			if c.Expected != "" {
				fmt.Fprintf(w, "  %-15s   expected %s\n", "", c.Expected)
			}
			if c.Found != "" {
				fmt.Fprintf(w, "  %-15s   found    %s\n", "", c.Found)
			}
		}
	}
	switch {
	case x.Principal != nil:
		fmt.Fprintln(w, "verdict: accepted")
		fmt.Fprintf(w, "principal: %s\n", principalJSON(*x.Principal))
	case x.Unavailable():
		fmt.Fprintln(w, "verdict: not judged: no signing keys could be had (the service would answer 503)")
	default:
		status, reason := http.StatusUnauthorized, "refused"
		var ae *authn.Error
		if errors.As(x.Err, &ae) {
			status, reason = ae.Status, ae.Reason
		}
		fmt.Fprintf(w, "verdict: refused (%d: %s)\n", status, reason)
	}
	for _, h := range x.Hints {
		fmt.Fprintf(w, "hint: %s\n", h)
	}
}

// principalJSON is the principal as the service would see it: /whoami's
// fields (with emailVerified for OpenID Connect users), the organization's
// permissions and the expiry.
func principalJSON(p authn.Principal) string {
	var verified *bool
	if p.Kind == authn.KindUser && p.Provider != authn.ProviderClerk {
		verified = &p.EmailVerified
	}
	b, _ := json.Marshal(struct {
		Kind           authn.Kind `json:"kind"`
		Provider       string     `json:"provider,omitempty"`
		Subject        string     `json:"subject"`
		Issuer         string     `json:"issuer"`
		Email          string     `json:"email,omitempty"`
		EmailVerified  *bool      `json:"emailVerified,omitempty"`
		OrgID          string     `json:"orgId,omitempty"`
		OrgRole        string     `json:"orgRole,omitempty"`
		OrgPermissions []string   `json:"orgPermissions,omitempty"`
		Expiry         string     `json:"expiry"`
	}{p.Kind, p.Provider, p.Subject, p.Issuer, p.Email, verified, p.OrgID, p.OrgRole, p.OrgPermissions, p.Expiry.UTC().Format(time.RFC3339)})
	return string(b)
}
