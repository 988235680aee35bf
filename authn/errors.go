package authn

import (
	"net/http"
	"time"
)

// Error is a refusal: the HTTP status and the short reason the client sees
// in {"error": reason}. Reasons never contain any part of a token. Compare
// with errors.Is against the sentinels below; a returned *Error may be a
// copy carrying RetryAfter, and still matches its sentinel.
type Error struct {
	// Status is the HTTP status the refusal maps to: 401, 403 or 503.
	Status int
	// Reason is short, stable and safe to show to the caller.
	Reason string
	// RetryAfter is set on ErrKeysUnavailable: when to try again.
	RetryAfter time.Duration

	// sentinel is the sentinel e is, or was copied from.
	sentinel *Error
	// metric is the refusal's reason in the pushgate.auth.decisions
	// metric: a short lower-case code.
	metric string
}

// Error implements error.
func (e *Error) Error() string { return "authn: " + e.Reason }

// Is reports whether target is the sentinel e was made from.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t == e.sentinel
}

func newSentinel(status int, reason, metric string) *Error {
	e := &Error{Status: status, Reason: reason, metric: metric}
	e.sentinel = e
	return e
}

// Sentinel refusals. Match them with errors.Is.
var (
	// ErrNoToken: the request carried no bearer token and no __session cookie.
	ErrNoToken = newSentinel(http.StatusUnauthorized, "no token", "no_token")
	// ErrMalformedAuthorization: an Authorization header with the Bearer scheme but no token.
	ErrMalformedAuthorization = newSentinel(http.StatusUnauthorized, "malformed authorization header", "malformed")
	// ErrTokenTooLarge: the token is over MaxTokenBytes and was not parsed.
	ErrTokenTooLarge = newSentinel(http.StatusUnauthorized, "token too large", "malformed")
	// ErrMalformedToken: not three base64url segments of JSON header and claims.
	ErrMalformedToken = newSentinel(http.StatusUnauthorized, "malformed token", "malformed")
	// ErrUnsupportedAlgorithm: the header's alg is not one the provider accepts.
	ErrUnsupportedAlgorithm = newSentinel(http.StatusUnauthorized, "unsupported algorithm", "wrong_algorithm")
	// ErrSignatureRemoved: Cloud Run's IAM check stripped the signature
	// (SIGNATURE_REMOVED_BY_GOOGLE); the service must be deployed with
	// --no-invoker-iam-check so that it sees and verifies real tokens.
	ErrSignatureRemoved = newSentinel(http.StatusUnauthorized, "signature removed by Cloud Run IAM", "signature_removed")
	// ErrUnknownIssuer: iss is not the issuer of a configured provider.
	ErrUnknownIssuer = newSentinel(http.StatusUnauthorized, "unknown issuer", "unknown_issuer")
	// ErrWrongAudience: no aud member equals a configured audience.
	ErrWrongAudience = newSentinel(http.StatusUnauthorized, "wrong audience", "wrong_audience")
	// ErrMissingExpiry: the token has no numeric exp.
	ErrMissingExpiry = newSentinel(http.StatusUnauthorized, "missing expiry", "missing_expiry")
	// ErrTokenExpired: exp is past, beyond the clock skew.
	ErrTokenExpired = newSentinel(http.StatusUnauthorized, "token expired", "expired")
	// ErrIssuedInFuture: iat is in the future, beyond the clock skew.
	ErrIssuedInFuture = newSentinel(http.StatusUnauthorized, "token issued in the future", "not_yet_valid")
	// ErrNotYetValid: nbf is in the future, beyond the clock skew.
	ErrNotYetValid = newSentinel(http.StatusUnauthorized, "token not yet valid", "not_yet_valid")
	// ErrEmailNotVerified: email_verified is not true.
	ErrEmailNotVerified = newSentinel(http.StatusUnauthorized, "email not verified", "email_not_verified")
	// ErrEmailNotAllowed: the email is not a service account of the project
	// nor listed (authentication), or not listed by RequireService (403).
	ErrEmailNotAllowed = newSentinel(http.StatusUnauthorized, "email not allowed", "wrong_email")
	// ErrMissingSubject: the token has no sub.
	ErrMissingSubject = newSentinel(http.StatusUnauthorized, "missing subject", "missing_subject")
	// ErrUnauthorizedParty: azp is present and not an authorized party.
	ErrUnauthorizedParty = newSentinel(http.StatusUnauthorized, "unauthorized party", "wrong_party")
	// ErrSessionNotActive: the Clerk token's sts is present and not
	// "active" (a pending session has not finished signing in).
	ErrSessionNotActive = newSentinel(http.StatusUnauthorized, "session not active", "session_not_active")
	// ErrClaimNotAllowed: a claim an OpenID Connect provider's rules name
	// is absent or holds no allowed value.
	ErrClaimNotAllowed = newSentinel(http.StatusUnauthorized, "claim not allowed", "wrong_claim")
	// ErrCookieNotSession: the __session cookie carries a token that is
	// not a Clerk session token (other providers' tokens come in
	// Authorization only).
	ErrCookieNotSession = newSentinel(http.StatusUnauthorized, "session cookie carries Clerk session tokens only", "wrong_cookie")
	// ErrForwardedAuthorization: a request from an API gateway with more
	// than one X-Forwarded-Authorization header, or one that is not
	// "Bearer <token>".
	ErrForwardedAuthorization = newSentinel(http.StatusUnauthorized, "malformed forwarded authorization", "malformed")
	// ErrCookieNeedsParty: a __session cookie token on an unsafe method
	// without a listed azp (cross-site request forgery defence).
	ErrCookieNeedsParty = newSentinel(http.StatusUnauthorized, "session cookie needs an authorized party for this method", "csrf")
	// ErrCookieNeedsOrigin: a __session cookie token on an unsafe method
	// from a request whose Origin header is absent or not an authorized
	// party. The token's azp names the frontend it was minted for, not the
	// page that sent the request; the Origin does.
	ErrCookieNeedsOrigin = newSentinel(http.StatusUnauthorized, "session cookie needs an authorized origin for this method", "csrf")
	// ErrUnknownKey: no key of the issuer's key set has the token's kid.
	ErrUnknownKey = newSentinel(http.StatusUnauthorized, "unknown signing key", "unknown_key")
	// ErrBadSignature: the signature does not verify.
	ErrBadSignature = newSentinel(http.StatusUnauthorized, "invalid signature", "bad_signature")
	// ErrKeysUnavailable: no signing keys could be had for the issuer (503).
	ErrKeysUnavailable = newSentinel(http.StatusServiceUnavailable, "signing keys unavailable", "keys_unavailable")
	// ErrServiceRequired: a user called a route for services (403).
	ErrServiceRequired = newSentinel(http.StatusForbidden, "service principal required", "wrong_kind")
	// ErrUserRequired: a service called a route for users (403).
	ErrUserRequired = newSentinel(http.StatusForbidden, "user principal required", "wrong_kind")
	// ErrOrgRoleRequired: the user lacks the organization role (403).
	ErrOrgRoleRequired = newSentinel(http.StatusForbidden, "organization role required", "wrong_kind")
	// ErrProviderRequired: the user signed in with another provider (403).
	ErrProviderRequired = newSentinel(http.StatusForbidden, "provider not allowed", "wrong_kind")
	// ErrClaimRequired: the user's token lacks the claim value (403).
	ErrClaimRequired = newSentinel(http.StatusForbidden, "claim required", "wrong_kind")
	// ErrOrgPermissionRequired: the user lacks the organization permission (403).
	ErrOrgPermissionRequired = newSentinel(http.StatusForbidden, "organization permission required", "wrong_kind")
)

// errServiceEmailForbidden is RequireService's 403 for an unlisted email;
// it matches ErrEmailNotAllowed.
var errServiceEmailForbidden = &Error{Status: http.StatusForbidden, Reason: "email not allowed", sentinel: ErrEmailNotAllowed, metric: "wrong_kind"}

// keysUnavailable returns ErrKeysUnavailable carrying a retry delay.
func keysUnavailable(retry time.Duration) *Error {
	e := *ErrKeysUnavailable
	e.RetryAfter = retry
	return &e
}
