package test

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cloudrun-authn/pushgate/authn/mint"
)

// Dev mode's fixed names (service/devmode).
const (
	devIssuer    = "https://clerk.pushgate.localhost"
	devProject   = "local-dev"
	devPushEmail = "pubsub-push@local-dev.iam.gserviceaccount.com"
	devUser      = "user_dev"
)

// devEnv is the whole environment of a dev-mode process: no provider, only
// HOME (where the dev keys go), PATH and PORT.
func devEnv(home, port string) map[string]string {
	return map[string]string{"HOME": home, "PATH": os.Getenv("PATH"), "PORT": port}
}

// devToken runs `pushgate token <kind>` and returns the token it prints.
func devToken(t *testing.T, env map[string]string, kind string) string {
	t.Helper()
	code, stdout, stderr := runToExit(t, e2e.bin, env, "token", kind)
	tok := strings.TrimSuffix(stdout, "\n")
	e2e.tokens.add(tok)
	if code != 0 || strings.Count(tok, ".") != 2 || strings.ContainsAny(tok, " \n") {
		t.Fatalf("token %s: exit %d, want 0 and one token on stdout (%d bytes); stderr: %.300s", kind, code, len(stdout), stderr)
	}
	return tok
}

// TestDevMode starts the binary with an empty environment (HOME, PATH and
// PORT only): it serves on 127.0.0.1 only, accepts the tokens of its
// `token` subcommand, and an event published by a user is listed within a
// second, through its in-process Pub/Sub and push loop.
func TestDevMode(t *testing.T) {
	home, port := t.TempDir(), freePort(t)
	env := devEnv(home, port)
	svc := startProc(t, "pushgate (dev)", e2e.bin, env)
	if host, _, _ := net.SplitHostPort(svc.addr); host != "127.0.0.1" || svc.port != port {
		t.Errorf("listening on %s, want 127.0.0.1:%s", svc.addr, port)
	}
	checkLoopbackOnly(t, port)
	if n := svc.countLogs(func(m map[string]any) bool { return strings.HasPrefix(fmt.Sprint(m["message"]), "DEV MODE") }); n != 1 {
		t.Errorf("got %d DEV MODE warnings, want 1", n)
	}

	user, service := devToken(t, env, "user"), devToken(t, env, "service")
	tests := []struct {
		name  string
		token string
		want  map[string]any
	}{
		{"user", user, map[string]any{"kind": "user", "issuer": devIssuer, "subject": devUser}},
		{"service", service, map[string]any{"kind": "service", "issuer": mint.GoogleIssuer, "email": devPushEmail}},
	}
	for _, tt := range tests {
		t.Run("whoami as "+tt.name, func(t *testing.T) {
			r := whoami(t, svc, tt.token)
			if r.status != http.StatusOK {
				t.Fatalf("got %d, want 200: %.300s", r.status, r.body)
			}
			got := r.object(t)
			for k, v := range tt.want {
				if got[k] != v {
					t.Errorf("%s: got %v, want %v", k, got[k], v)
				}
			}
		})
	}

	t.Run("published event listed within a second", func(t *testing.T) {
		data := "dev event " + randomHex(6)
		r := send(t, request{method: "POST", url: svc.url + "/api/events", token: user, body: `{"data":"` + data + `"}`})
		published := time.Now()
		if r.status != http.StatusAccepted {
			t.Fatalf("POST /api/events: got %d, want 202: %.300s", r.status, r.body)
		}
		id, _ := r.object(t)["messageId"].(string)
		latency := waitListed(t, svc.url, user, id, published)
		reportFigures(t, fmt.Sprintf("dev mode: publish (202) to listed in GET /api/events: %v", latency.Round(time.Millisecond)))
		if latency > time.Second { // the contract's promise
			t.Errorf("event listed %v after the publish was accepted, the contract says within a second", latency)
		}
	})
	svc.stopOK(t)
}

// waitListed polls GET /api/events every 10 ms until the event id is
// listed and returns how long after since that was. It gives up after ten
// seconds, so that a slow machine shows how slow rather than a bare timeout.
func waitListed(t *testing.T, url, token, id string, since time.Time) time.Duration {
	t.Helper()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		for _, e := range listEvents(t, url, token) {
			if e.ID == id {
				return time.Since(since)
			}
		}
		if time.Since(since) > 10*time.Second {
			t.Fatalf("event %s not listed 10 s after it was published", id)
		}
		<-tick.C
	}
}

// checkLoopbackOnly reads the kernel's socket tables: every listening
// socket on port must be bound to 127.0.0.1, none to another IPv4 or any
// IPv6 address.
func checkLoopbackOnly(t *testing.T, port string) {
	t.Helper()
	p, _ := strconv.Atoi(port)
	hexPort := fmt.Sprintf(":%04X", p)
	found := 0
	for _, table := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		b, err := os.ReadFile(table)
		if err != nil {
			t.Fatalf("read %s: %v", table, err)
		}
		for line := range strings.Lines(string(b)) {
			f := strings.Fields(line)
			if len(f) < 4 || f[3] != "0A" || !strings.HasSuffix(f[1], hexPort) { // 0A: LISTEN
				continue
			}
			found++
			if f[1] != "0100007F"+hexPort {
				t.Errorf("%s: a socket listens on %s, want only 127.0.0.1 (0100007F)", table, f[1])
			}
		}
	}
	if found == 0 {
		t.Errorf("no listening socket on port %s in /proc/net/tcp", port)
	}
}

// TestStartupRefusals: a configuration the service cannot run with stops
// it before it listens, with a non-zero exit status and a JSON line naming
// the variable. Dev mode never starts on Cloud Run (K_SERVICE set).
func TestStartupRefusals(t *testing.T) {
	home := t.TempDir()
	tests := []struct {
		name    string
		env     map[string]string
		wantVar string
	}{
		{"K_SERVICE without a provider", map[string]string{"K_SERVICE": "pushgate"}, "K_SERVICE"},
		{"audiences without a project", map[string]string{"AUTH_GOOGLE_AUDIENCES": audience}, "GOOGLE_CLOUD_PROJECT"},
		{"Clerk issuer without a key", map[string]string{"CLERK_ISSUER": clerkIssuer}, "CLERK_SECRET_KEY"},
		{"Clerk secret key that is not one", map[string]string{"CLERK_ISSUER": clerkIssuer, "CLERK_SECRET_KEY": "hunter2"}, "CLERK_SECRET_KEY"},
		{"clock skew that is no duration", map[string]string{"AUTH_CLOCK_SKEW": "soon"}, "AUTH_CLOCK_SKEW"},
		{"port that is no port", map[string]string{"PORT": "http"}, "PORT"},
		{"access log mode that is none", map[string]string{"ACCESS_LOG": "verbose"}, "ACCESS_LOG"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := devEnv(home, "0")
			for k, v := range tt.env {
				env[k] = v
			}
			code, stdout, stderr := runToExit(t, e2e.bin, env)
			if code == 0 {
				t.Fatalf("exit status 0, want non-zero")
			}
			named := false
			for _, m := range jsonLines(t, stdout+stderr) {
				msg := fmt.Sprint(m["message"])
				if msg == "listening" {
					t.Errorf("it listened")
				}
				if m["severity"] == "ERROR" && strings.Contains(msg, tt.wantVar) {
					named = true
				}
				if strings.Contains(msg, "hunter2") {
					t.Errorf("a log line repeats the secret key: %q", msg)
				}
			}
			if !named {
				t.Errorf("no ERROR line names %s; output:\n%s%s", tt.wantVar, stdout, stderr)
			}
		})
	}
}

// TestDevTokensRefusedInProduction: tokens from `pushgate token` are
// refused by a production-configured service even when it is set up with
// dev mode's audience, project and issuer, because dev keys are not
// Google's or Clerk's. Tokens of the same shape signed by the configured
// issuers' keys pass, so the key is what makes the difference.
func TestDevTokensRefusedInProduction(t *testing.T) {
	home, port := t.TempDir(), freePort(t)
	devUserToken := devToken(t, devEnv(home, port), "user")
	devServiceToken := devToken(t, devEnv(home, port), "service")

	s := newStack(t)
	devAudience := "http://127.0.0.1:" + port
	s.env["PORT"] = port
	s.env["AUTH_GOOGLE_AUDIENCES"] = devAudience
	s.env["GOOGLE_CLOUD_PROJECT"] = devProject
	s.env["CLERK_ISSUER"] = devIssuer
	delete(s.env, "PUBSUB_TOPIC")
	svc := s.start(t)

	googleLike := mint.GoogleClaims(devAudience, devPushEmail, time.Now(), tokenTTL)
	clerkLike := mint.ClerkClaims(devIssuer, devUser, time.Now(), tokenTTL)
	tests := []struct {
		name  string
		token string
		want  int
	}{
		{"dev user token", devUserToken, http.StatusUnauthorized},
		{"dev service token", devServiceToken, http.StatusUnauthorized},
		{"same claims signed by Clerk's key", e2e.sign(t, e2e.clerk, clerkLike), http.StatusOK},
		{"same claims signed by Google's key", e2e.sign(t, e2e.google, googleLike), http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := whoami(t, svc, tt.token)
			if r.status != tt.want {
				t.Fatalf("got %d, want %d: %.300s", r.status, tt.want, r.body)
			}
			if tt.want == http.StatusUnauthorized && !strings.Contains(r.header.Get("WWW-Authenticate"), `error="invalid_token"`) {
				t.Errorf("WWW-Authenticate: got %q, want error=\"invalid_token\"", r.header.Get("WWW-Authenticate"))
			}
		})
	}
	svc.stopOK(t)
}
