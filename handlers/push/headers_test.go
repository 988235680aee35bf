package push

import (
	"net/http"
	"strings"
	"testing"
)

// credentialHeaders are headers that carry a credential, or an identity a
// proxy or gateway vouches for, in the wild.
var credentialHeaders = []string{
	"Authorization",
	"Proxy-Authorization",
	"X-Forwarded-Authorization",
	"X-Serverless-Authorization",
	"Cookie",
	"Set-Cookie",
	"X-Endpoint-Api-Userinfo",
	"X-Apigateway-Api-Userinfo",
	"X-Api-Key",
	"X-Goog-Api-Key",
	"Apikey",
	"X-Auth-Token",
	"X-Access-Token",
	"X-Id-Token",
	"X-Csrf-Token",
	"X-Xsrf-Token",
	"X-Amz-Security-Token",
	"X-Goog-Iap-Jwt-Assertion",
	"Cf-Access-Jwt-Assertion",
	"Cf-Access-Client-Secret",
	"X-Ms-Client-Principal",
	"X-Ms-Token-Aad-Id-Token",
	"X-Authenticated-User",
	"X-Goog-Authenticated-User-Email",
	"X-Forwarded-Access-Token",
	"X-Auth-Request-Email",
	"X-Remote-User",
	"Remote-User",
	"X-Session-Id",
	"X-Client-Password",
	"X-Credential",
}

// TestUnwrappedNeverTakesCredentialHeaders: an unwrapped delivery that
// carries a credential header has no attribute of it.
func TestUnwrappedNeverTakesCredentialHeaders(t *testing.T) {
	t.Parallel()
	for _, name := range credentialHeaders {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if got, ok := attributeName(http.CanonicalHeaderKey(name)); ok {
				t.Errorf("attributeName(%q) = %q, want none", name, got)
			}
			m, err := Decode(newPushRequest("data", map[string]string{headerMessageID: "1", name: "Bearer secret"}))
			if err != nil {
				t.Fatalf("Decode() error = %v", err)
			}
			if len(m.Attributes) != 0 {
				t.Errorf("Attributes = %v, want none", m.Attributes)
			}
		})
	}
}

// TestUnwrappedAttributes: headers of no transport or credential are the
// attributes, lower-cased.
func TestUnwrappedAttributes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		header string
		want   bool // taken as an attribute
	}{
		{header: "Eventtype", want: true},
		{header: "Order-Id", want: true},
		{header: "Keyring", want: true},
		{header: "Content-Type"},
		{header: "User-Agent"},
		{header: "X-Cloud-Trace-Context"},
		{header: "X-Forwarded-For"},
		{header: "Traceparent"},
		{header: "Ce-Id"},
		{header: "Sec-Fetch-Mode"},
	}
	for _, tt := range tests {
		t.Run(tt.header, func(t *testing.T) {
			t.Parallel()
			m, err := Decode(newPushRequest("data", map[string]string{headerMessageID: "1", tt.header: "v"}))
			if err != nil {
				t.Fatalf("Decode() error = %v", err)
			}
			got := m.Attributes[strings.ToLower(tt.header)] == "v"
			if got != tt.want {
				t.Errorf("attribute %s taken = %v, want %v (attributes %v)", tt.header, got, tt.want, m.Attributes)
			}
		})
	}
}
