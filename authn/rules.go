package authn

import (
	"context"
	"strconv"
	"strings"
	"time"
)

// A rule set is the list of rules one provider's tokens must pass, in the
// order they run: the algorithm first, the cheap claim checks next, the
// key and the signature last. The service stops at the first refusal;
// Explain runs them all and reports each, so that what a rule says about
// a token comes from the rule itself.
type rule struct {
	// name is what the rule checks, as Explain prints it: "alg", "iss",
	// "aud", "exp", "email", "kid", "signature", …
	name  string
	check func(v *verification) error
}

// verification is one token being judged by one rule set.
type verification struct {
	ctx  context.Context
	t    *token
	now  time.Time
	skew time.Duration
	// key is the verification key the kid rule found; its key is nil
	// until it has.
	key publicKey
	// identity is what the signature rule established (Clerk: the SDK's
	// session claims); the rule set's principal reads it.
	identity any
}

// RuleError is a refusal by one named rule, with what the rule expected
// and what the token had. It matches the sentinel it wraps (errors.Is),
// and its Error text names the rule and the sentinel's reason only: the
// expected and found values are for the operator (logs, Explain), never
// for the client.
type RuleError struct {
	// Rule is the rule's name, e.g. "aud".
	Rule string
	// Expected and Found describe the refusal, e.g. `one of
	// AUTH_GOOGLE_AUDIENCES ["https://svc-abc-uc.a.run.app"]` and
	// `"https://svc-abc-uc.a.run.app/pubsub/push"`. Either may be empty.
	// Neither ever holds any part of the token's text (claims' values
	// only, never a segment or the signature).
	Expected, Found string

	err *Error
}

// Error implements error.
func (e *RuleError) Error() string { return "authn: " + e.Rule + ": " + e.err.Reason }

// Unwrap returns the sentinel refusal.
func (e *RuleError) Unwrap() error { return e.err }

// refusal is a RuleError of sentinel err.
func refusal(rule string, err *Error, expected, found string) *RuleError {
	return &RuleError{Rule: rule, Expected: expected, Found: found, err: err}
}

// quote is a claim's value as rules report it: quoted, and clipped.
func quote(s string) string { return strconv.Quote(clip(s)) }

// quoteList is a list of values as rules report it.
func quoteList(list []string) string {
	if len(list) > 5 {
		list = append(list[:5:5], "…")
	}
	q := make([]string, len(list))
	for i, s := range list {
		q[i] = quote(s)
	}
	return "[" + strings.Join(q, ", ") + "]"
}

// algRule accepts the one algorithm of Google's and Clerk's tokens.
func algRule(want string) rule {
	return rule{name: "alg", check: func(v *verification) error {
		if v.t.header.Alg != want {
			return refusal("alg", ErrUnsupportedAlgorithm, quote(want), quote(v.t.header.Alg))
		}
		return nil
	}}
}

// timeRules are exp (present, not past), iat and nbf (not in the future),
// each with the clock skew.
var timeRules = []rule{
	{name: "exp", check: func(v *verification) error {
		if v.t.claims.Exp == nil {
			return refusal("exp", ErrMissingExpiry, "a NumericDate", "none")
		}
		exp := numericDate(*v.t.claims.Exp)
		if v.now.After(exp.Add(v.skew)) {
			return refusal("exp", ErrTokenExpired, "not before "+v.now.Add(-v.skew).UTC().Format(time.RFC3339),
				exp.UTC().Format(time.RFC3339)+" ("+ago(v.now.Sub(exp))+")")
		}
		return nil
	}},
	{name: "iat", check: func(v *verification) error {
		return notInFuture(v, "iat", v.t.claims.Iat, ErrIssuedInFuture)
	}},
	{name: "nbf", check: func(v *verification) error {
		return notInFuture(v, "nbf", v.t.claims.Nbf, ErrNotYetValid)
	}},
}

func notInFuture(v *verification, name string, claim *float64, err *Error) error {
	if claim == nil {
		return nil
	}
	at := numericDate(*claim)
	if at.After(v.now.Add(v.skew)) {
		return refusal(name, err, "not after "+v.now.Add(v.skew).UTC().Format(time.RFC3339),
			at.UTC().Format(time.RFC3339)+" ("+ago(v.now.Sub(at))+")")
	}
	return nil
}

// ago says how far d lies in the past (or, negative, in the future), in
// whole seconds.
func ago(d time.Duration) string {
	d = d.Truncate(time.Second)
	if d < 0 {
		return (-d).String() + " in the future"
	}
	return d.String() + " ago"
}

// subRule requires a subject.
var subRule = rule{name: "sub", check: func(v *verification) error {
	if v.t.claims.Sub == "" {
		return refusal("sub", ErrMissingSubject, "a non-empty string", "none")
	}
	return nil
}}

// kidRule finds the token's key in keys (which may fetch them).
func kidRule(keys *KeySet) rule {
	return rule{name: "kid", check: func(v *verification) error {
		key, err := keys.key(v.ctx, v.t.header.Kid)
		if err != nil {
			return err
		}
		v.key = key
		return nil
	}}
}

// signatureRule verifies the signature with the key the kid rule found,
// under the token's algorithm (which the alg rule accepted), and refuses a
// key whose JWK names another algorithm.
var signatureRule = rule{name: "signature", check: func(v *verification) error {
	sig, err := v.t.signature()
	if err != nil {
		return err
	}
	alg := v.t.header.Alg
	if v.key.key == nil || (v.key.alg != "" && v.key.alg != alg) {
		return ErrBadSignature
	}
	return verifySignature(alg, v.key.key, v.t.signingInput, sig)
}}
