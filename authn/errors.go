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

	code reasonCode
}

// Error implements error.
func (e *Error) Error() string { return "authn: " + e.Reason }

// Is reports whether target is the sentinel e was made from.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.code == e.code
}

type reasonCode int

// The order of this list fixes the indexes of the denied counters.
const (
	codeNoToken reasonCode = iota
	codeMalformedAuthorization
	codeTokenTooLarge
	codeMalformedToken
	codeUnsupportedAlgorithm
	codeSignatureRemoved
	codeUnknownIssuer
	codeWrongAudience
	codeMissingExpiry
	codeTokenExpired
	codeIssuedInFuture
	codeNotYetValid
	codeEmailNotVerified
	codeEmailNotAllowed
	codeMissingSubject
	codeUnauthorizedParty
	codeSessionNotActive
	codeClaimNotAllowed
	codeCookieNotSession
	codeForwardedAuthorization
	codeProviderRequired
	codeClaimRequired
	codeCookieNeedsParty
	codeCookieNeedsOrigin
	codeUnknownKey
	codeBadSignature
	codeKeysUnavailable
	codeServiceRequired
	codeUserRequired
	codeOrgRoleRequired
	codeOrgPermissionRequired
	numCodes
)

func newSentinel(code reasonCode, status int, reason string) *Error {
	return &Error{Status: status, Reason: reason, code: code}
}

// Sentinel refusals. Match them with errors.Is.
var (
	// ErrNoToken: the request carried no bearer token and no __session cookie.
	ErrNoToken = newSentinel(codeNoToken, http.StatusUnauthorized, "no token")
	// ErrMalformedAuthorization: an Authorization header with the Bearer scheme but no token.
	ErrMalformedAuthorization = newSentinel(codeMalformedAuthorization, http.StatusUnauthorized, "malformed authorization header")
	// ErrTokenTooLarge: the token is over MaxTokenBytes and was not parsed.
	ErrTokenTooLarge = newSentinel(codeTokenTooLarge, http.StatusUnauthorized, "token too large")
	// ErrMalformedToken: not three base64url segments of JSON header and claims.
	ErrMalformedToken = newSentinel(codeMalformedToken, http.StatusUnauthorized, "malformed token")
	// ErrUnsupportedAlgorithm: the header's alg is not one the provider accepts.
	ErrUnsupportedAlgorithm = newSentinel(codeUnsupportedAlgorithm, http.StatusUnauthorized, "unsupported algorithm")
	// ErrSignatureRemoved: Cloud Run's IAM check stripped the signature
	// (SIGNATURE_REMOVED_BY_GOOGLE); the service must be deployed with
	// --no-invoker-iam-check so that it sees and verifies real tokens.
	ErrSignatureRemoved = newSentinel(codeSignatureRemoved, http.StatusUnauthorized, "signature removed by Cloud Run IAM")
	// ErrUnknownIssuer: iss is not the issuer of a configured provider.
	ErrUnknownIssuer = newSentinel(codeUnknownIssuer, http.StatusUnauthorized, "unknown issuer")
	// ErrWrongAudience: no aud member equals a configured audience.
	ErrWrongAudience = newSentinel(codeWrongAudience, http.StatusUnauthorized, "wrong audience")
	// ErrMissingExpiry: the token has no numeric exp.
	ErrMissingExpiry = newSentinel(codeMissingExpiry, http.StatusUnauthorized, "missing expiry")
	// ErrTokenExpired: exp is past, beyond the clock skew.
	ErrTokenExpired = newSentinel(codeTokenExpired, http.StatusUnauthorized, "token expired")
	// ErrIssuedInFuture: iat is in the future, beyond the clock skew.
	ErrIssuedInFuture = newSentinel(codeIssuedInFuture, http.StatusUnauthorized, "token issued in the future")
	// ErrNotYetValid: nbf is in the future, beyond the clock skew.
	ErrNotYetValid = newSentinel(codeNotYetValid, http.StatusUnauthorized, "token not yet valid")
	// ErrEmailNotVerified: email_verified is not true.
	ErrEmailNotVerified = newSentinel(codeEmailNotVerified, http.StatusUnauthorized, "email not verified")
	// ErrEmailNotAllowed: the email is not a service account of the project
	// nor listed (authentication), or not listed by RequireService (403).
	ErrEmailNotAllowed = newSentinel(codeEmailNotAllowed, http.StatusUnauthorized, "email not allowed")
	// ErrMissingSubject: the token has no sub.
	ErrMissingSubject = newSentinel(codeMissingSubject, http.StatusUnauthorized, "missing subject")
	// ErrUnauthorizedParty: azp is present and not an authorized party.
	ErrUnauthorizedParty = newSentinel(codeUnauthorizedParty, http.StatusUnauthorized, "unauthorized party")
	// ErrSessionNotActive: the Clerk token's sts is present and not
	// "active" (a pending session has not finished signing in).
	ErrSessionNotActive = newSentinel(codeSessionNotActive, http.StatusUnauthorized, "session not active")
	// ErrClaimNotAllowed: a claim an OpenID Connect provider's rules name
	// is absent or holds no allowed value.
	ErrClaimNotAllowed = newSentinel(codeClaimNotAllowed, http.StatusUnauthorized, "claim not allowed")
	// ErrCookieNotSession: the __session cookie carries a token that is
	// not a Clerk session token (other providers' tokens come in
	// Authorization only).
	ErrCookieNotSession = newSentinel(codeCookieNotSession, http.StatusUnauthorized, "session cookie carries Clerk session tokens only")
	// ErrForwardedAuthorization: a request from an API gateway with more
	// than one X-Forwarded-Authorization header, or one that is not
	// "Bearer <token>".
	ErrForwardedAuthorization = newSentinel(codeForwardedAuthorization, http.StatusUnauthorized, "malformed forwarded authorization")
	// ErrCookieNeedsParty: a __session cookie token on an unsafe method
	// without a listed azp (cross-site request forgery defence).
	ErrCookieNeedsParty = newSentinel(codeCookieNeedsParty, http.StatusUnauthorized, "session cookie needs an authorized party for this method")
	// ErrCookieNeedsOrigin: a __session cookie token on an unsafe method
	// from a request whose Origin header is absent or not an authorized
	// party. The token's azp names the frontend it was minted for, not the
	// page that sent the request; the Origin does.
	ErrCookieNeedsOrigin = newSentinel(codeCookieNeedsOrigin, http.StatusUnauthorized, "session cookie needs an authorized origin for this method")
	// ErrUnknownKey: no key of the issuer's key set has the token's kid.
	ErrUnknownKey = newSentinel(codeUnknownKey, http.StatusUnauthorized, "unknown signing key")
	// ErrBadSignature: the signature does not verify.
	ErrBadSignature = newSentinel(codeBadSignature, http.StatusUnauthorized, "invalid signature")
	// ErrKeysUnavailable: no signing keys could be had for the issuer (503).
	ErrKeysUnavailable = newSentinel(codeKeysUnavailable, http.StatusServiceUnavailable, "signing keys unavailable")
	// ErrServiceRequired: a user called a route for services (403).
	ErrServiceRequired = newSentinel(codeServiceRequired, http.StatusForbidden, "service principal required")
	// ErrUserRequired: a service called a route for users (403).
	ErrUserRequired = newSentinel(codeUserRequired, http.StatusForbidden, "user principal required")
	// ErrOrgRoleRequired: the user lacks the organization role (403).
	ErrOrgRoleRequired = newSentinel(codeOrgRoleRequired, http.StatusForbidden, "organization role required")
	// ErrProviderRequired: the user signed in with another provider (403).
	ErrProviderRequired = newSentinel(codeProviderRequired, http.StatusForbidden, "provider not allowed")
	// ErrClaimRequired: the user's token lacks the claim value (403).
	ErrClaimRequired = newSentinel(codeClaimRequired, http.StatusForbidden, "claim required")
	// ErrOrgPermissionRequired: the user lacks the organization permission (403).
	ErrOrgPermissionRequired = newSentinel(codeOrgPermissionRequired, http.StatusForbidden, "organization permission required")
)

// errServiceEmailForbidden is RequireService's 403 for an unlisted email;
// it matches ErrEmailNotAllowed.
var errServiceEmailForbidden = &Error{Status: http.StatusForbidden, Reason: "email not allowed", code: codeEmailNotAllowed}

// sentinels lists every sentinel by code, for the denied counters.
var sentinels = func() (byCode [numCodes]*Error) {
	for _, e := range []*Error{
		ErrNoToken, ErrMalformedAuthorization, ErrTokenTooLarge, ErrMalformedToken,
		ErrUnsupportedAlgorithm, ErrSignatureRemoved, ErrUnknownIssuer, ErrWrongAudience,
		ErrMissingExpiry, ErrTokenExpired, ErrIssuedInFuture, ErrNotYetValid,
		ErrEmailNotVerified, ErrEmailNotAllowed, ErrMissingSubject, ErrUnauthorizedParty,
		ErrSessionNotActive, ErrClaimNotAllowed, ErrCookieNotSession, ErrForwardedAuthorization,
		ErrCookieNeedsParty, ErrCookieNeedsOrigin, ErrUnknownKey, ErrBadSignature, ErrKeysUnavailable,
		ErrServiceRequired, ErrUserRequired, ErrOrgRoleRequired, ErrOrgPermissionRequired,
		ErrProviderRequired, ErrClaimRequired,
	} {
		byCode[e.code] = e
	}
	return byCode
}()

// keysUnavailable returns ErrKeysUnavailable carrying a retry delay.
func keysUnavailable(retry time.Duration) *Error {
	e := *ErrKeysUnavailable
	e.RetryAfter = retry
	return &e
}
