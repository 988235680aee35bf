package test

import (
	"bytes"
	"context"
	"errors"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// explain runs `pushgate explain args…` with env and the token on standard
// input, and returns its exit status and output.
func explain(t *testing.T, env map[string]string, token string, args ...string) (int, string, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), waitLimit)
	defer cancel()
	cmd := exec.CommandContext(ctx, e2e.bin, append([]string{"explain"}, args...)...)
	cmd.Env = envList(env)
	cmd.Stdin = strings.NewReader(token + "\n")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	killWithParent(cmd)
	err := cmd.Run()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatalf("run explain: %v", err)
	}
	return cmd.ProcessState.ExitCode(), stdout.String(), stderr.String()
}

// assertNoTokenPart fails when out holds tok, its payload segment or its
// signature.
func assertNoTokenPart(t *testing.T, out, tok string) {
	t.Helper()
	if strings.Contains(out, tok) {
		t.Fatal("the output holds the token")
	}
	for i, part := range strings.Split(tok, ".") {
		if len(part) >= 8 && strings.Contains(out, part) {
			t.Fatalf("the output holds segment %d of the token", i)
		}
	}
}

// TestExplain runs `pushgate explain` on every kind of token the auth
// matrix uses: accepted tokens exit 0 with the principal, each refused one
// exits 1 with a line naming the rule that refused it, and no output ever
// holds the token or a segment of it.
func TestExplain(t *testing.T) {
	s := newStack(t)
	ruleOf := map[string]string{
		"not a JWT":                   "format",
		"two segments":                "format",
		"signature removed by Google": "signature",
		"alg none":                    "alg",
		"alg HS256":                   "alg",
		"google: signed by an unknown key with a known kid": "signature",
		"google: unknown kid":                               "kid",
		"google: expired":                                   "exp",
		"google: no exp":                                    "exp",
		"google: issued in the future":                      "iat",
		"google: wrong audience":                            "aud",
		"google: email of another project":                  "email",
		"google: email not verified":                        "email_verified",
		"google: issuer not Google":                         "iss",
		"clerk: wrong issuer":                               "iss",
		"clerk: expired":                                    "exp",
		"clerk: not yet valid":                              "nbf",
		"clerk: no sub":                                     "sub",
		"clerk: unlisted azp":                               "azp",
		"clerk: signed with Google's key":                   "kid",
		"clerk: signed by an unknown key":                   "signature",
	}
	for _, c := range badTokens(t) {
		t.Run(c.name, func(t *testing.T) {
			rule, ok := ruleOf[c.name]
			if !ok {
				t.Fatalf("no expected rule for %q: add it to the table", c.name)
			}
			code, out, errOut := explain(t, s.env, c.token)
			if code != 1 {
				t.Fatalf("exit %d, want 1:\n%s%s", code, out, errOut)
			}
			if !strings.Contains(out, "\n  "+rule+" ") || !strings.Contains(out, "refused") {
				t.Errorf("no line refusing by %q:\n%s", rule, out)
			}
			assertNoTokenPart(t, out+errOut, c.token)
		})
	}
	accepted := []struct{ name, token, principal string }{
		{"service", e2e.serviceToken(t), `"kind":"service"`},
		{"user", e2e.userToken(t, set("azp", appOrigin)), `"provider":"clerk"`},
	}
	for _, a := range accepted {
		t.Run("accepted "+a.name, func(t *testing.T) {
			code, out, errOut := explain(t, s.env, a.token)
			if code != 0 || !strings.Contains(out, "verdict: accepted") || !strings.Contains(out, a.principal) {
				t.Fatalf("exit %d, want 0 with %s:\n%s%s", code, a.principal, out, errOut)
			}
			if strings.Contains(out, "refused") {
				t.Errorf("an accepted token has a refused rule:\n%s", out)
			}
			assertNoTokenPart(t, out+errOut, a.token)
		})
	}
}

// TestExplainHints: the known traps get their hint.
func TestExplainHints(t *testing.T) {
	s := newStack(t)
	now := time.Now()
	removed := e2e.serviceToken(t)
	removed = removed[:strings.LastIndexByte(removed, '.')+1] + "SIGNATURE_REMOVED_BY_GOOGLE"
	e2e.tokens.add(removed)
	tests := []struct {
		name, token, hint string
	}{
		{"the full push URL as audience", e2e.serviceToken(t, set("aud", audience+"/pubsub/push")), "full push URL"},
		{"Cloud Run's IAM check removed the signature", removed, "--no-invoker-iam-check"},
		{"a default Compute account", e2e.serviceToken(t, set("email", "987654321-compute@developer.gserviceaccount.com")), "default Compute Engine"},
		{"a Clerk token of another instance", e2e.userToken(t, set("iss", "https://clerk.other-instance.test")), "another Clerk instance"},
		{"a clock a few minutes off", e2e.serviceToken(t, set("iat", now.Add(3*time.Minute).Unix())), "clock"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := explain(t, s.env, tt.token)
			if code != 1 || !strings.Contains(out, "hint: ") || !strings.Contains(out, tt.hint) {
				t.Fatalf("exit %d, want 1 with a hint naming %q:\n%s%s", code, tt.hint, out, errOut)
			}
			assertNoTokenPart(t, out+errOut, tt.token)
		})
	}
}

// TestExplainRequestFlags: --cookie, --method and --origin give the cookie
// rule what it judges by.
func TestExplainRequestFlags(t *testing.T) {
	s := newStack(t)
	user := e2e.userToken(t, set("azp", appOrigin))
	for _, tt := range []struct {
		name string
		args []string
		want int
	}{
		{"bearer POST", []string{"--method", "POST"}, 0},
		{"cookie GET", []string{"--cookie"}, 0},
		{"cookie POST without Origin", []string{"--cookie", "--method", "POST"}, 1},
		{"cookie POST from the app", []string{"--cookie", "--method", "POST", "--origin", appOrigin}, 0},
		{"cookie POST from another site", []string{"--cookie", "--method", "POST", "--origin", "https://evil.example"}, 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := explain(t, s.env, user, tt.args...)
			if code != tt.want {
				t.Fatalf("exit %d, want %d:\n%s%s", code, tt.want, out, errOut)
			}
			if tt.want == 1 && !strings.Contains(out, "\n  cookie ") {
				t.Errorf("no cookie line:\n%s", out)
			}
		})
	}
}

// TestExplainUsageAndOutage: bad flags, an empty standard input and a bad
// configuration exit 2; with no signing keys to be had, 3.
func TestExplainUsageAndOutage(t *testing.T) {
	s := newStack(t)
	tok := e2e.serviceToken(t)
	bad := cloneEnv(s.env)
	bad["AUTH_CLOCK_SKEW"] = "forever"
	for _, tt := range []struct {
		name  string
		env   map[string]string
		token string
		args  []string
	}{
		{"unknown flag", s.env, tok, []string{"--bogus"}},
		{"not a method", s.env, tok, []string{"--cookie", "--method", "PO ST"}},
		{"an argument", s.env, tok, []string{tok}},
		{"empty standard input", s.env, "", nil},
		{"bad configuration", bad, tok, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := explain(t, tt.env, tt.token, tt.args...)
			if code != 2 {
				t.Fatalf("exit %d, want 2:\n%s%s", code, out, errOut)
			}
			assertNoTokenPart(t, out+errOut, tok)
		})
	}
	t.Run("no signing keys", func(t *testing.T) {
		s.googleKeys.SetDown(true)
		code, out, errOut := explain(t, s.env, tok)
		if code != 3 || !strings.Contains(out, "503") {
			t.Fatalf("exit %d, want 3 naming the 503:\n%s%s", code, out, errOut)
		}
	})
}
