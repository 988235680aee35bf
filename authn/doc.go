// Package authn authenticates the callers of a Cloud Run service: Google
// machines (Pub/Sub push, Cloud Scheduler, Cloud Tasks, other services) with
// Google-signed OIDC ID tokens, and people with Clerk session tokens.
//
// An Authenticator is built once from a Config. Its Middleware takes the
// token from "Authorization: Bearer" or Clerk's __session cookie, picks the
// rule set by the token's unverified issuer, checks the cheap claims, then
// the RS256 signature against a KeySet, and puts a Principal in the request
// context. Route policies (RequireService, RequireUser, RequireAny) then
// decide by kind: 401 without a principal, 403 for the wrong kind.
//
// Verification is the package's own, for both providers: a strict JSON
// decoder of the header and claims (exactly what encoding/json accepts,
// and no repeated claim name), the contract's rules, and RSASSA-PKCS1-v1_5
// with SHA-256 (RFC 8017 §8.2.2, as crypto/rsa does it) against a key
// whose modulus was prepared once, when its key set was loaded. For Clerk
// session tokens, the session and organization claims (both token
// versions) get exactly the semantics of clerk-sdk-go's jwt.Verify and
// clerk.SessionClaims, which the tests check against the SDK itself on the
// same tokens; the SDK is not called, because jwt.Verify costs about 2.5
// times the RSA verification done here (1.7 times the crypto/rsa
// verification it contains).
//
// Keys come from remote JWKS endpoints, fetched in the background and on
// first use, cached by Cache-Control and kept through outages; with no keys
// at all a request gets 503 and Retry-After, never 401. A token verified
// once is remembered by its SHA-256 until it expires, which makes a
// repeated token (Pub/Sub reuses one for an hour) cost a hash and a map
// lookup.
//
// Nothing here ever logs or answers with a token, a secret or a key.
package authn
