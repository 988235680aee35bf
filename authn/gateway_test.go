package authn_test

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/cloudrun-authn/pushgate/authn"
	"github.com/cloudrun-authn/pushgate/authn/mint"
)

// TestGateway: each case of "Callers behind an API gateway". The gateway's
// own Google token is in Authorization, the caller's in
// X-Forwarded-Authorization.
func TestGateway(t *testing.T) {
	t.Parallel()
	idp := newIdP(t, "ES256")
	a, clock, logs := newOIDCAuth(t, authn.OIDCProvider{Name: "okta", Issuer: idp.srv.URL, Audiences: []string{"api"}, Algorithms: []string{"ES256"}})
	now := clock.Now()
	gateway := sign(t, googleKey, mint.GoogleClaims(testAudience, gatewayEmail, now, time.Hour))
	service := sign(t, googleKey, mint.GoogleClaims(testAudience, testEmail, now, time.Hour))
	userTok := idp.sign(t, idp.claims(now, "api"))
	expired := idp.claims(now, "api")
	expired["exp"] = now.Add(-time.Hour).Unix()
	expiredTok := idp.sign(t, expired)
	userInfo := `eyJzdWIiOiJhZG1pbiIsImVtYWlsIjoiYWRtaW5AYWNtZS5jb20ifQ` // {"sub":"admin","email":"admin@acme.com"}

	tests := []struct {
		name      string
		auth      string
		forwarded []string
		extra     map[string]string
		want      error
		wantSub   string // "": the request is refused
		wantVia   string
		wantKind  authn.Kind
	}{
		{name: "gateway alone is the principal", auth: gateway, wantKind: authn.KindService, wantSub: mint.GoogleClaims("", gatewayEmail, now, 0)["sub"].(string)},
		{name: "forwarded user token", auth: gateway, forwarded: []string{"Bearer " + userTok}, wantKind: authn.KindUser, wantSub: "00u1abcd", wantVia: gatewayEmail},
		{name: "forwarded scheme in lower case", auth: gateway, forwarded: []string{"bearer " + userTok}, wantKind: authn.KindUser, wantSub: "00u1abcd", wantVia: gatewayEmail},
		{name: "forwarded service token", auth: gateway, forwarded: []string{"Bearer " + service}, wantKind: authn.KindService,
			wantSub: mint.GoogleClaims("", testEmail, now, 0)["sub"].(string), wantVia: gatewayEmail},
		{name: "forwarded token expired", auth: gateway, forwarded: []string{"Bearer " + expiredTok}, want: authn.ErrTokenExpired},
		{name: "forwarded token garbage", auth: gateway, forwarded: []string{"Bearer x.y.z"}, want: authn.ErrMalformedToken},
		{name: "two forwarded headers", auth: gateway, forwarded: []string{"Bearer " + userTok, "Bearer " + userTok}, want: authn.ErrForwardedAuthorization},
		{name: "forwarded Basic", auth: gateway, forwarded: []string{"Basic dXNlcjpwYXNz"}, want: authn.ErrForwardedAuthorization},
		{name: "forwarded Bearer without token", auth: gateway, forwarded: []string{"Bearer "}, want: authn.ErrForwardedAuthorization},
		{name: "forwarded header from a service that is no gateway", auth: service, forwarded: []string{"Bearer " + userTok},
			wantKind: authn.KindService, wantSub: mint.GoogleClaims("", testEmail, now, 0)["sub"].(string)},
		{name: "forwarded header from a user", auth: userTok, forwarded: []string{"Bearer " + service}, wantKind: authn.KindUser, wantSub: "00u1abcd"},
		{name: "forged user-info headers from a gateway", auth: gateway,
			extra:    map[string]string{"X-Endpoint-Api-Userinfo": userInfo, "X-Apigateway-Api-Userinfo": userInfo},
			wantKind: authn.KindService, wantSub: mint.GoogleClaims("", gatewayEmail, now, 0)["sub"].(string)},
		{name: "forged user-info headers beside a forwarded token", auth: gateway, forwarded: []string{"Bearer " + userTok},
			extra:    map[string]string{"X-Endpoint-Api-Userinfo": userInfo, "X-Apigateway-Api-Userinfo": userInfo},
			wantKind: authn.KindUser, wantSub: "00u1abcd", wantVia: gatewayEmail},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := bearer(http.MethodGet, tt.auth)
			for _, v := range tt.forwarded {
				r.Header.Add("X-Forwarded-Authorization", v)
			}
			for k, v := range tt.extra {
				r.Header.Set(k, v)
			}
			for range 2 { // verified, then from the token cache
				p, err := a.Authenticate(r)
				if !errors.Is(err, tt.want) || (tt.want == nil && err != nil) {
					t.Fatalf("got %v, want %v", err, tt.want)
				}
				if err != nil {
					continue
				}
				if p.Kind != tt.wantKind || p.Subject != tt.wantSub || p.Via != tt.wantVia {
					t.Errorf("principal %s %q via %q, want %s %q via %q", p.Kind, p.Subject, p.Via, tt.wantKind, tt.wantSub, tt.wantVia)
				}
			}
		})
	}
	for _, tok := range []string{gateway, service, userTok, expiredTok} {
		assertNoTokenLeak(t, "log", logs.String(), tok)
	}
	if !strings.Contains(logs.String(), `"via":"`+gatewayEmail+`"`) {
		t.Error("the refusal of a forwarded token does not name the gateway")
	}
}
