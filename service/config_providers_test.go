package service

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const oktaProvider = `{"name":"okta","issuer":"https://acme.okta.com/oauth2/default","audiences":["api://default"],"claims":{"groups":["admins"]}}`

func TestLoadConfigOIDCProviders(t *testing.T) {
	t.Parallel()
	t.Run("inline", func(t *testing.T) {
		t.Parallel()
		c, err := LoadConfig(env(map[string]string{"AUTH_OIDC_PROVIDERS": "[" + oktaProvider + "]"}))
		if err != nil {
			t.Fatal(err)
		}
		if len(c.OIDCProviders) != 1 || c.OIDCProviders[0].Name != "okta" || !c.ProviderOn() || c.DevMode() {
			t.Errorf("providers %+v, provider on %v, dev mode %v; want okta on, no dev mode", c.OIDCProviders, c.ProviderOn(), c.DevMode())
		}
	})
	t.Run("from a file", func(t *testing.T) {
		t.Parallel()
		path := filepath.Join(t.TempDir(), "providers.json")
		if err := os.WriteFile(path, []byte("["+oktaProvider+"]"), 0o600); err != nil {
			t.Fatal(err)
		}
		c, err := LoadConfig(env(map[string]string{"AUTH_OIDC_PROVIDERS": "@" + path, "K_SERVICE": "svc"}))
		if err != nil {
			t.Fatal(err)
		}
		if len(c.OIDCProviders) != 1 || c.OIDCProviders[0].Claims["groups"][0] != "admins" {
			t.Errorf("providers %+v", c.OIDCProviders)
		}
	})
	t.Run("gateways", func(t *testing.T) {
		t.Parallel()
		c, err := LoadConfig(env(map[string]string{"AUTH_GOOGLE_AUDIENCES": "https://svc.run.app", "GOOGLE_CLOUD_PROJECT": "acme-prod",
			"AUTH_GATEWAY_SERVICE_ACCOUNTS": "gw@acme-prod.iam.gserviceaccount.com"}))
		if err != nil {
			t.Fatal(err)
		}
		if ac := authConfig(c, nil); len(ac.GatewayServiceAccounts) != 1 {
			t.Errorf("authn config gateways = %v", ac.GatewayServiceAccounts)
		}
	})
}

func TestLoadConfigOIDCProviderProblems(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, value string
		want        []string // in each problem, after AUTH_OIDC_PROVIDERS
	}{
		{"not JSON", `[{`, []string{"not a JSON array"}},
		{"an object", oktaProvider, []string{"not a JSON array"}},
		{"unknown field", `[{"name":"okta","issuer":"https://a.example","audiences":["x"],"jwks":"x"}]`, []string{`entry 0: unknown field "jwks"`}},
		{"repeated name", "[" + oktaProvider + "," + oktaProvider + "]", []string{`entry 1 (okta): name "okta" is repeated`}},
		{"missing fields", `[{"name":"okta"}]`, []string{"entry 0 (okta): issuer", "entry 0 (okta): audiences"}},
		{"wrong type", `[{"name":"okta","issuer":"https://a.example","audiences":"x"}]`, []string{`field "audiences" has the wrong type`}},
		{"unsupported algorithm", `[{"name":"okta","issuer":"https://a.example","audiences":["x"],"algorithms":["HS256"]}]`, []string{`algorithm "HS256"`}},
		{"reserved name", `[{"name":"clerk","issuer":"https://a.example","audiences":["x"]}]`, []string{`name "clerk" is reserved`}},
		{"plain http keys", `[{"name":"okta","issuer":"https://a.example","audiences":["x"],"jwksUrl":"http://keys.example/jwks"}]`, []string{"entry 0 (okta): jwksUrl is not an https URL"}},
		{"plain http issuer", `[{"name":"okta","issuer":"http://idp.example.com","audiences":["x"]}]`, []string{"entry 0 (okta): issuer", "https"}},
		{"missing file", "@/nonexistent/providers.json", []string{"cannot read /nonexistent/providers.json"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := LoadConfig(env(map[string]string{"AUTH_OIDC_PROVIDERS": tt.value}))
			var ce *ConfigError
			if !errors.As(err, &ce) {
				t.Fatalf("LoadConfig: got %v, want a *ConfigError", err)
			}
			all := strings.Join(ce.Problems, "\n")
			for _, p := range ce.Problems {
				if !strings.HasPrefix(p, "AUTH_OIDC_PROVIDERS") {
					t.Errorf("problem %q does not name AUTH_OIDC_PROVIDERS", p)
				}
			}
			for _, want := range tt.want {
				if !strings.Contains(all, want) {
					t.Errorf("problems %q lack %q", ce.Problems, want)
				}
			}
		})
	}
}

func TestLoadConfigGatewayProblems(t *testing.T) {
	t.Parallel()
	for name, tt := range map[string]struct {
		env  map[string]string
		want string
	}{
		"without Google": {map[string]string{"AUTH_OIDC_PROVIDERS": "[" + oktaProvider + "]", "AUTH_GATEWAY_SERVICE_ACCOUNTS": "gw@acme-prod.iam.gserviceaccount.com"},
			"AUTH_GATEWAY_SERVICE_ACCOUNTS: set, but Google auth is off"},
		"not an email": {map[string]string{"AUTH_GOOGLE_AUDIENCES": "https://svc.run.app", "GOOGLE_CLOUD_PROJECT": "acme-prod", "AUTH_GATEWAY_SERVICE_ACCOUNTS": "gateway"},
			`AUTH_GATEWAY_SERVICE_ACCOUNTS: "gateway" is not an email`},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			_, err := LoadConfig(env(tt.env))
			var ce *ConfigError
			if !errors.As(err, &ce) || len(ce.Problems) != 1 || !strings.Contains(ce.Problems[0], tt.want) {
				t.Errorf("got %v, want one problem containing %q", err, tt.want)
			}
		})
	}
}
