package devmode

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cloudrun-authn/pushgate/authn"
)

// devAuthenticator builds an authn.Authenticator the way the service does in
// dev mode: the production rules, with the dev keys as the key sources.
func devAuthenticator(t *testing.T, keys *Keys, port string, now time.Time, parties ...string) *authn.Authenticator {
	t.Helper()
	a, err := authn.New(authn.Config{
		Google: &authn.GoogleConfig{
			Audiences: []string{Audience(port)},
			ProjectID: Project,
			Keys:      keys.GoogleKeySet(),
		},
		Clerk: &authn.ClerkConfig{
			Issuer:            ClerkIssuer,
			AuthorizedParties: parties,
			Keys:              keys.ClerkKeySet(),
		},
		Now: func() time.Time { return now },
	})
	if err != nil {
		t.Fatalf("authn.New: %v", err)
	}
	return a
}

// runToken runs the token command against dir and returns the token.
func runToken(t *testing.T, dir string, env map[string]string, args ...string) string {
	t.Helper()
	full := map[string]string{"PUSHGATE_DEV_DIR": dir}
	for k, v := range env {
		full[k] = v
	}
	var stdout, stderr bytes.Buffer
	if err := tokenCommand(args, envOf(full), func() time.Time { return testNow }, &stdout, &stderr); err != nil {
		t.Fatalf("token %q: %v", args, err)
	}
	return strings.TrimSuffix(stdout.String(), "\n")
}

func bearer(tok string) *http.Request {
	r := httptest.NewRequest(http.MethodGet, "/whoami", nil)
	r.Header.Set("Authorization", "Bearer "+tok)
	return r
}

func TestTokensVerifyThroughAuthn(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	tests := []struct {
		name string
		args []string
		want authn.Principal // Kind, Subject, Issuer, Email, SessionID, Org* and a user's AuthorizedParty are compared
	}{
		{
			name: "service",
			args: []string{"service"},
			want: authn.Principal{Kind: authn.KindService, Issuer: "https://accounts.google.com", Email: PushServiceAccount},
		},
		{
			name: "service with another project account",
			args: []string{"service", "--email", "scheduler@local-dev.iam.gserviceaccount.com"},
			want: authn.Principal{Kind: authn.KindService, Issuer: "https://accounts.google.com", Email: "scheduler@local-dev.iam.gserviceaccount.com"},
		},
		{
			name: "user",
			args: []string{"user"},
			want: authn.Principal{Kind: authn.KindUser, Subject: "user_dev", Issuer: ClerkIssuer, SessionID: "sess_dev"},
		},
		{
			name: "user in an org",
			args: []string{"user", "--sub", "user_42", "--org", "org_7", "--role", "admin",
				"--perm", "org:events:read,org:events:write", "--perm", "org:billing:manage", "--azp", "http://localhost:3000"},
			want: authn.Principal{
				Kind: authn.KindUser, Subject: "user_42", Issuer: ClerkIssuer, SessionID: "sess_dev",
				OrgID: "org_7", OrgRole: "org:admin", AuthorizedParty: "http://localhost:3000",
				OrgPermissions: []string{"org:billing:manage", "org:events:read", "org:events:write"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tok := runToken(t, dir, nil, tt.args...)
			// A fresh load of the key directory, as a separately started service would do.
			keys, err := LoadOrCreateKeys(dir)
			if err != nil {
				t.Fatal(err)
			}
			a := devAuthenticator(t, keys, DefaultPort, testNow.Add(time.Minute), "http://localhost:3000")
			got, err := a.Authenticate(bearer(tok))
			if err != nil {
				t.Fatalf("Authenticate: %v", err)
			}
			if got.Kind != tt.want.Kind || got.Issuer != tt.want.Issuer || got.Email != tt.want.Email ||
				got.SessionID != tt.want.SessionID || got.OrgID != tt.want.OrgID || got.OrgRole != tt.want.OrgRole {
				t.Errorf("principal = %+v, want %+v", got, tt.want)
			}
			// A Google token's azp is the account's ID; a Clerk token's is the origin.
			if got.Kind == authn.KindUser && got.AuthorizedParty != tt.want.AuthorizedParty {
				t.Errorf("AuthorizedParty = %q, want %q", got.AuthorizedParty, tt.want.AuthorizedParty)
			}
			if tt.want.Subject != "" && got.Subject != tt.want.Subject {
				t.Errorf("Subject = %q, want %q", got.Subject, tt.want.Subject)
			}
			if got.Subject == "" {
				t.Error("empty Subject")
			}
			gotPerms := slices.Sorted(slices.Values(got.OrgPermissions))
			if len(gotPerms) != len(tt.want.OrgPermissions) || !slices.Equal(gotPerms, tt.want.OrgPermissions) {
				t.Errorf("OrgPermissions = %q, want %q", gotPerms, tt.want.OrgPermissions)
			}
			if want := testNow.Add(TokenTTL); !got.Expiry.Equal(want) {
				t.Errorf("Expiry = %v, want %v", got.Expiry, want)
			}
		})
	}
}

// TestUserTokenOrgPassesRoutePolicy checks that the org claims the token
// command writes satisfy the route rules written the Clerk way.
func TestUserTokenOrgPassesRoutePolicy(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	tok := runToken(t, dir, nil, "user", "--org", "org_1", "--role", "admin", "--perm", "org:events:write")
	keys, err := LoadOrCreateKeys(dir)
	if err != nil {
		t.Fatal(err)
	}
	a := devAuthenticator(t, keys, DefaultPort, testNow)
	var reached bool
	h := a.Middleware(authn.RequireUser(authn.WithOrgRole("org:admin"), authn.WithOrgPermission("org:events:write"))(
		http.HandlerFunc(func(http.ResponseWriter, *http.Request) { reached = true })))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, bearer(tok))
	if rec.Code != http.StatusOK || !reached {
		t.Errorf("status = %d, reached = %v; want 200 and the handler reached", rec.Code, reached)
	}
}

// TestDevTokensRefusedWhereTheyDoNotBelong checks that dev tokens get no
// special treatment: the production rules refuse them when they do not fit.
func TestDevTokensRefusedWhereTheyDoNotBelong(t *testing.T) {
	t.Parallel()
	dir, otherDir := t.TempDir(), t.TempDir()
	tests := []struct {
		name    string
		tok     func(t *testing.T) string
		port    string // the service's port
		now     time.Time
		parties []string
	}{
		{"service token for another port", func(t *testing.T) string {
			return runToken(t, dir, map[string]string{"PORT": "9090"}, "service")
		}, "8080", testNow, nil},
		{"service account outside the project", func(t *testing.T) string {
			return runToken(t, dir, nil, "service", "--email", "robot@other-project.iam.gserviceaccount.com")
		}, "8080", testNow, nil},
		{"service token from another key directory", func(t *testing.T) string {
			return runToken(t, otherDir, nil, "service")
		}, "8080", testNow, nil},
		{"user token from another key directory", func(t *testing.T) string {
			return runToken(t, otherDir, nil, "user")
		}, "8080", testNow, nil},
		{"user token with an unlisted azp", func(t *testing.T) string {
			return runToken(t, dir, nil, "user", "--azp", "https://evil.example")
		}, "8080", testNow, []string{"http://localhost:3000"}},
		{"expired user token", func(t *testing.T) string {
			return runToken(t, dir, nil, "user")
		}, "8080", testNow.Add(TokenTTL + time.Minute), nil},
		{"expired service token", func(t *testing.T) string {
			return runToken(t, dir, nil, "service")
		}, "8080", testNow.Add(TokenTTL + time.Minute), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tok := tt.tok(t)
			keys, err := LoadOrCreateKeys(dir)
			if err != nil {
				t.Fatal(err)
			}
			a := devAuthenticator(t, keys, tt.port, tt.now, tt.parties...)
			if got, err := a.Authenticate(bearer(tok)); err == nil {
				t.Errorf("Authenticate = %+v, want a refusal", got)
			}
		})
	}
}
