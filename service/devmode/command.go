package devmode

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// ErrUsage is wrapped by the errors [TokenCommand] returns for a command
// line it does not understand, after it has written the usage to stderr.
var ErrUsage = errors.New("devmode: usage")

const tokenUsage = `usage: go run . token user [flags]      print a dev user token (Clerk-shaped session token)
       go run . token service [flags]   print a dev service token (Google-shaped ID token)

The token is valid for one hour, is signed with the dev keys in $PUSHGATE_DEV_DIR
(default: <user config dir>/pushgate/dev) and is accepted by the service in dev
mode only. A service token's audience is http://127.0.0.1:$PORT (PORT default 8080).
`

// TokenCommand runs the `token` subcommand; args are the arguments after
// "token":
//
//	token user    [--sub user_dev] [--sid sess_dev] [--org ID [--role member] [--perm org:feature:perm]...] [--azp ORIGIN]
//	token service [--email pubsub-push@local-dev.iam.gserviceaccount.com]
//
// It writes the token, valid for [TokenTTL], and a newline to stdout and
// nothing else, so that TOKEN=$(go run . token user) works. The key directory
// comes from [KeyDir] and the keys from [LoadOrCreateKeys] (created if this
// is the first use), so the token matches the dev service's keys; a service
// token's audience is [Audience] of $PORT (default 8080). Environment
// variables are read only through getenv.
//
// Usage goes to stderr. The returned error is for the caller to report and
// turn into a non-zero exit status: it wraps [ErrUsage] for a bad command
// line, and is flag.ErrHelp after -h or --help (usage written, exit 0 is
// fitting). The command refuses to run on Cloud Run (K_SERVICE set), where
// dev mode never runs.
func TokenCommand(args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	return tokenCommand(args, getenv, time.Now, stdout, stderr)
}

// tokenCommand is TokenCommand with an injected clock.
func tokenCommand(args []string, getenv func(string) string, now func() time.Time, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, tokenUsage)
		return fmt.Errorf("%w: token: want user or service", ErrUsage)
	}
	var mintToken func(*Keys) (string, error)
	fs := flag.NewFlagSet("token "+args[0], flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	switch args[0] {
	case "user":
		mintToken = userFlags(fs, now)
	case "service":
		mintToken = serviceFlags(fs, getenv, now)
	case "-h", "-help", "--help", "help":
		fmt.Fprint(stderr, tokenUsage)
		return flag.ErrHelp
	default:
		fmt.Fprint(stderr, tokenUsage)
		return fmt.Errorf("%w: token: unknown kind %q, want user or service", ErrUsage, args[0])
	}
	usage := func() {
		fmt.Fprint(stderr, tokenUsage)
		fmt.Fprintf(stderr, "\nflags of token %s:\n", args[0])
		fs.SetOutput(stderr)
		fs.PrintDefaults()
		fs.SetOutput(io.Discard)
	}
	if err := fs.Parse(args[1:]); err != nil {
		usage()
		if errors.Is(err, flag.ErrHelp) {
			return flag.ErrHelp
		}
		return fmt.Errorf("%w: token %s: %w", ErrUsage, args[0], err)
	}
	if fs.NArg() > 0 {
		usage()
		return fmt.Errorf("%w: token %s: unexpected argument %q", ErrUsage, args[0], fs.Arg(0))
	}
	if getenv("K_SERVICE") != "" {
		return errors.New("devmode: token: K_SERVICE is set; dev tokens are for dev mode, which never runs on Cloud Run")
	}
	dir, err := KeyDir(getenv)
	if err != nil {
		return err
	}
	keys, err := LoadOrCreateKeys(dir)
	if err != nil {
		return err
	}
	tok, err := mintToken(keys)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(stdout, tok)
	return err
}

// userFlags defines the flags of `token user` on fs and returns the minting
// step they configure.
func userFlags(fs *flag.FlagSet, now func() time.Time) func(*Keys) (string, error) {
	var c UserClaims
	fs.StringVar(&c.Subject, "sub", "user_dev", "Clerk user ID (sub)")
	fs.StringVar(&c.SessionID, "sid", "sess_dev", "Clerk session ID (sid)")
	fs.StringVar(&c.OrgID, "org", "", "active organization ID, e.g. org_dev (none if empty)")
	fs.StringVar(&c.OrgRole, "role", "", `role in the organization, e.g. admin or org:admin (default "member" with --org)`)
	fs.Func("perm", "organization permission org:<feature>:<permission>; repeat or separate with commas", func(v string) error {
		for _, p := range strings.Split(v, ",") {
			if p = strings.TrimSpace(p); p != "" {
				c.OrgPermissions = append(c.OrgPermissions, p)
			}
		}
		return nil
	})
	fs.StringVar(&c.AuthorizedParty, "azp", "", "authorized party (azp), the frontend's origin (none if empty)")
	return func(k *Keys) (string, error) {
		if c.OrgID != "" && c.OrgRole == "" {
			c.OrgRole = "member"
		}
		return k.UserToken(c, now(), TokenTTL)
	}
}

// serviceFlags defines the flags of `token service` on fs and returns the
// minting step they configure.
func serviceFlags(fs *flag.FlagSet, getenv func(string) string, now func() time.Time) func(*Keys) (string, error) {
	email := fs.String("email", PushServiceAccount, "service account email")
	return func(k *Keys) (string, error) {
		port, err := Port(getenv)
		if err != nil {
			return "", fmt.Errorf("devmode: token service: %w", err)
		}
		return k.ServiceToken(Audience(port), *email, now(), TokenTTL)
	}
}

// Port returns $PORT read through getenv, or [DefaultPort] when unset; a
// value that is not a TCP port number is an error naming PORT.
func Port(getenv func(string) string) (string, error) {
	port := getenv("PORT")
	if port == "" {
		return DefaultPort, nil
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 || strconv.Itoa(n) != port {
		return "", fmt.Errorf("PORT %q is not a TCP port number", port)
	}
	return port, nil
}
