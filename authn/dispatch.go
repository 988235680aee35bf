package authn

import (
	"fmt"
	"slices"
	"strings"
)

// ruleSetFor dispatches a token by its unverified issuer; where rule sets
// share the issuer, by its audience. A token whose issuer no rule set
// has, or whose audience is in none of a shared issuer's sets, is refused
// before any key is fetched.
func (a *Authenticator) ruleSetFor(t *token) (*ruleSet, error) {
	iss := t.claims.Iss
	var found *ruleSet
	shared := false
	for _, set := range a.sets {
		if !slices.Contains(set.issuers, iss) {
			continue
		}
		if found != nil {
			shared = true
			break
		}
		found = set
	}
	if found == nil {
		var issuers []string
		for _, set := range a.sets {
			issuers = append(issuers, set.issuers...)
		}
		return nil, refusal("iss", ErrUnknownIssuer, "the issuer of a configured provider "+quoteList(issuers), quote(iss))
	}
	if !shared {
		return found, nil
	}
	var names []string
	for _, set := range a.sets {
		if slices.Contains(set.issuers, iss) {
			if set.takes != nil && set.takes(t) {
				return set, nil
			}
			names = append(names, set.name)
		}
	}
	return nil, refusal("aud", ErrWrongAudience, "an audience of one of "+strings.Join(names, ", "), quoteList(t.claims.Aud))
}

// checkSharedIssuers refuses configurations that dispatch could not tell
// apart: where rule sets share an issuer, the token's audience chooses,
// so no two may take the same audience in the same claim (Clerk, whose
// tokens carry none, shares its issuer with nobody).
func checkSharedIssuers(cfg Config) []error {
	var problems []error
	owner := map[string]string{} // issuer, audience claim and audience → rule set
	claim := func(name, iss, audienceClaim string, audiences []string) {
		if isGoogleIssuer(iss) {
			iss = GoogleIssuer
		}
		if audienceClaim == "" {
			audienceClaim = "aud"
		}
		for _, aud := range audiences {
			key := iss + " " + audienceClaim + " " + aud
			if other, taken := owner[key]; taken && other != name {
				problems = append(problems, fmt.Errorf("authn: %s and %s share the issuer %s and the audience %q (in %s)", other, name, iss, aud, audienceClaim))
			}
			owner[key] = name
		}
	}
	if cfg.Google != nil {
		claim("google", GoogleIssuer, "aud", cfg.Google.Audiences)
	}
	if cfg.Clerk != nil && isGoogleIssuer(cfg.Clerk.Issuer) {
		problems = append(problems, fmt.Errorf("authn: clerk: the issuer %s is Google's", cfg.Clerk.Issuer))
	}
	for _, p := range cfg.Providers {
		if cfg.Clerk != nil && p.Issuer == cfg.Clerk.Issuer {
			problems = append(problems, fmt.Errorf("authn: %s has the Clerk issuer %s", p.Name, p.Issuer))
		}
		claim(p.Name, p.Issuer, p.AudienceClaim, p.Audiences)
	}
	return problems
}
