package service

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

// env returns a getenv over m.
func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func testPEM(t *testing.T) string {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
}

func TestLoadConfigValid(t *testing.T) {
	t.Parallel()
	pk := "pk_test_" + base64.StdEncoding.EncodeToString([]byte("clerk.example.com$"))
	pemKey := testPEM(t)
	tests := []struct {
		name  string
		env   map[string]string
		check func(t *testing.T, c Config)
	}{
		{"empty is dev mode", map[string]string{"HOME": "/home/dev"}, func(t *testing.T, c Config) {
			if !c.DevMode() || c.Port != "8080" || c.ClockSkew != 30*time.Second {
				t.Errorf("got dev=%v port=%q skew=%v, want dev mode on 8080 with 30s", c.DevMode(), c.Port, c.ClockSkew)
			}
			if c.DevKeyDir == "" {
				t.Error("dev mode without a key directory")
			}
		}},
		{"google", map[string]string{
			"AUTH_GOOGLE_AUDIENCES": "https://svc.run.app, https://b.example.com", "GOOGLE_CLOUD_PROJECT": "acme-prod",
			"AUTH_GOOGLE_ALLOWED_EMAILS": "123-compute@developer.gserviceaccount.com",
		}, func(t *testing.T, c Config) {
			if !c.GoogleOn() || c.ClerkOn() || c.DevMode() || len(c.GoogleAudiences) != 2 || c.GoogleCertsURL != DefaultGoogleCertsURL {
				t.Errorf("got %+v", c)
			}
		}},
		{"clerk from publishable key and secret", map[string]string{
			"CLERK_PUBLISHABLE_KEY": pk, "CLERK_SECRET_KEY": "sk_test_abc", "K_SERVICE": "svc",
			"CLERK_AUTHORIZED_PARTIES": "https://app.example.com",
		}, func(t *testing.T, c Config) {
			if got, want := c.ClerkIssuer, "https://clerk.example.com"; got != want {
				t.Errorf("issuer: got %q, want %q", got, want)
			}
			if !c.ClerkOn() || c.DevMode() {
				t.Errorf("clerk should be on, not dev mode")
			}
		}},
		{"loopback http key urls (local stand-ins)", map[string]string{
			"AUTH_GOOGLE_AUDIENCES": "a", "GOOGLE_CLOUD_PROJECT": "acme-prod", "AUTH_GOOGLE_CERTS_URL": "http://127.0.0.1:9999/certs",
			"CLERK_ISSUER": "https://clerk.example.com", "CLERK_SECRET_KEY": "sk_test_x", "CLERK_API_URL": "http://localhost:9998",
		}, func(t *testing.T, c Config) {
			if !c.GoogleOn() || !c.ClerkOn() {
				t.Errorf("got %+v", c)
			}
		}},
		{"clerk with PEM in one line", map[string]string{
			"CLERK_ISSUER": "https://clerk.example.com/", "CLERK_JWT_KEY": strings.ReplaceAll(pemKey, "\n", `\n`),
			"AUTH_CLOCK_SKEW": "5s", "PORT": "9090", "CORS_ALLOWED_ORIGINS": "https://app.example.com,http://localhost:3000",
		}, func(t *testing.T, c Config) {
			if c.ClerkIssuer != "https://clerk.example.com" || c.ClockSkew != 5*time.Second || c.Port != "9090" || len(c.CORSAllowedOrigins) != 2 {
				t.Errorf("got %+v", c)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := LoadConfig(env(tt.env))
			if err != nil {
				t.Fatalf("LoadConfig: %v", err)
			}
			tt.check(t, c)
		})
	}
}

// TestLoadConfigAccessLog: ACCESS_LOG is errors by default, all by default
// in dev mode, and what it says when set.
func TestLoadConfigAccessLog(t *testing.T) {
	t.Parallel()
	prod := map[string]string{"AUTH_GOOGLE_AUDIENCES": "https://svc.run.app", "GOOGLE_CLOUD_PROJECT": "acme-prod", "K_SERVICE": "svc"}
	dev := map[string]string{"HOME": t.TempDir()}
	tests := []struct {
		name  string
		base  map[string]string
		value string
		want  AccessLogMode
	}{
		{"production default", prod, "", AccessLogErrors},
		{"dev mode default", dev, "", AccessLogAll},
		{"production, all", prod, "all", AccessLogAll},
		{"production, off", prod, "off", AccessLogOff},
		{"production, errors", prod, "errors", AccessLogErrors},
		{"dev mode, errors", dev, "errors", AccessLogErrors},
		{"dev mode, off", dev, " off ", AccessLogOff},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			vars := map[string]string{"ACCESS_LOG": tt.value}
			for k, v := range tt.base {
				vars[k] = v
			}
			c, err := LoadConfig(env(vars))
			if err != nil {
				t.Fatalf("LoadConfig: %v", err)
			}
			if c.AccessLog != tt.want {
				t.Errorf("AccessLog: got %v, want %v", c.AccessLog, tt.want)
			}
		})
	}
}

func TestLoadConfigProblems(t *testing.T) {
	t.Parallel()
	google := func(extra map[string]string) map[string]string {
		m := map[string]string{"AUTH_GOOGLE_AUDIENCES": "https://svc.run.app", "GOOGLE_CLOUD_PROJECT": "acme-prod"}
		for k, v := range extra {
			m[k] = v
		}
		return m
	}
	tests := []struct {
		name string
		env  map[string]string
		want []string // variables each problem must name
	}{
		{"audiences without project", map[string]string{"AUTH_GOOGLE_AUDIENCES": "x"}, []string{"GOOGLE_CLOUD_PROJECT"}},
		{"allowed emails without audiences", map[string]string{"AUTH_GOOGLE_ALLOWED_EMAILS": "a@b.c"}, []string{"AUTH_GOOGLE_ALLOWED_EMAILS"}},
		{"certs url without audiences", map[string]string{"AUTH_GOOGLE_CERTS_URL": "https://x"}, []string{"AUTH_GOOGLE_CERTS_URL"}},
		{"clerk issuer without key", map[string]string{"CLERK_ISSUER": "https://clerk.example.com"}, []string{"CLERK_JWT_KEY or CLERK_SECRET_KEY"}},
		{"clerk secret without issuer", map[string]string{"CLERK_SECRET_KEY": "sk_test_x"}, []string{"CLERK_ISSUER or CLERK_PUBLISHABLE_KEY"}},
		{"clerk parties alone", map[string]string{"CLERK_AUTHORIZED_PARTIES": "https://a.example.com"}, []string{"CLERK_AUTHORIZED_PARTIES"}},
		{"clerk api url alone", map[string]string{"CLERK_API_URL": "https://api.example.com"}, []string{"CLERK_API_URL"}},
		{"bad publishable key", map[string]string{"CLERK_PUBLISHABLE_KEY": "pk_test_!!!", "CLERK_SECRET_KEY": "sk_test_x"}, []string{"CLERK_PUBLISHABLE_KEY"}},
		{"bad jwt key", map[string]string{"CLERK_ISSUER": "https://clerk.example.com", "CLERK_JWT_KEY": "not a pem"}, []string{"CLERK_JWT_KEY"}},
		{"http issuer", map[string]string{"CLERK_ISSUER": "http://clerk.example.com", "CLERK_SECRET_KEY": "sk_test_x"}, []string{"CLERK_ISSUER"}},
		{"secret key shape", map[string]string{"CLERK_ISSUER": "https://clerk.example.com", "CLERK_SECRET_KEY": "pk_test_oops"}, []string{"CLERK_SECRET_KEY"}},
		{"bad port", google(map[string]string{"PORT": "http"}), []string{"PORT"}},
		{"port out of range", google(map[string]string{"PORT": "70000"}), []string{"PORT"}},
		{"bad skew", google(map[string]string{"AUTH_CLOCK_SKEW": "30"}), []string{"AUTH_CLOCK_SKEW"}},
		{"bad access log", google(map[string]string{"ACCESS_LOG": "verbose"}), []string{"ACCESS_LOG"}},
		{"access log in capitals", google(map[string]string{"ACCESS_LOG": "ALL"}), []string{"ACCESS_LOG"}},
		{"negative skew", google(map[string]string{"AUTH_CLOCK_SKEW": "-1s"}), []string{"AUTH_CLOCK_SKEW"}},
		{"bad email", google(map[string]string{"AUTH_GOOGLE_ALLOWED_EMAILS": "nobody"}), []string{"AUTH_GOOGLE_ALLOWED_EMAILS"}},
		{"bad certs url", google(map[string]string{"AUTH_GOOGLE_CERTS_URL": "ftp://x"}), []string{"AUTH_GOOGLE_CERTS_URL"}},
		{"plain http certs url", google(map[string]string{"AUTH_GOOGLE_CERTS_URL": "http://certs.example.com/v3"}), []string{"AUTH_GOOGLE_CERTS_URL"}},
		{"plain http clerk api", map[string]string{"CLERK_ISSUER": "https://clerk.example.com", "CLERK_SECRET_KEY": "sk_test_x", "CLERK_API_URL": "http://api.clerk.com"}, []string{"CLERK_API_URL"}},
		{"issuer differs from publishable key", map[string]string{"CLERK_ISSUER": "https://clerk.other.com", "CLERK_SECRET_KEY": "sk_test_x",
			"CLERK_PUBLISHABLE_KEY": "pk_live_" + base64.StdEncoding.EncodeToString([]byte("clerk.example.com$"))}, []string{"CLERK_ISSUER"}},
		{"bad publishable key beside an issuer", map[string]string{"CLERK_ISSUER": "https://clerk.example.com", "CLERK_SECRET_KEY": "sk_test_x", "CLERK_PUBLISHABLE_KEY": "garbage"}, []string{"CLERK_PUBLISHABLE_KEY"}},
		{"empty audience list", map[string]string{"AUTH_GOOGLE_AUDIENCES": " , ", "GOOGLE_CLOUD_PROJECT": "acme-prod"}, []string{"AUTH_GOOGLE_AUDIENCES"}},
		{"redis bad database", google(map[string]string{"DEDUP_REDIS_URL": "redis://:pw@10.0.0.3:6379/notanumber"}), []string{"DEDUP_REDIS_URL"}},
		{"bad project", google(map[string]string{"GOOGLE_CLOUD_PROJECT": "Acme Prod"}), []string{"GOOGLE_CLOUD_PROJECT"}},
		{"bad cors origin", google(map[string]string{"CORS_ALLOWED_ORIGINS": "https://a.example.com/path"}), []string{"CORS_ALLOWED_ORIGINS"}},
		{"topic path", google(map[string]string{"PUBSUB_TOPIC": "projects/p/topics/t"}), []string{"PUBSUB_TOPIC"}},
		{"topic without project", map[string]string{"PUBSUB_TOPIC": "t", "CLERK_ISSUER": "https://clerk.example.com", "CLERK_SECRET_KEY": "sk_test_x"}, []string{"GOOGLE_CLOUD_PROJECT"}},
		{"bad redis url", google(map[string]string{"DEDUP_REDIS_URL": "http://redis:6379"}), []string{"DEDUP_REDIS_URL"}},
		{"cloud run without provider", map[string]string{"K_SERVICE": "svc"}, []string{"K_SERVICE"}},
		{"several at once", map[string]string{"PORT": "x", "AUTH_CLOCK_SKEW": "y", "AUTH_GOOGLE_AUDIENCES": "a"},
			[]string{"PORT", "AUTH_CLOCK_SKEW", "GOOGLE_CLOUD_PROJECT"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := LoadConfig(env(tt.env))
			var ce *ConfigError
			if !errors.As(err, &ce) {
				t.Fatalf("LoadConfig: got %v, want a *ConfigError", err)
			}
			if got, want := len(ce.Problems), len(tt.want); got != want {
				t.Fatalf("got %d problems %q, want %d", got, ce.Problems, want)
			}
			for i, name := range tt.want {
				if !strings.Contains(ce.Problems[i], name) {
					t.Errorf("problem %d = %q, want it to name %s", i, ce.Problems[i], name)
				}
			}
		})
	}
}

func TestConfigSecretsNeverPrinted(t *testing.T) {
	t.Parallel()
	c, err := LoadConfig(env(map[string]string{
		"CLERK_ISSUER": "https://clerk.example.com", "CLERK_SECRET_KEY": "sk_live_supersecret",
		"DEDUP_REDIS_URL": "redis://:hunter2@10.0.0.3:6379/0",
	}))
	if err != nil {
		t.Fatal(err)
	}
	asJSON, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{fmt.Sprintf("%v", c), fmt.Sprintf("%+v", c), fmt.Sprintf("%#v", c), string(asJSON)} {
		if strings.Contains(s, "supersecret") || strings.Contains(s, "hunter2") {
			t.Errorf("config printed a secret: %s", s)
		}
	}
}
