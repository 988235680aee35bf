package authn_test

import (
	"context"
	"crypto/rsa"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/cloudrun-authn/pushgate/authn"
	"github.com/cloudrun-authn/pushgate/authn/mint"
)

// Example wires an Authenticator and route policies onto a chi router: a
// public health check, a push endpoint for Google service accounts, and an
// API for Clerk users. It runs offline: local signers stand in for Google
// and Clerk, as in dev mode. In production, leave GoogleConfig.Keys nil
// (keys come from Google's certs URL) and give Clerk a SecretKey or
// JWTKeyPEM.
func Example() {
	googleSigner, _ := mint.NewSigner("local-google")
	clerkSigner, _ := mint.NewSigner("local-clerk")
	now := time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC)
	const audience = "https://pushgate.example.run.app"

	auth, err := authn.New(authn.Config{
		Google: &authn.GoogleConfig{
			Audiences: []string{audience},
			ProjectID: "acme", // admits *@acme.iam.gserviceaccount.com
			Keys:      authn.NewStaticKeySet(map[string]*rsa.PublicKey{googleSigner.KID: googleSigner.PublicKey()}),
		},
		Clerk: &authn.ClerkConfig{
			Issuer:            "https://clerk.pushgate.localhost",
			JWTKeyPEM:         string(clerkSigner.PublicKeyPEM()), // like CLERK_JWT_KEY
			AuthorizedParties: []string{"https://app.example"},
		},
		Now: func() time.Time { return now }, // a fixed clock, for the example only
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	auth.Start(context.Background()) // background key fetches; returns at once

	r := chi.NewRouter()
	r.Get("/healthz", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprint(w, "ok") })
	r.Group(func(r chi.Router) {
		r.Use(auth.Middleware) // 401/503 unless a valid token is present
		r.With(authn.RequireService()).Post("/pubsub/push", func(w http.ResponseWriter, r *http.Request) {
			p, _ := authn.PrincipalFrom(r.Context())
			fmt.Fprintf(w, "message from %s", p.Email)
		})
		r.With(authn.RequireUser()).Get("/api/events", func(w http.ResponseWriter, r *http.Request) {
			p, _ := authn.PrincipalFrom(r.Context())
			fmt.Fprintf(w, "events for %s", p.Subject)
		})
	})

	pushToken, _ := googleSigner.Sign(mint.GoogleClaims(audience, "pubsub-push@acme.iam.gserviceaccount.com", now, time.Hour))
	userToken, _ := clerkSigner.Sign(mint.ClerkClaims("https://clerk.pushgate.localhost", "user_123", now, time.Minute))

	call := func(method, path, token string) {
		req := httptest.NewRequest(method, path, nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		rec := httptest.NewRecorder()
		r.ServeHTTP(rec, req)
		fmt.Println(rec.Code, strings.TrimSpace(rec.Body.String()))
	}
	call("GET", "/healthz", "")
	call("POST", "/pubsub/push", pushToken)
	call("GET", "/api/events", userToken)
	call("POST", "/pubsub/push", "")        // no token
	call("POST", "/pubsub/push", userToken) // a user on a service route
	// Output:
	// 200 ok
	// 200 message from pubsub-push@acme.iam.gserviceaccount.com
	// 200 events for user_123
	// 401 {"error":"no token"}
	// 403 {"error":"service principal required"}
}

// ExamplePrincipal_Claims reads a custom claim of a Clerk session token
// (one added with Clerk's session token customisation) in a handler.
func ExamplePrincipal_Claims() {
	clerkSigner, _ := mint.NewSigner("local-clerk")
	now := time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC)
	const issuer = "https://clerk.pushgate.localhost"
	auth, _ := authn.New(authn.Config{
		Clerk: &authn.ClerkConfig{Issuer: issuer, JWTKeyPEM: string(clerkSigner.PublicKeyPEM())},
		Now:   func() time.Time { return now },
	})
	claims := mint.ClerkClaims(issuer, "user_123", now, time.Minute)
	claims["plan"] = "pro"
	token, _ := clerkSigner.Sign(claims)

	h := auth.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, _ := authn.PrincipalFrom(r.Context())
		var custom struct {
			Plan string `json:"plan"`
		}
		if err := p.Claims(&custom); err != nil {
			http.Error(w, "bad claims", http.StatusInternalServerError)
			return
		}
		fmt.Fprintf(w, "%s is on the %s plan", p.Subject, custom.Plan)
	}))
	req := httptest.NewRequest("GET", "/api/events", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	fmt.Println(rec.Body.String())
	// Output:
	// user_123 is on the pro plan
}
