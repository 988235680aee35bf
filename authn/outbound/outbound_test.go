package outbound

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/api/option"
)

func TestNewClientRejectsEmptyAudience(t *testing.T) {
	t.Parallel()
	for _, aud := range []string{"", "  "} {
		c, err := NewClient(context.Background(), aud)
		if !errors.Is(err, ErrNoAudience) || c != nil {
			t.Errorf("NewClient(%q): got (%v, %v), want (nil, ErrNoAudience)", aud, c, err)
		}
	}
}

func TestNewClientPassesOptionsThrough(t *testing.T) {
	t.Parallel()
	// An option idtoken refuses shows that opts reach it, and that its error
	// is wrapped with this package's prefix.
	_, err := NewClient(context.Background(), "https://svc.example", option.WithAPIKey("k"))
	if err == nil || !strings.HasPrefix(err.Error(), "outbound: ") || !strings.Contains(err.Error(), "WithAPIKey") {
		t.Errorf("got %v, want the wrapped idtoken refusal of WithAPIKey", err)
	}
}

// tokenServer plays Google's OAuth token endpoint for a service-account key:
// it reads the signed assertion and answers with an ID token for its
// target_audience.
type tokenServer struct {
	mu        sync.Mutex
	audiences []string
}

func (s *tokenServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return
	}
	parts := strings.Split(r.PostForm.Get("assertion"), ".")
	if len(parts) != 3 {
		http.Error(w, "no assertion", http.StatusBadRequest)
		return
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		http.Error(w, "bad assertion", http.StatusBadRequest)
		return
	}
	var claims struct {
		TargetAudience string `json:"target_audience"`
	}
	if err := json.Unmarshal(payload, &claims); err != nil || claims.TargetAudience == "" {
		http.Error(w, "no target_audience", http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	s.audiences = append(s.audiences, claims.TargetAudience)
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"id_token": fakeIDToken(claims.TargetAudience), "expires_in": 3600})
}

// fakeIDToken is JWT-shaped (the client reads its exp); its signature is
// never checked here.
func fakeIDToken(aud string) string {
	enc := base64.RawURLEncoding.EncodeToString
	header := enc([]byte(`{"alg":"RS256","typ":"JWT"}`))
	payload := enc(fmt.Appendf(nil, `{"aud":%q,"exp":%d,"iss":"https://accounts.google.com"}`, aud, time.Now().Add(time.Hour).Unix()))
	return header + "." + payload + ".c2ln"
}

func serviceAccountJSON(t *testing.T, tokenURL string) []byte {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(map[string]string{
		"type":           "service_account",
		"project_id":     "p",
		"private_key_id": "kid-1",
		"private_key":    string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})),
		"client_email":   "caller@p.iam.gserviceaccount.com",
		"client_id":      "1",
		"token_uri":      tokenURL,
	})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestNewClientSendsIDTokenForAudience(t *testing.T) {
	t.Parallel()
	tokens := &tokenServer{}
	tokenSrv := httptest.NewServer(tokens)
	t.Cleanup(tokenSrv.Close)

	var gotAuth string
	var mu sync.Mutex
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		gotAuth = r.Header.Get("Authorization")
		mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(target.Close)

	const audience = "https://callee-123.us-central1.run.app"
	creds := serviceAccountJSON(t, tokenSrv.URL)
	c, err := NewClient(context.Background(), audience, option.WithAuthCredentialsJSON(option.ServiceAccount, creds))
	if err != nil {
		t.Fatalf("NewClient: %v", err)
	}
	resp, err := c.Get(target.URL + "/whoami")
	if err != nil {
		t.Fatalf("GET: %v", err)
	}
	resp.Body.Close()

	mu.Lock()
	defer mu.Unlock()
	if want := "Bearer " + fakeIDToken(audience); !sameToken(gotAuth, want) {
		t.Errorf("got Authorization %q, want an ID token for %s", gotAuth, audience)
	}
	tokens.mu.Lock()
	defer tokens.mu.Unlock()
	if len(tokens.audiences) == 0 {
		t.Fatal("the token endpoint was never asked")
	}
	for _, aud := range tokens.audiences {
		if aud != audience {
			t.Errorf("got target_audience %q, want %q", aud, audience)
		}
	}
}

// sameToken compares bearer headers by their aud claim (exp may differ by a
// second between the two tokens).
func sameToken(got, want string) bool {
	aud := func(h string) string {
		parts := strings.Split(strings.TrimPrefix(h, "Bearer "), ".")
		if !strings.HasPrefix(h, "Bearer ") || len(parts) != 3 {
			return ""
		}
		b, err := base64.RawURLEncoding.DecodeString(parts[1])
		if err != nil {
			return ""
		}
		var c struct {
			Aud string `json:"aud"`
		}
		if json.Unmarshal(b, &c) != nil {
			return ""
		}
		return c.Aud
	}
	return aud(got) != "" && aud(got) == aud(want)
}

func TestAudience(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in, want string
		wantErr  bool
	}{
		{"https://svc-123.us-central1.run.app/api/events?x=1", "https://svc-123.us-central1.run.app", false},
		{"https://svc-123.us-central1.run.app/", "https://svc-123.us-central1.run.app", false},
		{"https://svc-123.us-central1.run.app", "https://svc-123.us-central1.run.app", false},
		{"http://127.0.0.1:8080/pubsub/push", "http://127.0.0.1:8080", false},
		{"svc-123.run.app/api", "", true},
		{"ftp://svc.example", "", true},
		{"https://user:pw@svc.example/", "", true},
		{"", "", true},
		{"https://%zz", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			got, err := Audience(tt.in)
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Errorf("Audience(%q) = %q, %v; want %q, error %v", tt.in, got, err, tt.want, tt.wantErr)
			}
		})
	}
}

func ExampleAudience() {
	aud, _ := Audience("https://billing-123.us-central1.run.app/api/charge")
	fmt.Println(aud)
	// Output: https://billing-123.us-central1.run.app
}
