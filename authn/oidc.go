package authn

import (
	"maps"
	"slices"
	"strings"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
)

// oidcRules are the rules of one OpenID Connect provider of users: an
// accepted alg, the exact issuer, the audience (aud, or another string
// claim), the times, a subject, every configured claim, email_verified
// when required, then the key and the signature.
type oidcRules struct {
	p     OIDCProvider
	rules []rule
}

func newOIDCRules(p OIDCProvider, keys *KeySet) *oidcRules {
	o := &oidcRules{p: p}
	if len(o.p.Algorithms) == 0 {
		o.p.Algorithms = []string{"RS256"}
	}
	if o.p.AudienceClaim == "" {
		o.p.AudienceClaim = "aud"
	}
	o.rules = slices.Concat(
		[]rule{
			{name: "alg", check: o.checkAlgorithm},
			{name: "iss", check: o.checkIssuer},
			{name: o.p.AudienceClaim, check: o.checkAudience},
		},
		timeRules,
		[]rule{subRule},
		o.claimRules(),
		[]rule{kidRule(keys), signatureRule},
	)
	return o
}

func (o *oidcRules) checkAlgorithm(v *verification) error {
	if !slices.Contains(o.p.Algorithms, v.t.header.Alg) {
		return refusal("alg", ErrUnsupportedAlgorithm, "one of "+quoteList(o.p.Algorithms), quote(v.t.header.Alg))
	}
	return nil
}

// issues reports whether iss is the provider's issuer (Google's two
// spellings count as one).
func (o *oidcRules) issues(iss string) bool {
	return iss == o.p.Issuer || isGoogleIssuer(o.p.Issuer) && isGoogleIssuer(iss)
}

func (o *oidcRules) checkIssuer(v *verification) error {
	if !o.issues(v.t.claims.Iss) {
		return refusal("iss", ErrUnknownIssuer, quote(o.p.Issuer), quote(v.t.claims.Iss))
	}
	return nil
}

// audiences are the token's audiences as the provider's audience claim
// holds them.
func (o *oidcRules) audiences(t *token) []string {
	if o.p.AudienceClaim == "aud" {
		return t.claims.Aud
	}
	if s, _, ok := stringClaim(t.claim(o.p.AudienceClaim)); ok {
		return []string{s}
	}
	return nil
}

// takes reports whether the token's audience is one of the provider's:
// dispatch between rule sets that share an issuer.
func (o *oidcRules) takes(t *token) bool {
	for _, aud := range o.audiences(t) {
		if slices.Contains(o.p.Audiences, aud) {
			return true
		}
	}
	return false
}

func (o *oidcRules) checkAudience(v *verification) error {
	if !o.takes(v.t) {
		return refusal(o.p.AudienceClaim, ErrWrongAudience, "one of "+quoteList(o.p.Audiences), quoteList(o.audiences(v.t)))
	}
	return nil
}

// claimRules are a rule per configured claim, in name order, then
// email_verified when required.
func (o *oidcRules) claimRules() []rule {
	var rules []rule
	for _, name := range slices.Sorted(maps.Keys(o.p.Claims)) {
		allowed := o.p.Claims[name]
		rules = append(rules, rule{name: name, check: func(v *verification) error {
			raw := v.t.claim(name)
			if claimAllows(raw, allowed) {
				return nil
			}
			found := "none"
			if raw != nil {
				found = clip(string(raw))
			}
			return refusal(name, ErrClaimNotAllowed, "one of "+claimValuesText(allowed), found)
		}})
	}
	if o.p.RequireEmailVerified {
		rules = append(rules, rule{name: "email_verified", check: checkEmailVerified})
	}
	return rules
}

// claimAllows reports whether a claim (a JSON string, number or boolean,
// or an array of them) equals, or for an array contains, an allowed value.
func claimAllows(raw jsontext.Value, allowed ClaimValues) bool {
	if raw == nil {
		return false
	}
	var value any
	if json.Unmarshal(raw, &value) != nil {
		return false
	}
	values, isArray := value.([]any)
	if !isArray {
		values = []any{value}
	}
	for _, x := range values {
		if slices.Contains(allowed, x) {
			return true
		}
	}
	return false
}

func claimValuesText(values ClaimValues) string {
	text := make([]string, len(values))
	for i, v := range values {
		b, _ := json.Marshal(v)
		text[i] = clip(string(b))
	}
	return "[" + strings.Join(text, ", ") + "]"
}

// principal is the user principal of a token that passed every rule.
func (o *oidcRules) principal(v *verification) Principal {
	c := &v.t.claims
	return Principal{
		Kind:            KindUser,
		Provider:        o.p.Name,
		Subject:         c.Sub,
		Issuer:          c.Iss,
		Email:           c.Email,
		EmailVerified:   string(c.EmailVerified) == "true",
		AuthorizedParty: c.party(),
		Expiry:          numericDate(*c.Exp),
		claims:          string(v.t.payload),
	}
}
