package authn

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/clerk/clerk-sdk-go/v2"
	clerkjwt "github.com/clerk/clerk-sdk-go/v2/jwt"
)

// clerkVerifier applies the Clerk rules of the contract. The signature and
// the session claims (including both versions of the organization claims)
// go through clerk-sdk-go's jwt.Verify, handed the key from our own key set
// so that the SDK never fetches; the rules the SDK does not enforce, or
// enforces loosely, are checked here first.
type clerkVerifier struct {
	issuer  string
	parties []string
	keys    *KeySet
}

func newClerkVerifier(c *ClerkConfig, keys *KeySet) (*clerkVerifier, error) {
	u, err := url.Parse(c.Issuer)
	if c.Issuer == "" || err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return nil, fmt.Errorf("authn: clerk: invalid issuer %q", c.Issuer)
	}
	if slices.Contains(c.AuthorizedParties, "") {
		return nil, errors.New("authn: clerk: empty authorized party")
	}
	return &clerkVerifier{issuer: c.Issuer, parties: slices.Clone(c.AuthorizedParties), keys: keys}, nil
}

// partyListed reports whether azp is one of the authorized parties.
func (c *clerkVerifier) partyListed(azp string) bool {
	return azp != "" && slices.Contains(c.parties, azp)
}

func (c *clerkVerifier) verify(ctx context.Context, raw string, t *token, now time.Time, skew time.Duration) (Principal, error) {
	if t.str("iss") != c.issuer {
		return Principal{}, ErrUnknownIssuer
	}
	sub := t.str("sub")
	if sub == "" {
		return Principal{}, ErrMissingSubject
	}
	exp, err := t.checkTimes(now, skew)
	if err != nil {
		return Principal{}, err
	}
	if azp, present := t.claims["azp"]; present {
		s, _ := azp.(string)
		if !c.partyListed(s) {
			return Principal{}, ErrUnauthorizedParty
		}
	}
	key, err := c.keys.Key(ctx, t.kid)
	if err != nil {
		return Principal{}, err
	}
	issuer := c.issuer
	claims, err := clerkjwt.Verify(ctx, &clerkjwt.VerifyParams{
		Token:    raw,
		JWK:      &clerk.JSONWebKey{Key: key, KeyID: t.kid, Algorithm: "RS256", Use: "sig"},
		Clock:    clockFunc(func() time.Time { return now }),
		Leeway:   skew,
		ProxyURL: &issuer, // makes the SDK's issuer check exact too
	})
	if err != nil {
		// Every claim the SDK checks passed above, so what is left is the signature.
		return Principal{}, ErrBadSignature
	}
	if claims.Subject != sub || claims.Issuer != c.issuer {
		// The SDK's decoder disagrees with ours about a signed token: refuse.
		return Principal{}, ErrMalformedToken
	}
	return Principal{
		Kind:            KindUser,
		Subject:         claims.Subject,
		Issuer:          claims.Issuer,
		SessionID:       claims.SessionID,
		OrgID:           claims.ActiveOrganizationID,
		OrgRole:         claims.ActiveOrganizationRole,
		OrgPermissions:  claims.ActiveOrganizationPermissions,
		AuthorizedParty: claims.AuthorizedParty,
		Expiry:          exp,
		Claims:          t.claims,
	}, nil
}

// clockFunc adapts a function to clerk.Clock.
type clockFunc func() time.Time

func (f clockFunc) Now() time.Time { return f() }

// clerkJWKSURL is where Clerk's Backend API serves the instance's key set.
func clerkJWKSURL(apiURL string) string {
	if apiURL == "" {
		apiURL = DefaultClerkAPIURL
	}
	return strings.TrimRight(apiURL, "/") + "/v1/jwks"
}
