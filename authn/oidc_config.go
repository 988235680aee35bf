package authn

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
)

// OIDCProvider is an OpenID Connect provider of users (Okta, Auth0,
// Amazon Cognito, Firebase Authentication, Sign in with Google, …): the
// fields of one entry of AUTH_OIDC_PROVIDERS.
type OIDCProvider struct {
	// Name is the principal's Provider: lower-case letters, digits and
	// '-'; not google, clerk, none or dev. Required, unique.
	Name string `json:"name"`
	// Issuer is the exact iss of the provider's tokens (for Google's
	// issuer, either spelling). Required.
	Issuer string `json:"issuer"`
	// Audiences: the token's audience must equal one. Required, non-empty.
	Audiences []string `json:"audiences"`
	// AudienceClaim holds the audience: "aud" (a string, or an array with
	// a member) or another string claim such as Cognito access tokens'
	// client_id. "" → "aud".
	AudienceClaim string `json:"audienceClaim,omitzero"`
	// JWKSURL is the provider's key set. "" → the jwks_uri of
	// <Issuer>/.well-known/openid-configuration, fetched in the background
	// like keys.
	JWKSURL string `json:"jwksUrl,omitzero"`
	// Algorithms are the accepted alg values (see SupportedAlgorithm).
	// Empty → ["RS256"].
	Algorithms []string `json:"algorithms,omitzero"`
	// Claims are further requirements: claim name → the allowed values
	// (JSON strings, numbers or booleans). The token's claim must equal
	// one; for an array claim, contain one.
	Claims map[string]ClaimValues `json:"claims,omitzero"`
	// RequireEmailVerified requires email_verified to be true.
	RequireEmailVerified bool `json:"requireEmailVerified,omitzero"`
	// Keys, when set, replaces the key set at JWKSURL or found by
	// discovery (tests). Escape hatch: production leaves it nil.
	Keys *KeySet `json:"-"`
}

// ClaimValues are the values a claim rule allows: strings, float64s or
// bools. In JSON, a single value or an array of them.
type ClaimValues []any

// UnmarshalJSON accepts a JSON string, number or boolean, or an array of
// them.
func (c *ClaimValues) UnmarshalJSON(b []byte) error {
	v := jsontext.Value(b)
	var values []jsontext.Value
	if v.Kind() == '[' {
		if err := json.Unmarshal(b, &values); err != nil {
			return err
		}
		if len(values) == 0 {
			return errors.New("an empty array allows no value")
		}
	} else {
		values = []jsontext.Value{v}
	}
	for _, raw := range values {
		var x any
		if err := json.Unmarshal(raw, &x); err != nil {
			return err
		}
		switch x.(type) {
		case string, float64, bool:
			*c = append(*c, x)
		default:
			return errors.New("allowed values are JSON strings, numbers or booleans")
		}
	}
	return nil
}

// providerName is the shape of OIDCProvider.Name.
var providerName = regexp.MustCompile(`^[a-z0-9-]+$`)

// reservedProviderNames cannot name an OIDCProvider: they name the other
// rule sets and the metrics' "no rule set".
var reservedProviderNames = []string{"google", ProviderClerk, "none", "dev"}

// ParseOIDCProviders reads AUTH_OIDC_PROVIDERS: a JSON array of provider
// objects with the fields of OIDCProvider. Unknown fields, repeated
// members, a field of the wrong JSON type, a missing or empty name,
// issuer or audiences, a malformed or repeated name, and an unsupported
// algorithm are errors naming the entry; every problem is reported.
func ParseOIDCProviders(data []byte) ([]OIDCProvider, error) {
	var raw []jsontext.Value // each entry is checked, repeated names included, below
	if err := json.Unmarshal(data, &raw, jsontext.AllowDuplicateNames(true)); err != nil || raw == nil {
		return nil, errors.New("not a JSON array of provider objects")
	}
	var problems []error
	var providers []OIDCProvider
	for i, entry := range raw {
		var p OIDCProvider
		if err := json.Unmarshal(entry, &p, json.RejectUnknownMembers(true)); err != nil {
			problems = append(problems, fmt.Errorf("entry %d: %s", i, jsonProblem(err)))
			continue
		}
		providers = append(providers, p)
	}
	problems = append(problems, checkOIDCProviders(providers)...)
	if len(problems) > 0 {
		return nil, errors.Join(problems...)
	}
	return providers, nil
}

// jsonProblem says what is wrong with an entry without quoting its values.
func jsonProblem(err error) string {
	var se *json.SemanticError
	if errors.As(err, &se) {
		switch {
		case errors.Is(err, json.ErrUnknownName):
			return fmt.Sprintf("unknown field %q", se.JSONPointer.LastToken())
		case se.JSONPointer != "":
			return fmt.Sprintf("field %q has the wrong type", strings.TrimPrefix(string(se.JSONPointer), "/"))
		}
		return "not a JSON object"
	}
	if errors.Is(err, jsontext.ErrDuplicateName) {
		return "a field is repeated"
	}
	return "not valid JSON"
}

// checkOIDCProviders validates parsed providers (whether from JSON or built
// in Go) and reports every problem, each naming its entry.
func checkOIDCProviders(providers []OIDCProvider) []error {
	var problems []error
	seen := map[string]bool{}
	for i, p := range providers {
		bad := func(format string, args ...any) {
			name := ""
			if p.Name != "" {
				name = " (" + p.Name + ")"
			}
			problems = append(problems, fmt.Errorf("entry %d%s: %s", i, name, fmt.Sprintf(format, args...)))
		}
		switch {
		case p.Name == "":
			bad("name is required")
		case !providerName.MatchString(p.Name):
			bad("name %q must be lower-case letters, digits and -", p.Name)
		case slices.Contains(reservedProviderNames, p.Name):
			bad("name %q is reserved", p.Name)
		case seen[p.Name]:
			bad("name %q is repeated", p.Name)
		}
		seen[p.Name] = true
		if p.Issuer == "" || !isGoogleIssuer(p.Issuer) && !secureURL(p.Issuer) {
			bad("issuer must be set to the provider's iss, an https URL (http only to a loopback address)")
		}
		if len(p.Audiences) == 0 || slices.Contains(p.Audiences, "") {
			bad("audiences must be a non-empty array of non-empty strings")
		}
		for _, alg := range p.Algorithms {
			if !SupportedAlgorithm(alg) {
				bad("algorithm %q is not supported (RS256, RS384, RS512, PS256, ES256, ES384, EdDSA)", alg)
			}
		}
		for name, values := range p.Claims {
			if name == "" || len(values) == 0 {
				bad("claims: every entry needs a claim name and at least one allowed value")
			}
			for _, v := range values {
				switch v.(type) {
				case string, float64, bool:
				default:
					bad("claims: %q allows a %T; allowed values are strings, float64s or bools", name, v)
				}
			}
		}
		if p.JWKSURL != "" && !secureURL(p.JWKSURL) {
			bad("jwksUrl is not an https URL (http only to a loopback address)")
		}
	}
	return problems
}
