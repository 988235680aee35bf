package authn

import (
	"log/slog"
	"net/http"
	"slices"
	"strings"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
)

// UserRule is an extra requirement RequireUser places on a user principal.
// It returns nil to admit, or a 403 *Error.
type UserRule func(p Principal) error

// WithOrgRole requires the user's active organization role to be role.
// Clerk writes roles as "org:<name>"; role may be given with or without
// that prefix.
func WithOrgRole(role string) UserRule {
	want := role
	if !strings.HasPrefix(want, "org:") {
		want = "org:" + want
	}
	return func(p Principal) error {
		if p.OrgRole == "" || (p.OrgRole != want && p.OrgRole != role) {
			return ErrOrgRoleRequired
		}
		return nil
	}
}

// WithOrgPermission requires the user's active organization permissions to
// include perm exactly (e.g. "org:events:publish").
func WithOrgPermission(perm string) UserRule {
	return func(p Principal) error {
		if !slices.Contains(p.OrgPermissions, perm) {
			return ErrOrgPermissionRequired
		}
		return nil
	}
}

// FromProvider requires the user to have signed in with one of the named
// providers: ProviderClerk, or an OIDCProvider's Name.
func FromProvider(names ...string) UserRule {
	names = slices.Clone(names)
	return func(p Principal) error {
		if !slices.Contains(names, p.Provider) {
			return ErrProviderRequired
		}
		return nil
	}
}

// WithClaim requires the user's token to carry the claim name with the
// string value: the claim equals it, or is an array that contains it
// (Cognito's cognito:groups, Okta's groups). The claim is read from the
// token's claims on each request.
func WithClaim(name, value string) UserRule {
	return func(p Principal) error {
		var claims map[string]jsontext.Value
		if p.claims == "" || json.Unmarshal([]byte(p.claims), &claims) != nil ||
			!claimAllows(claims[name], ClaimValues{value}) {
			return ErrClaimRequired
		}
		return nil
	}
}

// RequireService admits service principals only: 401 without a principal,
// 403 for a user. With emails, the service's email must be one of them (403
// otherwise). Use it after Authenticator.Middleware.
func RequireService(emails ...string) func(http.Handler) http.Handler {
	emails = slices.Clone(emails)
	return policy(func(p Principal) error {
		if p.Kind != KindService {
			return ErrServiceRequired
		}
		if len(emails) > 0 && !slices.Contains(emails, p.Email) {
			return errServiceEmailForbidden
		}
		return nil
	})
}

// RequireUser admits user principals that pass every rule: 401 without a
// principal, 403 for a service or a failed rule. Use it after
// Authenticator.Middleware.
func RequireUser(rules ...UserRule) func(http.Handler) http.Handler {
	rules = slices.Clone(rules)
	return policy(func(p Principal) error {
		if p.Kind != KindUser {
			return ErrUserRequired
		}
		for _, rule := range rules {
			if err := rule(p); err != nil {
				return err
			}
		}
		return nil
	})
}

// RequireAny admits any principal: 401 without one. Use it where a route
// must never be reached unauthenticated, even if mounted without Middleware.
func RequireAny() func(http.Handler) http.Handler {
	return policy(func(Principal) error { return nil })
}

// policy builds a middleware that admits a request when check passes on the
// context's principal. Refusals are counted and logged by the Authenticator
// that admitted the principal, when there is one.
func policy(check func(Principal) error) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			p, ok := PrincipalFrom(r.Context())
			var err error
			if !ok {
				err = ErrNoToken
			} else {
				err = check(p)
			}
			if err != nil {
				if rp := requestPrincipalFrom(r.Context()); rp != nil && rp.entry.a != nil {
					rp.policyRefused = true
					rp.entry.a.refusePolicy(r, err, rp.entry)
				}
				WriteError(w, err)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

// refusePolicy counts and logs a policy refusal of the principal of e: the
// request's decision is refused (reason wrong_kind), not allowed.
func (a *Authenticator) refusePolicy(r *http.Request, err error, e *principalEntry) {
	ae, ok := err.(*Error)
	if !ok {
		return
	}
	p := e.p
	a.metrics.decide(r.Context(), e.provider, err)
	attrs := []slog.Attr{
		slog.String("reason", ae.Reason), slog.Int("status", ae.Status),
		slog.String("method", r.Method), slog.String("path", clip(r.URL.Path)),
		slog.String("kind", string(p.Kind)), slog.String("iss", clip(p.Issuer)),
		slog.String("sub", clip(p.Subject)),
	}
	if p.Email != "" {
		attrs = append(attrs, slog.String("email", clip(p.Email)))
	}
	a.log.LogAttrs(r.Context(), slog.LevelInfo, "authn: request refused by policy", attrs...)
}
