// Package authntest provides test fixtures for code that uses authn: a JWKS
// server built on httptest that counts fetches and can fail, rotate keys and
// set Cache-Control, and a Clerk Backend API variant that requires the
// secret key. Any package's tests may import it; production code must not.
package authntest

import (
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/cloudrun-authn/pushgate/authn/mint"
)

// ClerkJWKSPath is where Clerk's Backend API serves the key set.
const ClerkJWKSPath = "/v1/jwks"

// KeyServer serves a JSON Web Key Set over HTTP on loopback. Its URL (from
// the embedded *httptest.Server) serves the key set on every path, unless
// it was made by NewClerkKeyServer.
type KeyServer struct {
	*httptest.Server

	fetches atomic.Int64
	secret  string // Clerk variant: required bearer token

	mu           sync.Mutex
	body         []byte
	down         bool
	cacheControl string
	hold         chan struct{} // non-nil: requests wait until it is closed
}

// NewKeyServer starts a key server publishing the signers' keys; it is
// closed when the test ends.
func NewKeyServer(t testing.TB, signers ...*mint.Signer) *KeyServer {
	t.Helper()
	s := &KeyServer{body: mint.JWKSOf(signers...)}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.Close)
	return s
}

// NewClerkKeyServer starts a stand-in for Clerk's Backend API: it serves
// the key set at /v1/jwks only to "Authorization: Bearer <secret>" and
// answers 401 otherwise. Its URL is the API URL (ClerkConfig.APIURL).
func NewClerkKeyServer(t testing.TB, secret string, signers ...*mint.Signer) *KeyServer {
	t.Helper()
	s := &KeyServer{body: mint.JWKSOf(signers...), secret: secret}
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+ClerkJWKSPath, s.serve)
	s.Server = httptest.NewServer(mux)
	t.Cleanup(s.Close)
	return s
}

func (s *KeyServer) serve(w http.ResponseWriter, r *http.Request) {
	s.fetches.Add(1)
	if s.secret != "" && r.Header.Get("Authorization") != "Bearer "+s.secret {
		http.Error(w, `{"errors":[{"code":"authorization_invalid"}]}`, http.StatusUnauthorized)
		return
	}
	s.mu.Lock()
	hold := s.hold
	s.mu.Unlock()
	if hold != nil {
		select {
		case <-hold:
		case <-r.Context().Done():
			return
		}
	}
	s.mu.Lock()
	body, down, cc := s.body, s.down, s.cacheControl
	s.mu.Unlock()
	if down {
		http.Error(w, "key server down", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	if cc != "" {
		w.Header().Set("Cache-Control", cc)
	}
	_, _ = w.Write(body)
}

// Fetches returns how many requests the server has received for the key set.
func (s *KeyServer) Fetches() int { return int(s.fetches.Load()) }

// SetKeys replaces the published keys (key rotation).
func (s *KeyServer) SetKeys(signers ...*mint.Signer) { s.SetBody(mint.JWKSOf(signers...)) }

// SetBody replaces the response body with raw bytes (malformed or oversize
// key sets).
func (s *KeyServer) SetBody(body []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.body = body
}

// SetDown makes the server answer 500 (true) or serve again (false).
func (s *KeyServer) SetDown(down bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.down = down
}

// SetCacheControl sets the Cache-Control header of later responses; "" omits it.
func (s *KeyServer) SetCacheControl(v string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cacheControl = v
}

// Hold makes requests wait, counted but unanswered, until release is
// called: a slow key server, for tests of merged concurrent fetches.
func (s *KeyServer) Hold() (release func()) {
	ch := make(chan struct{})
	s.mu.Lock()
	s.hold = ch
	s.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			s.mu.Lock()
			s.hold = nil
			s.mu.Unlock()
			close(ch)
		})
	}
}
