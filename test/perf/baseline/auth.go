package main

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/clerk/clerk-sdk-go/v2"
	clerkhttp "github.com/clerk/clerk-sdk-go/v2/http"
	"google.golang.org/api/idtoken"
	"google.golang.org/api/option"
)

// googleCertsURL is where idtoken fetches Google's keys; it cannot be
// configured, so the validator's client rewrites it (see rewriteCerts).
const googleCertsURL = "https://www.googleapis.com/oauth2/v3/certs"

// caller is the verified principal.
type caller struct {
	Kind    string `json:"kind"`
	Subject string `json:"subject"`
	Issuer  string `json:"issuer"`
	Email   string `json:"email,omitempty"`
}

type callerKey struct{}

type auth struct {
	validator *idtoken.Validator
	audiences []string
	project   string
	clerkOpts []clerkhttp.AuthorizationOption
}

func newAuth(ctx context.Context, getenv func(string) string) (*auth, error) {
	a := &auth{
		audiences: splitList(getenv("AUTH_GOOGLE_AUDIENCES")),
		project:   getenv("GOOGLE_CLOUD_PROJECT"),
	}
	if len(a.audiences) == 0 || a.project == "" {
		return nil, errors.New("AUTH_GOOGLE_AUDIENCES and GOOGLE_CLOUD_PROJECT are required")
	}
	client := http.DefaultClient
	if certs := getenv("AUTH_GOOGLE_CERTS_URL"); certs != "" && certs != googleCertsURL {
		u, err := url.Parse(certs)
		if err != nil {
			return nil, err
		}
		client = &http.Client{Transport: rewriteCerts{to: u}}
	}
	v, err := idtoken.NewValidator(ctx, option.WithHTTPClient(client))
	if err != nil {
		return nil, err
	}
	a.validator = v

	clerk.SetKey(getenv("CLERK_SECRET_KEY"))
	if api := getenv("CLERK_API_URL"); api != "" {
		base := strings.TrimSuffix(api, "/") + "/v1"
		clerk.SetBackend(clerk.NewBackend(&clerk.BackendConfig{URL: &base}))
	}
	a.clerkOpts = []clerkhttp.AuthorizationOption{
		clerkhttp.AuthorizedPartyMatches(splitList(getenv("CLERK_AUTHORIZED_PARTIES"))...),
		clerkhttp.AuthorizationFailureHandler(http.HandlerFunc(unauthorized)),
	}
	return a, nil
}

// rewriteCerts sends idtoken's request for Google's certificates to
// another URL.
type rewriteCerts struct{ to *url.URL }

func (t rewriteCerts) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.URL.String() == googleCertsURL {
		r = r.Clone(r.Context())
		r.URL = t.to
		r.Host = t.to.Host
	}
	return http.DefaultTransport.RoundTrip(r)
}

// middleware tries the token as a Google ID token first, then as a Clerk
// session token, and puts the caller in the context.
func (a *auth) middleware(next http.Handler) http.Handler {
	withClerk := clerkhttp.WithHeaderAuthorization(a.clerkOpts...)(http.HandlerFunc(
		func(w http.ResponseWriter, r *http.Request) {
			claims, ok := clerk.SessionClaimsFromContext(r.Context())
			if !ok {
				unauthorized(w, r)
				return
			}
			c := caller{Kind: "user", Subject: claims.Subject, Issuer: claims.Issuer}
			next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), callerKey{}, c)))
		}))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || token == "" {
			unauthorized(w, r)
			return
		}
		if c, err := a.google(r.Context(), token); err == nil {
			next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), callerKey{}, c)))
			return
		}
		withClerk.ServeHTTP(w, r)
	})
}

func (a *auth) google(ctx context.Context, token string) (caller, error) {
	var lastErr error
	for _, aud := range a.audiences {
		p, err := a.validator.Validate(ctx, token, aud)
		if err != nil {
			lastErr = err
			continue
		}
		if p.Issuer != "accounts.google.com" && p.Issuer != "https://accounts.google.com" {
			return caller{}, errors.New("wrong issuer")
		}
		if verified, _ := p.Claims["email_verified"].(bool); !verified {
			return caller{}, errors.New("email not verified")
		}
		email, _ := p.Claims["email"].(string)
		if !strings.HasSuffix(email, "@"+a.project+".iam.gserviceaccount.com") {
			return caller{}, errors.New("email not allowed")
		}
		return caller{Kind: "service", Subject: p.Subject, Issuer: p.Issuer, Email: email}, nil
	}
	return caller{}, lastErr
}

func requireKind(kind string) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			c, _ := r.Context().Value(callerKey{}).(caller)
			if c.Kind != kind {
				writeError(w, http.StatusForbidden, kind+" principal required")
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

func whoami(w http.ResponseWriter, r *http.Request) {
	c, _ := r.Context().Value(callerKey{}).(caller)
	writeJSON(w, http.StatusOK, c)
}

func unauthorized(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("WWW-Authenticate", "Bearer")
	writeError(w, http.StatusUnauthorized, "unauthorized")
}

func writeError(w http.ResponseWriter, status int, reason string) {
	writeJSON(w, status, map[string]string{"error": reason})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
