package scripts

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// fakeURL is the status.url the fake gcloud reports once the service is
// deployed: deliberately not the deterministic URL deploy.sh starts with.
const fakeURL = "https://pushgate-x7k2q9abcd-uc.a.run.app"

// fakeProjectNumber is what the fake gcloud answers to projects describe.
const fakeProjectNumber = "123456789012"

// fakeGatewayHost is the defaultHostname the fake gcloud reports for an API
// Gateway gateway.
const fakeGatewayHost = "pushgate-gateway-4k2j9x1q.uc.gateway.dev"

// fakeGcloud logs its argv (fields separated by \x1f, one call a line) and
// keeps a little state so that describe finds what create made. It keeps a
// copy of each API Gateway config's spec (the file may be temporary) and the
// config each gateway serves.
const fakeGcloud = `#!BASH
set -u
log=${FAKE_GCLOUD_LOG:?}
state=${FAKE_GCLOUD_STATE:?}
{ for a in "$@"; do printf '%s\037' "$a"; done; printf '\n'; } >>"$log"
words=()
fmt=""
spec=""
apicfg=""
api=""
for a in "$@"; do
	case $a in
	--format=*) fmt=${a#--format=} ;;
	--openapi-spec=*) spec=${a#--openapi-spec=} ;;
	--api-config=*) apicfg=${a#--api-config=} ;;
	--api=*) api=${a#--api=} ;;
	-*) ;;
	*) words+=("$a") ;;
	esac
done
cmd=" ${words[*]} "
key=""
for w in "${words[@]}"; do
	case $w in
	create | describe | update | http) ;;
	*)
		w=${w%%@*}
		key+="${w//[^A-Za-z0-9._-]/_}+"
		;;
	esac
done
notfound() { echo "ERROR: (gcloud) NOT_FOUND: $key" >&2; exit 1; }
case $cmd in
*" projects describe "*) echo FAKE_PROJECT_NUMBER ;;
*" run services describe "*)
	[[ -e $state/run-deployed ]] || notfound
	case $fmt in *status.url*) echo FAKE_URL ;; esac
	;;
*" run deploy "*) : >"$state/run-deployed" ;;
*" secrets versions add "*)
	cat >"$state/secret-stdin"
	: >"$state/secret-version"
	;;
*" secrets versions describe "*) [[ -e $state/secret-version ]] || notfound ;;
*" api-gateway api-configs create "*)
	cat -- "$spec" >"$state/$key.spec" || exit 1
	: >"$state/$key"
	;;
*" api-gateway gateways create "* | *" api-gateway gateways update "*)
	printf 'apis/%s/configs/%s' "$api" "$apicfg" >"$state/$key.config"
	: >"$state/$key"
	;;
*" api-gateway gateways describe "*)
	[[ -e $state/$key ]] || notfound
	case $fmt in
	*apiConfig*) echo "projects/FAKE_PROJECT_NUMBER/locations/global/$(cat "$state/$key.config")" ;;
	*defaultHostname*) echo FAKE_GATEWAY_HOST ;;
	esac
	;;
*" redis instances describe "*)
	[[ -e $state/$key ]] || notfound
	case $fmt in *host*) echo 10.20.30.40 ;; *port*) echo 6379 ;; esac
	;;
*" describe "*) [[ -e $state/$key ]] || notfound ;;
*" create "*) : >"$state/$key" ;;
esac
exit 0
`

// fakeGo logs its argv, CGO_ENABLED and working directory.
const fakeGo = `#!BASH
{ printf 'CGO_ENABLED=%s\037PWD=%s\037' "${CGO_ENABLED-unset}" "$PWD"; for a in "$@"; do printf '%s\037' "$a"; done; printf '\n'; } >>"${FAKE_GO_LOG:?}"
`

// sandbox runs the scripts with a PATH that holds only the fake gcloud, a
// fake go and the few real tools the scripts use: a real gcloud can never
// be found, whatever is installed on the machine.
type sandbox struct {
	dir, bin, gcloudLog, goLog, state string
}

func newSandbox(t *testing.T) *sandbox {
	t.Helper()
	dir := t.TempDir()
	s := &sandbox{
		dir:       dir,
		bin:       filepath.Join(dir, "bin"),
		gcloudLog: filepath.Join(dir, "gcloud.log"),
		goLog:     filepath.Join(dir, "go.log"),
		state:     filepath.Join(dir, "state"),
	}
	for _, d := range []string{s.bin, s.state} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("bash is not installed")
	}
	for _, tool := range []string{"bash", "cat", "mktemp", "rm"} {
		p, err := exec.LookPath(tool)
		if err != nil {
			t.Fatalf("%s is needed: %v", tool, err)
		}
		if err := os.Symlink(p, filepath.Join(s.bin, tool)); err != nil {
			t.Fatal(err)
		}
	}
	gcloud := strings.NewReplacer("BASH", bash, "FAKE_PROJECT_NUMBER", fakeProjectNumber, "FAKE_URL", fakeURL,
		"FAKE_GATEWAY_HOST", fakeGatewayHost).Replace(fakeGcloud)
	writeExec(t, filepath.Join(s.bin, "gcloud"), gcloud)
	writeExec(t, filepath.Join(s.bin, "go"), strings.Replace(fakeGo, "BASH", bash, 1))
	for _, f := range []string{s.gcloudLog, s.goLog} {
		if err := os.WriteFile(f, nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

func writeExec(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o755); err != nil {
		t.Fatal(err)
	}
}

// result is what one script run produced.
type result struct {
	code           int
	stdout, stderr string
}

// run runs script (a file in this directory) with args, the environment env
// ("K=V") on top of the sandbox's, and stdin.
func (s *sandbox) run(t *testing.T, stdin string, env []string, script string, args ...string) result {
	t.Helper()
	path, err := filepath.Abs(script)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(path, args...)
	cmd.Dir = s.dir
	cmd.Env = append([]string{
		"PATH=" + s.bin,
		"HOME=" + s.dir,
		"FAKE_GCLOUD_LOG=" + s.gcloudLog,
		"FAKE_GCLOUD_STATE=" + s.state,
		"FAKE_GO_LOG=" + s.goLog,
	}, env...)
	cmd.Stdin = strings.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err = cmd.Run()
	code := 0
	if err != nil {
		ee, ok := err.(*exec.ExitError)
		if !ok {
			t.Fatalf("%s: %v", script, err)
		}
		code = ee.ExitCode()
	}
	return result{code: code, stdout: stdout.String(), stderr: stderr.String()}
}

// mustRun is run that fails the test unless the script succeeds.
func (s *sandbox) mustRun(t *testing.T, stdin string, env []string, script string, args ...string) result {
	t.Helper()
	r := s.run(t, stdin, env, script, args...)
	if r.code != 0 {
		t.Fatalf("%s %q: exit %d\nstdout:\n%s\nstderr:\n%s", script, args, r.code, r.stdout, r.stderr)
	}
	return r
}

// calls returns what the fake gcloud was called with, in order.
func (s *sandbox) calls(t *testing.T) calls {
	t.Helper()
	return readCalls(t, s.gcloudLog)
}

func readCalls(t *testing.T, path string) calls {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out calls
	for line := range strings.SplitSeq(strings.TrimSuffix(string(b), "\n"), "\n") {
		if line == "" {
			continue
		}
		out = append(out, call(strings.Split(strings.TrimSuffix(line, "\x1f"), "\x1f")))
	}
	return out
}

// call is the argv of one gcloud call, without "gcloud".
type call []string

// words returns the positional arguments: the command path and its names.
func (c call) words() []string {
	var w []string
	for _, a := range c {
		if !strings.HasPrefix(a, "-") {
			w = append(w, a)
		}
	}
	return w
}

// is reports whether the command's positional arguments start with prefix.
func (c call) is(prefix ...string) bool {
	w := c.words()
	if len(w) < len(prefix) {
		return false
	}
	for i, p := range prefix {
		if w[i] != p {
			return false
		}
	}
	return true
}

// flag returns the value of --name=value (the last one) and whether it is set.
func (c call) flag(name string) (string, bool) {
	v, ok := "", false
	for _, a := range c {
		if rest, found := strings.CutPrefix(a, "--"+name+"="); found {
			v, ok = rest, true
		}
	}
	return v, ok
}

// has reports whether arg is one of the arguments.
func (c call) has(arg string) bool {
	for _, a := range c {
		if a == arg {
			return true
		}
	}
	return false
}

type calls []call

// find returns the calls whose positional arguments start with prefix.
func (cs calls) find(prefix ...string) calls {
	var out calls
	for _, c := range cs {
		if c.is(prefix...) {
			out = append(out, c)
		}
	}
	return out
}

// one returns the only call matching prefix, failing the test otherwise.
func (cs calls) one(t *testing.T, prefix ...string) call {
	t.Helper()
	found := cs.find(prefix...)
	if len(found) != 1 {
		t.Fatalf("got %d calls of gcloud %s, want 1:\n%s", len(found), strings.Join(prefix, " "), cs)
	}
	return found[0]
}

// binding reports whether some add-iam-policy-binding call under prefix
// grants role to member on resource.
func (cs calls) binding(prefix []string, resource, member, role string) bool {
	for _, c := range cs.find(prefix...) {
		w := c.words()
		if !c.has("add-iam-policy-binding") || len(w) == 0 || w[len(w)-1] != resource {
			continue
		}
		if m, _ := c.flag("member"); m != member {
			continue
		}
		if r, _ := c.flag("role"); r == role {
			return true
		}
	}
	return false
}

func (cs calls) String() string {
	var b strings.Builder
	for _, c := range cs {
		b.WriteString("  gcloud " + strings.Join(c, " ") + "\n")
	}
	return b.String()
}

// envVars parses a gcloud dict flag value such as --update-env-vars, with
// the optional ^DELIM^ prefix (gcloud topic escaping).
func envVars(v string) map[string]string {
	sep := ","
	if strings.HasPrefix(v, "^") {
		if end := strings.Index(v[1:], "^"); end > 0 {
			sep, v = v[1:end+1], v[end+2:]
		}
	}
	out := map[string]string{}
	for item := range strings.SplitSeq(v, sep) {
		if k, val, ok := strings.Cut(item, "="); ok {
			out[k] = val
		}
	}
	return out
}

// shellWords splits a line printed with printf %q (backslash escapes only).
func shellWords(line string) []string {
	var words []string
	var cur strings.Builder
	inWord, escaped := false, false
	for _, r := range line {
		switch {
		case escaped:
			cur.WriteRune(r)
			escaped = false
		case r == '\\':
			escaped, inWord = true, true
		case r == ' ':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteRune(r)
			inWord = true
		}
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words
}

// printedCalls returns the gcloud commands a dry run printed.
func printedCalls(stdout string) calls {
	var out calls
	for line := range strings.SplitSeq(stdout, "\n") {
		w := shellWords(line)
		if len(w) > 0 && w[0] == "gcloud" {
			out = append(out, call(w[1:]))
		}
	}
	return out
}
