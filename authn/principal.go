package authn

import (
	"context"
	"encoding/json"
	"errors"
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

// ProviderClerk is the Provider of a principal made from a Clerk session
// token.
const ProviderClerk = "clerk"

// Principal is a verified caller. OrgPermissions may be shared with other
// requests carrying the same token (see the token cache): treat it as
// read-only.
type Principal struct {
	Kind Kind
	// Provider names the rule set that admitted a user: ProviderClerk, or
	// an OIDCProvider's Name (users only; "" for services).
	Provider string
	// Subject is the token's sub: a service account's unique ID, or a Clerk user ID.
	Subject string
	// Issuer is the token's iss.
	Issuer string
	// Email is a service account's email, or a user's when the token has
	// one (Clerk's session tokens have none unless customized).
	Email string
	// EmailVerified is the token's email_verified (OpenID Connect users).
	EmailVerified bool
	// SessionID is Clerk's sid (users only).
	SessionID string
	// OrgID, OrgRole and OrgPermissions describe the user's active Clerk
	// organization, from either session token version (users only).
	OrgID          string
	OrgRole        string
	OrgPermissions []string
	// AuthorizedParty is the token's azp, when present.
	AuthorizedParty string
	// Via is the email of the API gateway that forwarded the token (in
	// X-Forwarded-Authorization); "" when the caller came directly.
	Via string
	// Expiry is the token's exp.
	Expiry time.Time

	// claims is the token's decoded claims object (JSON), shared read-only
	// with the token cache; "" for a Principal not made from a token.
	claims string
}

var errNoClaims = errors.New("authn: principal has no token claims")

// Claims decodes every claim of the token, e.g. custom Clerk session
// claims, into v, as json.Unmarshal does. It costs a JSON decode per call,
// so call it when needed. json.Unmarshal matches struct field names without
// regard to case, unlike the verifiers: for what the rules checked
// (subject, email, azp, organization), use the Principal's fields. A
// Principal that was not made from a verified token (for example one built
// for ContextWithPrincipal) has no claims and gets an error.
func (p Principal) Claims(v any) error {
	if p.claims == "" {
		return errNoClaims
	}
	// A copy: json.Unmarshal hands parts of its input to UnmarshalJSON
	// methods, which may write to them; the claims are shared.
	return json.Unmarshal([]byte(p.claims), v)
}

type principalKey struct{}

// principalEntry is the context value, by pointer: the principal, and the
// Authenticator that admitted it (nil when set by ContextWithPrincipal),
// so that policies can log and count their refusals. The token cache keeps
// it too, with what the request-dependent rules need, and hands the same
// entry to every request with the token: an entry is never changed once
// made.
type principalEntry struct {
	p Principal
	a *Authenticator
	// provider is the rule set that admitted the principal.
	provider string
	// partyListed: the token's azp is an authorized party (the cookie rule).
	partyListed bool
	// deadline is exp + skew: the entry is not valid after it.
	deadline time.Time
}

// requestPrincipal is the context value: the principal's entry (shared by
// the requests that carry its token) and what is this request's alone,
// whether a route policy refused it (so that the request counts as one
// decision).
type requestPrincipal struct {
	entry         *principalEntry
	policyRefused bool
}

// ContextWithPrincipal returns a copy of ctx carrying p, as Middleware
// does. Tests and handlers outside Middleware use it.
func ContextWithPrincipal(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, &requestPrincipal{entry: &principalEntry{p: p}})
}

// PrincipalFrom returns the principal that Middleware put in ctx, if any.
// It never panics.
func PrincipalFrom(ctx context.Context) (Principal, bool) {
	if e := entryFrom(ctx); e != nil {
		return e.p, true
	}
	return Principal{}, false
}

// entryFrom is the context's principal entry, or nil.
func entryFrom(ctx context.Context) *principalEntry {
	if rp := requestPrincipalFrom(ctx); rp != nil {
		return rp.entry
	}
	return nil
}

func requestPrincipalFrom(ctx context.Context) *requestPrincipal {
	rp, _ := ctx.Value(principalKey{}).(*requestPrincipal)
	return rp
}
