package devmode

import (
	"bytes"
	"errors"
	"flag"
	"strings"
	"testing"
	"time"
)

func TestTokenCommand(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		args       []string
		port       string
		service    bool           // token signed by the Google key, else the Clerk key
		wantClaims map[string]any // claims that must be present with these values
		wantAbsent []string
	}{
		{
			name: "user defaults",
			args: []string{"user"},
			wantClaims: map[string]any{
				"iss": ClerkIssuer, "sub": "user_dev", "sid": "sess_dev", "v": float64(2),
			},
			wantAbsent: []string{"o", "azp", "aud", "email"},
		},
		{
			name: "user with flags",
			args: []string{"user", "--sub", "user_42", "--sid=sess_9", "--org", "org_7", "--role", "admin",
				"--perm", "org:events:read,org:events:write", "-perm", "org:billing:read", "--azp", "http://localhost:3000"},
			wantClaims: map[string]any{
				"iss": ClerkIssuer, "sub": "user_42", "sid": "sess_9", "azp": "http://localhost:3000",
				"fea": "o:events,o:billing",
			},
		},
		{
			name:       "user with org and default role",
			args:       []string{"user", "--org", "org_7"},
			wantClaims: map[string]any{"sub": "user_dev"},
		},
		{
			name:    "service defaults",
			args:    []string{"service"},
			service: true,
			wantClaims: map[string]any{
				"iss": "https://accounts.google.com", "aud": "http://127.0.0.1:8080",
				"email": PushServiceAccount, "email_verified": true,
			},
		},
		{
			name:    "service with email and PORT",
			args:    []string{"service", "--email", "scheduler@local-dev.iam.gserviceaccount.com"},
			port:    "9090",
			service: true,
			wantClaims: map[string]any{
				"aud": "http://127.0.0.1:9090", "email": "scheduler@local-dev.iam.gserviceaccount.com",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			env := map[string]string{"PUSHGATE_DEV_DIR": dir, "PORT": tt.port}
			var stdout, stderr bytes.Buffer
			if err := tokenCommand(tt.args, envOf(env), func() time.Time { return testNow }, &stdout, &stderr); err != nil {
				t.Fatalf("token %q: %v (stderr %q)", tt.args, err, stderr.String())
			}
			if stderr.Len() != 0 {
				t.Errorf("stderr = %q, want nothing", stderr.String())
			}
			out := stdout.String()
			tok, ok := strings.CutSuffix(out, "\n")
			if !ok || strings.ContainsAny(tok, "\n \t") {
				t.Fatalf("stdout is not one newline-terminated token: %d bytes, %d lines", len(out), strings.Count(out, "\n"))
			}
			keys, err := LoadOrCreateKeys(dir) // the keys a dev service would load
			if err != nil {
				t.Fatal(err)
			}
			signer := keys.Clerk
			if tt.service {
				signer = keys.Google
			}
			header, claims := verifyJWT(t, tok, &signer.Key.PublicKey)
			if got, want := header["kid"], signer.KID; got != want {
				t.Errorf("kid = %v, want %v", got, want)
			}
			for name, want := range tt.wantClaims {
				if got := claims[name]; got != want {
					t.Errorf("claim %s = %#v, want %#v", name, got, want)
				}
			}
			for _, name := range tt.wantAbsent {
				if got, ok := claims[name]; ok {
					t.Errorf("claim %s = %#v, want none", name, got)
				}
			}
			if got, want := numClaim(t, claims, "exp"), testNow.Add(time.Hour).Unix(); got != want {
				t.Errorf("exp = %d, want %d (now + 1h)", got, want)
			}
			if got, want := numClaim(t, claims, "iat"), testNow.Unix(); got != want {
				t.Errorf("iat = %d, want %d", got, want)
			}
		})
	}
}

func TestTokenCommandOrgClaims(t *testing.T) {
	t.Parallel()
	env := map[string]string{"PUSHGATE_DEV_DIR": t.TempDir()}
	tests := []struct {
		name    string
		args    []string
		wantOrg map[string]any
	}{
		{"explicit role", []string{"user", "--org", "org_7", "--role", "org:admin", "--perm", "org:events:write"},
			map[string]any{"id": "org_7", "rol": "admin", "per": "write", "fpm": "1"}},
		{"default role", []string{"user", "--org", "org_8"},
			map[string]any{"id": "org_8", "rol": "member"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var stdout, stderr bytes.Buffer
			if err := tokenCommand(tt.args, envOf(env), func() time.Time { return testNow }, &stdout, &stderr); err != nil {
				t.Fatalf("token %q: %v", tt.args, err)
			}
			parts := strings.Split(strings.TrimSpace(stdout.String()), ".")
			if len(parts) != 3 {
				t.Fatalf("token has %d segments, want 3", len(parts))
			}
			org, _ := decodeSegment(t, parts[1])["o"].(map[string]any)
			if len(org) != len(tt.wantOrg) {
				t.Errorf("claim o = %#v, want %#v", org, tt.wantOrg)
			}
			for k, want := range tt.wantOrg {
				if got := org[k]; got != want {
					t.Errorf("o.%s = %#v, want %#v", k, got, want)
				}
			}
		})
	}
}

// TestTokenCommandRealClock runs the exported command on the real clock.
func TestTokenCommandRealClock(t *testing.T) {
	t.Parallel()
	env := map[string]string{"PUSHGATE_DEV_DIR": t.TempDir()}
	before := time.Now()
	var stdout, stderr bytes.Buffer
	if err := TokenCommand([]string{"service"}, envOf(env), &stdout, &stderr); err != nil {
		t.Fatalf("TokenCommand: %v", err)
	}
	after := time.Now()
	parts := strings.Split(strings.TrimSuffix(stdout.String(), "\n"), ".")
	if len(parts) != 3 {
		t.Fatalf("token has %d segments, want 3", len(parts))
	}
	exp := time.Unix(numClaim(t, decodeSegment(t, parts[1]), "exp"), 0)
	if lo, hi := before.Add(time.Hour).Truncate(time.Second), after.Add(time.Hour); exp.Before(lo) || exp.After(hi) {
		t.Errorf("exp = %v, want between %v and %v (one hour from now)", exp, lo, hi)
	}
}

func TestTokenCommandErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		args      []string
		env       map[string]string
		wantUsage bool // error wraps ErrUsage and stderr shows the usage
		wantErr   string
	}{
		{"no kind", nil, nil, true, "want user or service"},
		{"unknown kind", []string{"admin"}, nil, true, `unknown kind "admin"`},
		{"flag first", []string{"--sub", "x"}, nil, true, "unknown kind"},
		{"unknown user flag", []string{"user", "--email", "a@b"}, nil, true, "-email"},
		{"unknown service flag", []string{"service", "--org", "o"}, nil, true, "-org"},
		{"flag without value", []string{"user", "--sub"}, nil, true, "-sub"},
		{"extra argument", []string{"user", "extra"}, nil, true, `"extra"`},
		{"permission without org", []string{"user", "--perm", "org:events:read"}, nil, false, "org ID"},
		{"role without org", []string{"user", "--role", "admin"}, nil, false, "org ID"},
		{"bad permission", []string{"user", "--org", "o", "--perm", "read"}, nil, false, "org:<feature>:<permission>"},
		{"bad PORT", []string{"service"}, map[string]string{"PORT": "80a"}, false, "PORT"},
		{"PORT out of range", []string{"service"}, map[string]string{"PORT": "70000"}, false, "PORT"},
		{"on Cloud Run", []string{"user"}, map[string]string{"K_SERVICE": "pushgate"}, false, "K_SERVICE"},
		{"no key directory", []string{"user"}, map[string]string{"PUSHGATE_DEV_DIR": "", "HOME": "", "XDG_CONFIG_HOME": "", "AppData": ""}, false, DirEnv},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			env := map[string]string{"PUSHGATE_DEV_DIR": t.TempDir()}
			for k, v := range tt.env {
				env[k] = v
			}
			var stdout, stderr bytes.Buffer
			err := tokenCommand(tt.args, envOf(env), func() time.Time { return testNow }, &stdout, &stderr)
			if err == nil {
				t.Fatal("token: no error, want one")
			}
			if stdout.Len() != 0 {
				t.Errorf("stdout = %d bytes, want nothing", stdout.Len())
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("error %q, want it to mention %q", err, tt.wantErr)
			}
			if got := errors.Is(err, ErrUsage); got != tt.wantUsage {
				t.Errorf("errors.Is(%q, ErrUsage) = %v, want %v", err, got, tt.wantUsage)
			}
			if got := strings.Contains(stderr.String(), "usage:"); got != tt.wantUsage {
				t.Errorf("usage on stderr = %v, want %v", got, tt.wantUsage)
			}
		})
	}
}

func TestTokenCommandHelp(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{{"--help"}, {"help"}, {"user", "-h"}, {"service", "--help"}} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			t.Parallel()
			env := map[string]string{"PUSHGATE_DEV_DIR": t.TempDir()}
			var stdout, stderr bytes.Buffer
			err := tokenCommand(args, envOf(env), time.Now, &stdout, &stderr)
			if !errors.Is(err, flag.ErrHelp) {
				t.Errorf("error = %v, want flag.ErrHelp", err)
			}
			if stdout.Len() != 0 {
				t.Errorf("stdout = %q, want nothing", stdout.String())
			}
			if !strings.Contains(stderr.String(), "usage:") {
				t.Errorf("stderr = %q, want the usage", stderr.String())
			}
		})
	}
}

func TestPort(t *testing.T) {
	t.Parallel()
	tests := []struct {
		env     string
		want    string
		wantErr bool
	}{
		{"", "8080", false},
		{"9090", "9090", false},
		{"1", "1", false},
		{"65535", "65535", false},
		{"0", "", true},
		{"65536", "", true},
		{"08080", "", true},
		{"+80", "", true},
		{"http", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.env, func(t *testing.T) {
			t.Parallel()
			got, err := Port(envOf(map[string]string{"PORT": tt.env}))
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Errorf("Port(%q) = %q, %v; want %q, error %v", tt.env, got, err, tt.want, tt.wantErr)
			}
		})
	}
}
