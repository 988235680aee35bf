package authntest_test

import (
	"io"
	"net/http"
	"testing"

	"github.com/cloudrun-authn/pushgate/authn/authntest"
	"github.com/cloudrun-authn/pushgate/authn/mint"
)

func get(t *testing.T, url, bearer string) (int, string, http.Header) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body), resp.Header
}

func TestKeyServer(t *testing.T) {
	t.Parallel()
	a, err := mint.NewSigner("a")
	if err != nil {
		t.Fatal(err)
	}
	s := authntest.NewKeyServer(t, a)
	if code, body, _ := get(t, s.URL+"/certs", ""); code != 200 || body != string(mint.JWKSOf(a)) {
		t.Errorf("GET = %d %s", code, body)
	}
	s.SetDown(true)
	if code, _, _ := get(t, s.URL, ""); code != 500 {
		t.Errorf("down: status %d, want 500", code)
	}
	s.SetDown(false)
	s.SetKeys()
	s.SetCacheControl("max-age=60")
	if code, body, h := get(t, s.URL, ""); code != 200 || body != `{"keys":[]}` || h.Get("Cache-Control") != "max-age=60" {
		t.Errorf("after SetKeys/SetCacheControl: %d %s %q", code, body, h.Get("Cache-Control"))
	}
	if got := s.Fetches(); got != 3 {
		t.Errorf("Fetches = %d, want 3", got)
	}
}

func TestClerkKeyServer(t *testing.T) {
	t.Parallel()
	s := authntest.NewClerkKeyServer(t, "sk_test_x")
	if code, _, _ := get(t, s.URL+authntest.ClerkJWKSPath, ""); code != 401 {
		t.Errorf("no secret: status %d, want 401", code)
	}
	if code, _, _ := get(t, s.URL+authntest.ClerkJWKSPath, "sk_test_wrong"); code != 401 {
		t.Errorf("wrong secret: status %d, want 401", code)
	}
	if code, _, _ := get(t, s.URL+authntest.ClerkJWKSPath, "sk_test_x"); code != 200 {
		t.Errorf("right secret: status %d, want 200", code)
	}
	if code, _, _ := get(t, s.URL+"/other", "sk_test_x"); code != 404 {
		t.Errorf("other path: status %d, want 404", code)
	}
}
