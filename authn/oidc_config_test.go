package authn_test

import (
	"strings"
	"testing"

	"github.com/cloudrun-authn/pushgate/authn"
)

func TestParseOIDCProviders(t *testing.T) {
	t.Parallel()
	okta := `{"name":"okta","issuer":"https://acme.okta.com/oauth2/default","audiences":["api://default"]}`
	t.Run("valid", func(t *testing.T) {
		t.Parallel()
		got, err := authn.ParseOIDCProviders([]byte(`[` + okta + `,
			{"name":"cognito-access","issuer":"https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_abc","audiences":["4vbo2client"],
			 "audienceClaim":"client_id","jwksUrl":"https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_abc/.well-known/jwks.json",
			 "algorithms":["RS256"],"claims":{"token_use":"access","scope":["read","write"],"tier":2,"beta":true},"requireEmailVerified":false},
			{"name":"workspace","issuer":"accounts.google.com","audiences":["1-a.apps.googleusercontent.com"],"claims":{"hd":"acme.com"},"requireEmailVerified":true}]`))
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 3 || got[1].AudienceClaim != "client_id" || len(got[1].Claims["scope"]) != 2 ||
			got[1].Claims["tier"][0] != 2.0 || got[1].Claims["beta"][0] != true || !got[2].RequireEmailVerified {
			t.Errorf("got %+v", got)
		}
	})
	tests := []struct {
		name, json string
		want       string // in the error
	}{
		{"not JSON", `[{`, "not a JSON array"},
		{"an object, not an array", okta, "not a JSON array"},
		{"null", `null`, "not a JSON array"},
		{"an entry not an object", `["okta"]`, "entry 0: not a JSON object"},
		{"unknown field", `[{"name":"okta","issuer":"https://a.example","audiences":["x"],"audience":"x"}]`, `entry 0: unknown field "audience"`},
		{"repeated field", `[{"name":"okta","name":"okta2","issuer":"https://a.example","audiences":["x"]}]`, "entry 0: a field is repeated"},
		{"missing name", `[{"issuer":"https://a.example","audiences":["x"]}]`, "entry 0: name is required"},
		{"empty name", `[{"name":"","issuer":"https://a.example","audiences":["x"]}]`, "entry 0: name is required"},
		{"upper-case name", `[{"name":"Okta","issuer":"https://a.example","audiences":["x"]}]`, "entry 0 (Okta): name \"Okta\" must be lower-case"},
		{"name with a space", `[{"name":"my okta","issuer":"https://a.example","audiences":["x"]}]`, "must be lower-case"},
		{"reserved name google", `[{"name":"google","issuer":"https://a.example","audiences":["x"]}]`, `name "google" is reserved`},
		{"reserved name clerk", `[{"name":"clerk","issuer":"https://a.example","audiences":["x"]}]`, `name "clerk" is reserved`},
		{"reserved name none", `[{"name":"none","issuer":"https://a.example","audiences":["x"]}]`, `name "none" is reserved`},
		{"reserved name dev", `[{"name":"dev","issuer":"https://a.example","audiences":["x"]}]`, `name "dev" is reserved`},
		{"repeated name", `[` + okta + `,` + okta + `]`, `entry 1 (okta): name "okta" is repeated`},
		{"missing issuer", `[{"name":"okta","audiences":["x"]}]`, "entry 0 (okta): issuer must be set"},
		{"issuer not a URL", `[{"name":"okta","issuer":"okta","audiences":["x"]}]`, "issuer must be set"},
		{"issuer over plain http", `[{"name":"okta","issuer":"http://idp.example.com","audiences":["x"]}]`, "an https URL"},
		{"issuer of another scheme", `[{"name":"okta","issuer":"ftp://idp.example.com","audiences":["x"]}]`, "an https URL"},
		{"jwksUrl over plain http", `[{"name":"okta","issuer":"https://a.example","audiences":["x"],"jwksUrl":"http://keys.example/jwks"}]`, "jwksUrl is not an https URL"},
		{"missing audiences", `[{"name":"okta","issuer":"https://a.example"}]`, "audiences must be a non-empty array"},
		{"empty audiences", `[{"name":"okta","issuer":"https://a.example","audiences":[]}]`, "audiences must be a non-empty array"},
		{"an empty audience", `[{"name":"okta","issuer":"https://a.example","audiences":[""]}]`, "audiences must be a non-empty array"},
		{"audiences a string", `[{"name":"okta","issuer":"https://a.example","audiences":"x"}]`, `field "audiences" has the wrong type`},
		{"name a number", `[{"name":1,"issuer":"https://a.example","audiences":["x"]}]`, `field "name" has the wrong type`},
		{"requireEmailVerified a string", `[{"name":"okta","issuer":"https://a.example","audiences":["x"],"requireEmailVerified":"yes"}]`, `field "requireEmailVerified" has the wrong type`},
		{"unsupported algorithm", `[{"name":"okta","issuer":"https://a.example","audiences":["x"],"algorithms":["HS256"]}]`, `algorithm "HS256" is not supported`},
		{"algorithm none", `[{"name":"okta","issuer":"https://a.example","audiences":["x"],"algorithms":["none"]}]`, `algorithm "none" is not supported`},
		{"claims not an object", `[{"name":"okta","issuer":"https://a.example","audiences":["x"],"claims":["hd"]}]`, `field "claims" has the wrong type`},
		{"a claim allowing an object", `[{"name":"okta","issuer":"https://a.example","audiences":["x"],"claims":{"hd":{"a":1}}}]`, `field "claims/hd" has the wrong type`},
		{"a claim allowing nothing", `[{"name":"okta","issuer":"https://a.example","audiences":["x"],"claims":{"hd":[]}}]`, `field "claims/hd" has the wrong type`},
		{"jwksUrl not a URL", `[{"name":"okta","issuer":"https://a.example","audiences":["x"],"jwksUrl":"keys.json"}]`, "jwksUrl is not an https URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := authn.ParseOIDCProviders([]byte(tt.json))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want one containing %q", err, tt.want)
			}
		})
	}
	t.Run("every problem reported", func(t *testing.T) {
		t.Parallel()
		_, err := authn.ParseOIDCProviders([]byte(`[{"name":"Okta","audiences":[]},{"name":"b","issuer":"https://b.example","audiences":["x"],"x":1}]`))
		for _, want := range []string{"entry 0 (Okta): name", "entry 0 (Okta): issuer", "entry 0 (Okta): audiences", `entry 1: unknown field "x"`} {
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("error %v lacks %q", err, want)
			}
		}
	})
}
