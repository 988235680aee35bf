package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cloudrun-authn/pushgate/authn/mint"
)

// The identities every server is configured with.
const (
	audience     = "https://pushgate-perf-abc123-uc.a.run.app"
	project      = "perf-project"
	pushEmail    = "pubsub-push@" + project + ".iam.gserviceaccount.com"
	clerkIssuer  = "https://clerk.perf.pushgate.localhost"
	clerkSecret  = "sk_test_perf_harness_fake_secret"
	clerkParty   = "http://localhost:3000"
	tokenLife    = 2 * time.Hour // outlives any run; real Clerk tokens live 60 s
	certsPath    = "/oauth2/v3/certs"
	clerkJWKSURL = "/v1/jwks"
)

// fixtures are the fake key servers and the tokens signed with their keys.
type fixtures struct {
	googleKeys *keyServer // Google's certs endpoint
	clerkAPI   *keyServer // Clerk's Backend API (GET /v1/jwks with the secret)
	otlp       *otlpSink  // where -service-env's {otlp} sends OTLP exports

	googleToken string   // one Pub/Sub push token, reused
	clerkTokens []string // distinct Clerk session tokens
}

// keyServer serves one JWKS on loopback and counts fetches.
type keyServer struct {
	*httptest.Server
	fetches atomic.Int64
}

func newKeyServer(jwks []byte, path, bearer string) *keyServer {
	ks := &keyServer{}
	ks.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != path {
			http.NotFound(w, r)
			return
		}
		if bearer != "" && r.Header.Get("Authorization") != "Bearer "+bearer {
			http.Error(w, `{"errors":[{"code":"authorization_invalid"}]}`, http.StatusUnauthorized)
			return
		}
		ks.fetches.Add(1)
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "public, max-age=3600")
		_, _ = w.Write(jwks)
	}))
	return ks
}

// newFixtures generates the keys, starts the key servers and mints
// nClerk distinct Clerk tokens on every CPU.
func newFixtures(nClerk int, now time.Time) (*fixtures, error) {
	google, err := mint.NewSigner("perf-google-1")
	if err != nil {
		return nil, err
	}
	clerk, err := mint.NewSigner("ins_perf_clerk_1")
	if err != nil {
		return nil, err
	}
	f := &fixtures{
		googleKeys: newKeyServer(google.JWKS(), certsPath, ""),
		clerkAPI:   newKeyServer(clerk.JWKS(), clerkJWKSURL, clerkSecret),
		otlp:       newOTLPSink(),
	}
	if f.googleToken, err = google.Sign(mint.GoogleClaims(audience, pushEmail, now, tokenLife)); err != nil {
		f.close()
		return nil, err
	}
	if f.clerkTokens, err = mintClerkTokens(clerk, nClerk, now); err != nil {
		f.close()
		return nil, err
	}
	return f, nil
}

// mintClerkTokens signs n session tokens for n users, in parallel.
func mintClerkTokens(s *mint.Signer, n int, now time.Time) ([]string, error) {
	out := make([]string, n)
	workers := runtime.NumCPU()
	var (
		wg       sync.WaitGroup
		next     atomic.Int64
		errOnce  sync.Once
		firstErr error
	)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				claims := mint.ClerkClaims(clerkIssuer, fmt.Sprintf("user_perf%010d", i), now, tokenLife)
				claims["azp"] = clerkParty
				tok, err := s.Sign(claims)
				if err != nil {
					errOnce.Do(func() { firstErr = err })
					return
				}
				out[i] = tok
			}
		}()
	}
	wg.Wait()
	return out, firstErr
}

// env is the production configuration every server gets (the ceiling
// ignores it).
func (f *fixtures) env() []string {
	return []string{
		"AUTH_GOOGLE_AUDIENCES=" + audience,
		"GOOGLE_CLOUD_PROJECT=" + project,
		"AUTH_GOOGLE_CERTS_URL=" + f.googleKeys.URL + certsPath,
		"CLERK_ISSUER=" + clerkIssuer,
		"CLERK_SECRET_KEY=" + clerkSecret,
		"CLERK_API_URL=" + f.clerkAPI.URL,
		"CLERK_AUTHORIZED_PARTIES=" + clerkParty,
	}
}

func (f *fixtures) close() {
	f.googleKeys.Close()
	f.clerkAPI.Close()
	f.otlp.Close()
}
