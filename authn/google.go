package authn

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Google's two spellings of its ID token issuer.
const (
	GoogleIssuer      = "https://accounts.google.com"
	GoogleIssuerShort = "accounts.google.com"
)

func isGoogleIssuer(iss string) bool { return iss == GoogleIssuer || iss == GoogleIssuerShort }

// googleRules are the Google rules of the contract, for service principals.
type googleRules struct {
	audiences   []string
	emailSuffix string // "@<project>.iam.gserviceaccount.com"
	allowed     []string
	rules       []rule
}

func newGoogleRules(c *GoogleConfig, keys *KeySet) (*googleRules, error) {
	var problems []error
	if len(c.Audiences) == 0 || slices.Contains(c.Audiences, "") {
		problems = append(problems, errors.New("authn: google: audiences must be set and non-empty"))
	}
	if c.ProjectID == "" || strings.ContainsAny(c.ProjectID, "@/ \t") {
		problems = append(problems, fmt.Errorf("authn: google: invalid project ID %q", c.ProjectID))
	}
	if err := errors.Join(problems...); err != nil {
		return nil, err
	}
	g := &googleRules{
		audiences:   slices.Clone(c.Audiences),
		emailSuffix: "@" + serviceAccountDomain(c.ProjectID) + ".iam.gserviceaccount.com",
		allowed:     slices.Clone(c.AllowedEmails),
	}
	g.rules = slices.Concat(
		[]rule{algRule("RS256"), {name: "iss", check: g.checkIssuer}, {name: "aud", check: g.checkAudience}},
		timeRules,
		[]rule{
			{name: "email_verified", check: checkEmailVerified},
			{name: "email", check: g.checkEmail},
			subRule,
			kidRule(keys),
			signatureRule,
		},
	)
	return g, nil
}

// serviceAccountDomain is the project's part of its service accounts'
// emails: the project ID, or for a domain-scoped project (example.com:app)
// the ID and then the domain (app.example.com), as Google writes them.
func serviceAccountDomain(projectID string) string {
	if domain, id, ok := strings.Cut(projectID, ":"); ok {
		return id + "." + domain
	}
	return projectID
}

func (g *googleRules) checkIssuer(v *verification) error {
	if !isGoogleIssuer(v.t.claims.Iss) {
		return refusal("iss", ErrUnknownIssuer, quoteList([]string{GoogleIssuer, GoogleIssuerShort}), quote(v.t.claims.Iss))
	}
	return nil
}

// takes reports whether the token's aud is one of AUTH_GOOGLE_AUDIENCES:
// dispatch between rule sets that share Google's issuer.
func (g *googleRules) takes(t *token) bool {
	for _, aud := range t.claims.Aud {
		if slices.Contains(g.audiences, aud) {
			return true
		}
	}
	return false
}

func (g *googleRules) checkAudience(v *verification) error {
	if g.takes(v.t) {
		return nil
	}
	return refusal("aud", ErrWrongAudience, "one of AUTH_GOOGLE_AUDIENCES "+quoteList(g.audiences), quoteList(v.t.claims.Aud))
}

// checkEmailVerified requires email_verified to be JSON true.
func checkEmailVerified(v *verification) error {
	if string(v.t.claims.EmailVerified) != "true" {
		found := string(v.t.claims.EmailVerified)
		if found == "" {
			found = "none"
		}
		return refusal("email_verified", ErrEmailNotVerified, "true", clip(found))
	}
	return nil
}

// checkEmail: an exact suffix match on "@<project>.iam.gserviceaccount.com"
// with a non-empty local part, or an exact listed email.
func (g *googleRules) checkEmail(v *verification) error {
	email := v.t.claims.Email
	if len(email) > len(g.emailSuffix) && strings.HasSuffix(email, g.emailSuffix) &&
		!strings.Contains(email[:len(email)-len(g.emailSuffix)], "@") {
		return nil
	}
	if email != "" && slices.Contains(g.allowed, email) {
		return nil
	}
	expected := "a service account of GOOGLE_CLOUD_PROJECT (*" + g.emailSuffix + ")"
	if len(g.allowed) > 0 {
		expected += " or one of AUTH_GOOGLE_ALLOWED_EMAILS " + quoteList(g.allowed)
	}
	return refusal("email", ErrEmailNotAllowed, expected, quote(email))
}

// principal is the service principal of a token that passed every rule.
func (g *googleRules) principal(v *verification) Principal {
	c := &v.t.claims
	return Principal{
		Kind:            KindService,
		Subject:         c.Sub,
		Issuer:          c.Iss,
		Email:           c.Email,
		AuthorizedParty: c.party(),
		Expiry:          numericDate(*c.Exp),
		claims:          string(v.t.payload),
	}
}
