package authn

import (
	"context"
	"time"
)

// Kind says what sort of caller a Principal is.
type Kind string

// The two kinds of principal.
const (
	// KindService is a Google-signed OIDC ID token of a service account
	// (Pub/Sub push, Cloud Scheduler, Cloud Tasks, another service).
	KindService Kind = "service"
	// KindUser is a Clerk session token of a person.
	KindUser Kind = "user"
)

// Principal is a verified caller. The slices and the Claims map may be
// shared with other requests carrying the same token (see the token cache):
// treat them as read-only.
type Principal struct {
	Kind Kind
	// Subject is the token's sub: a service account's unique ID, or a Clerk user ID.
	Subject string
	// Issuer is the token's iss.
	Issuer string
	// Email is a service account's email (services only).
	Email string
	// SessionID is Clerk's sid (users only).
	SessionID string
	// OrgID, OrgRole and OrgPermissions describe the user's active Clerk
	// organization, from either session token version (users only).
	OrgID          string
	OrgRole        string
	OrgPermissions []string
	// AuthorizedParty is the token's azp, when present.
	AuthorizedParty string
	// Expiry is the token's exp.
	Expiry time.Time
	// Claims holds every claim of the token as decoded JSON.
	Claims map[string]any
}

type principalKey struct{}

// principalEntry is the context value: the principal, and the
// Authenticator that admitted it (nil when set by ContextWithPrincipal),
// so that policies can log and count their refusals.
type principalEntry struct {
	p Principal
	a *Authenticator
}

// ContextWithPrincipal returns a copy of ctx carrying p, as Middleware
// does. Tests and handlers outside Middleware use it.
func ContextWithPrincipal(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, principalEntry{p: p})
}

// PrincipalFrom returns the principal that Middleware put in ctx, if any.
// It never panics.
func PrincipalFrom(ctx context.Context) (Principal, bool) {
	e, ok := ctx.Value(principalKey{}).(principalEntry)
	return e.p, ok
}

func authenticatorFrom(ctx context.Context) *Authenticator {
	e, _ := ctx.Value(principalKey{}).(principalEntry)
	return e.a
}
