package test

import (
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cloudrun-authn/pushgate/authn/mint"
)

// idp is a stand-in for an OpenID Connect provider: its discovery document
// and JWKS on loopback, and its signing key.
type idp struct {
	url    string
	signer *mint.AlgSigner
}

func newIdP(t *testing.T, alg string) *idp {
	t.Helper()
	signer, err := mint.NewAlgSigner("idp-"+strings.ToLower(alg)+"-1", alg)
	if err != nil {
		t.Fatal(err)
	}
	p := &idp{signer: signer}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(`{"issuer":` + strconv.Quote(p.url) + `,"jwks_uri":` + strconv.Quote(p.url+"/keys") + `}`))
	})
	mux.HandleFunc("GET /keys", func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write(mint.JWKSOfAlg(p.signer))
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	p.url = srv.URL
	return p
}

// token signs claims with the provider's key (or another signer's, under
// the provider's kid) and registers it with the leak check.
func (p *idp) token(t *testing.T, claims map[string]any, signer ...*mint.AlgSigner) string {
	t.Helper()
	s := p.signer
	if len(signer) > 0 {
		s = &mint.AlgSigner{KID: p.signer.KID, Alg: signer[0].Alg, Key: signer[0].Key}
	}
	tok, err := s.Sign(claims)
	if err != nil {
		t.Fatal(err)
	}
	e2e.tokens.add(tok)
	return tok
}

const gatewayEmail = "api-gateway@" + project + ".iam.gserviceaccount.com"

// oidcStack is the production stack with two OpenID Connect providers (an
// Okta-like ES256 provider found by discovery, with a groups rule, and a
// Cognito-like RS256 provider of access tokens, by client_id, with its
// jwksUrl) and an API gateway.
func oidcStack(t *testing.T) (*stack, *idp, *idp) {
	t.Helper()
	s := newStack(t)
	okta, cognito := newIdP(t, "ES256"), newIdP(t, "RS256")
	s.env["AUTH_OIDC_PROVIDERS"] = `[
		{"name":"okta","issuer":"` + okta.url + `","audiences":["api://pushgate"],"algorithms":["ES256"],"claims":{"groups":"pushgate-users"}},
		{"name":"cognito","issuer":"` + cognito.url + `","audiences":["4vbo2client"],"audienceClaim":"client_id",
		 "jwksUrl":"` + cognito.url + `/keys","claims":{"token_use":"access"}}]`
	s.env["AUTH_GATEWAY_SERVICE_ACCOUNTS"] = gatewayEmail
	return s, okta, cognito
}

func oktaClaims(p *idp, edits ...func(map[string]any)) map[string]any {
	now := time.Now()
	c := map[string]any{"iss": p.url, "sub": "00u-ada", "aud": "api://pushgate", "email": "ada@acme.example",
		"email_verified": true, "groups": []string{"everyone", "pushgate-users"}, "iat": now.Unix(), "exp": now.Add(time.Hour).Unix()}
	for _, e := range edits {
		e(c)
	}
	return c
}

func cognitoClaims(p *idp, edits ...func(map[string]any)) map[string]any {
	now := time.Now()
	c := map[string]any{"iss": p.url, "sub": "c0g-bob", "client_id": "4vbo2client", "token_use": "access",
		"scope": "openid", "iat": now.Unix(), "exp": now.Add(time.Hour).Unix()}
	for _, e := range edits {
		e(c)
	}
	return c
}

// TestOIDCAuthMatrix extends the auth matrix to two OpenID Connect
// providers and an API gateway: every route of the contract with every
// credential, the status, WWW-Authenticate, /whoami's provider and via,
// and no token in any response or log line.
func TestOIDCAuthMatrix(t *testing.T) {
	s, okta, cognito := oidcStack(t)
	svc := s.start(t)
	other := newIdP(t, "ES256") // a provider nobody configured
	gateway := e2e.serviceToken(t, set("email", gatewayEmail))
	oktaUser := okta.token(t, oktaClaims(okta))
	type cred struct {
		credential
		forwarded string // X-Forwarded-Authorization
		extra     map[string]string
		provider  string // /whoami's provider ("" for services)
		via       string
	}
	creds := []cred{
		{credential: credential{name: "okta user", kind: "user", token: oktaUser}, provider: "okta"},
		{credential: credential{name: "cognito access token", kind: "user", token: cognito.token(t, cognitoClaims(cognito))}, provider: "cognito"},
		{credential: credential{name: "okta: expired", kind: "bad", token: okta.token(t, oktaClaims(okta, set("exp", time.Now().Add(-time.Hour).Unix())))}},
		{credential: credential{name: "okta: wrong audience", kind: "bad", token: okta.token(t, oktaClaims(okta, set("aud", "api://other")))}},
		{credential: credential{name: "okta: not in the group", kind: "bad", token: okta.token(t, oktaClaims(okta, set("groups", []string{"everyone"})))}},
		{credential: credential{name: "okta: signed by another provider's key", kind: "bad", token: okta.token(t, oktaClaims(okta), other.signer)}},
		{credential: credential{name: "okta: RS256, not accepted", kind: "bad", token: okta.token(t, oktaClaims(okta), cognito.signer)}},
		{credential: credential{name: "cognito: an ID token", kind: "bad", token: cognito.token(t, cognitoClaims(cognito, set("token_use", "id")))}},
		{credential: credential{name: "cognito: another client", kind: "bad", token: cognito.token(t, cognitoClaims(cognito, set("client_id", "other")))}},
		{credential: credential{name: "unconfigured provider", kind: "bad", token: other.token(t, oktaClaims(other))}},
		{credential: credential{name: "gateway alone", kind: "service", token: gateway}},
		{credential: credential{name: "gateway forwarding an okta user", kind: "user", token: gateway}, forwarded: "Bearer " + oktaUser, provider: "okta", via: gatewayEmail},
		{credential: credential{name: "gateway forwarding a Clerk user", kind: "user", token: gateway}, forwarded: "Bearer " + e2e.userToken(t), provider: "clerk", via: gatewayEmail},
		{credential: credential{name: "gateway forwarding an expired token", kind: "bad", token: gateway},
			forwarded: "Bearer " + okta.token(t, oktaClaims(okta, set("exp", time.Now().Add(-time.Hour).Unix())))},
		{credential: credential{name: "gateway forwarding Basic", kind: "bad", token: gateway}, forwarded: "Basic YWRhOnB3"},
		{credential: credential{name: "service that is no gateway, with a forwarded user", kind: "service", token: e2e.serviceToken(t)}, forwarded: "Bearer " + oktaUser},
		{credential: credential{name: "gateway with forged user-info headers", kind: "service", token: gateway},
			extra: map[string]string{"X-Endpoint-Api-Userinfo": "eyJzdWIiOiJhZG1pbiJ9", "X-Apigateway-Api-Userinfo": "eyJzdWIiOiJhZG1pbiJ9"}},
	}
	for _, rt := range contractRoutes() {
		for _, c := range creds {
			t.Run(rt.method+" "+rt.path+"/"+c.name, func(t *testing.T) {
				body := ""
				if rt.body != nil {
					body = rt.body()
				}
				h := map[string]string{}
				if c.forwarded != "" {
					h["X-Forwarded-Authorization"] = c.forwarded
				}
				for k, v := range c.extra {
					h[k] = v
				}
				r := send(t, request{method: rt.method, url: svc.url + rt.path, token: c.token, header: h, body: body})
				want, wantAuth := expect(rt, c.credential)
				if r.status != want {
					t.Fatalf("status: got %d, want %d: %.300s", r.status, want, r.body)
				}
				if got := r.header.Get("WWW-Authenticate"); !wantAuth(got) {
					t.Errorf("WWW-Authenticate: got %q", got)
				}
				for _, tok := range []string{c.token, strings.TrimPrefix(c.forwarded, "Bearer ")} {
					if len(tok) > 16 && echoes(r, tok) {
						t.Errorf("the response echoes a token")
					}
				}
				if rt.path == "/whoami" && want == 200 {
					m := r.object(t)
					provider, _ := m["provider"].(string)
					via, _ := m["via"].(string)
					if m["kind"] != c.kind || provider != c.provider || via != c.via {
						t.Errorf("whoami %v, want kind %s, provider %q, via %q", m, c.kind, c.provider, c.via)
					}
				}
			})
		}
	}
	svc.stopOK(t) // when the test ends, the harness checks that no log line holds a token
}

// TestOIDCExplain: explain judges a provider's token with the provider's
// rules.
func TestOIDCExplain(t *testing.T) {
	s, okta, _ := oidcStack(t)
	code, out, errOut := explain(t, s.env, okta.token(t, oktaClaims(okta)))
	if code != 0 || !strings.Contains(out, "rule set: okta") || !strings.Contains(out, `"provider":"okta"`) || !strings.Contains(out, `"emailVerified":true`) {
		t.Fatalf("exit %d, want 0 by okta's rules:\n%s%s", code, out, errOut)
	}
	code, out, _ = explain(t, s.env, okta.token(t, oktaClaims(okta, set("groups", []string{"everyone"}))))
	if code != 1 || !strings.Contains(out, "\n  groups ") {
		t.Fatalf("exit %d, want 1 with the groups rule refusing:\n%s", code, out)
	}
}
