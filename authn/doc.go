// Package authn authenticates the callers of a Cloud Run service: Google
// machines (Pub/Sub push, Cloud Scheduler, Cloud Tasks, other services) with
// Google-signed OIDC ID tokens, and people with Clerk session tokens.
//
// An Authenticator is built once from a Config. Its Middleware takes the
// token from "Authorization: Bearer" or Clerk's __session cookie, picks the
// rule set by the token's unverified issuer, and runs that rule set's rules
// in order: the algorithm, the cheap claim checks, then the key and the
// signature. It puts a Principal in the request context. Route policies
// (RequireService, RequireUser, RequireAny) then decide by kind: 401
// without a principal, 403 for the wrong kind. A refusal by a named rule is
// a *RuleError that says what the rule expected and what the token had,
// for the operator's log line; the client sees only the short reason.
//
// Verification stands on the field's libraries: the header and claims are
// decoded by github.com/go-json-experiment/json (which refuses repeated
// member names and invalid UTF-8), and signatures are checked by the
// standard library (crypto/rsa's VerifyPKCS1v15 for RS256). A Clerk session
// token passes our rules first (the exact issuer, the azp allowlist, sts,
// which clerk-sdk-go does not check), then clerk-sdk-go's own jwt.Verify
// with the key handed in from our key set, our clock and our leeway, so
// that its session and organization claims mean what Clerk's SDK says.
//
// Keys come from remote JWKS endpoints, fetched in the background and on
// first use, cached by Cache-Control and kept through outages; a token
// naming a key the set lacks refetches at once, then at most once per 30 s.
// With no keys at all a request gets 503 and Retry-After, never 401. A token
// verified once is remembered by its SHA-256 until it expires, which makes
// a repeated token (Pub/Sub reuses one for an hour) cost a hash and a map
// lookup.
//
// Nothing here ever logs or answers with a token, a secret or a key.
package authn
