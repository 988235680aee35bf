package authn

import (
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/clerk/clerk-sdk-go/v2"
	"github.com/clerk/clerk-sdk-go/v2/jwt"
	jose "github.com/go-jose/go-jose/v3"
	josejwt "github.com/go-jose/go-jose/v3/jwt"
)

// clerkRules are the Clerk rules of the contract, for user principals. The
// checks clerk-sdk-go lacks (the exact issuer, the azp allowlist, sts) run
// first, on our strict reading of the token; then the SDK's jwt.Verify
// checks the signature with the key handed in from our key set, on our
// clock and with our leeway, and fills clerk.SessionClaims, so that the
// session and organization claims (both token versions) mean exactly what
// Clerk's SDK says they mean.
type clerkRules struct {
	issuer  string
	parties []string
	rules   []rule
}

func newClerkRules(c *ClerkConfig, keys *KeySet) (*clerkRules, error) {
	u, err := url.Parse(c.Issuer)
	if c.Issuer == "" || err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return nil, fmt.Errorf("authn: clerk: invalid issuer %q", c.Issuer)
	}
	if slices.Contains(c.AuthorizedParties, "") {
		return nil, errors.New("authn: clerk: empty authorized party")
	}
	r := &clerkRules{issuer: c.Issuer, parties: slices.Clone(c.AuthorizedParties)}
	r.rules = slices.Concat(
		[]rule{algRule("RS256"), {name: "iss", check: r.checkIssuer}, subRule},
		timeRules,
		[]rule{
			{name: "azp", check: r.checkParty},
			{name: "sts", check: checkSessionStatus},
			kidRule(keys),
			{name: "signature", check: r.verifyWithSDK},
		},
	)
	return r, nil
}

// partyListed reports whether azp is one of the authorized parties.
func (r *clerkRules) partyListed(azp string) bool {
	return azp != "" && slices.Contains(r.parties, azp)
}

func (r *clerkRules) checkIssuer(v *verification) error {
	if v.t.claims.Iss != r.issuer {
		return refusal("iss", ErrUnknownIssuer, "CLERK_ISSUER "+quote(r.issuer), quote(v.t.claims.Iss))
	}
	return nil
}

// checkParty: an azp that is present must be listed.
func (r *clerkRules) checkParty(v *verification) error {
	azp, present, _ := stringClaim(v.t.claims.Azp)
	if present && !r.partyListed(azp) {
		return refusal("azp", ErrUnauthorizedParty, "one of CLERK_AUTHORIZED_PARTIES "+quoteList(r.parties), clip(string(v.t.claims.Azp)))
	}
	return nil
}

// checkSessionStatus: an sts that is present (null included) must be the
// string "active"; Clerk treats a pending session as signed out.
func checkSessionStatus(v *verification) error {
	sts, present, _ := stringClaim(v.t.claims.Sts)
	if present && sts != "active" {
		return refusal("sts", ErrSessionNotActive, `"active"`, clip(string(v.t.claims.Sts)))
	}
	return nil
}

// verifyWithSDK runs clerk-sdk-go's jwt.Verify with the key the kid rule
// found. Its issuer check is made exact (ProxyURL), and the azp rule runs
// again on its own reading of the claims. A panic in the SDK's parsing
// refuses the token instead of ending the request.
func (r *clerkRules) verifyWithSDK(v *verification) (err error) {
	if _, err := v.t.signature(); err != nil {
		return err
	}
	if v.key.key == nil || (v.key.alg != "" && v.key.alg != "RS256") {
		return ErrBadSignature
	}
	if foldsToSDKClaim(v.t) {
		return ErrMalformedToken
	}
	defer func() {
		if recover() != nil {
			err = ErrMalformedToken
		}
	}()
	claims, err := jwt.Verify(v.ctx, &jwt.VerifyParams{
		Token:    v.t.raw,
		JWK:      &clerk.JSONWebKey{Key: v.key.key, KeyID: v.t.header.Kid, Algorithm: "RS256", Use: "sig"},
		Clock:    clock(v.now),
		Leeway:   v.skew,
		ProxyURL: &r.issuer,
		AuthorizedPartyHandler: func(azp string) bool {
			return azp == "" || r.partyListed(azp)
		},
	})
	if err != nil {
		return sdkRefusal(err)
	}
	// The SDK reads the claims with encoding/json, which also matches a
	// member whose name differs in case ("Sub"): where its reading of what
	// the rules checked differs from ours, the token is refused.
	if claims.Subject != v.t.claims.Sub || claims.Issuer != v.t.claims.Iss || claims.AuthorizedParty != v.t.claims.party() {
		return ErrMalformedToken
	}
	v.identity = claims
	return nil
}

// sdkClaimNames are the claims clerk-sdk-go decodes with encoding/json,
// which also fills a field from a member whose name differs from it in
// case or by Unicode folding ("ORG_ROLE", "ſid").
var sdkClaimNames = []string{"iss", "sub", "aud", "exp", "nbf", "iat", "jti",
	"v", "sid", "azp", "org_id", "org_slug", "org_role", "org_permissions", "act", "fva", "fea", "o"}

// foldsToSDKClaim reports whether a member of the claims would be read by
// the SDK as one of its claims without being spelled as that claim: our
// rules and the SDK would then judge different values, so such a token is
// refused.
func foldsToSDKClaim(t *token) bool {
	t.claim("") // decodes the members
	for name := range t.members {
		for _, n := range sdkClaimNames {
			if name != n && strings.EqualFold(name, n) {
				return true
			}
		}
	}
	return false
}

// sdkRefusal maps jwt.Verify's errors to the package's refusals.
func sdkRefusal(err error) error {
	switch {
	case errors.Is(err, jose.ErrCryptoFailure):
		return ErrBadSignature
	case errors.Is(err, josejwt.ErrExpired):
		return ErrTokenExpired
	case errors.Is(err, josejwt.ErrNotValidYet):
		return ErrNotYetValid
	case errors.Is(err, josejwt.ErrIssuedInTheFuture):
		return ErrIssuedInFuture
	case strings.HasPrefix(err.Error(), "invalid authorized party"):
		return ErrUnauthorizedParty
	case strings.HasPrefix(err.Error(), "invalid issuer"):
		return ErrUnknownIssuer
	}
	return ErrMalformedToken
}

// clock is a clerk.Clock that reads the time of one verification.
type clock time.Time

// Now implements clerk.Clock.
func (c clock) Now() time.Time { return time.Time(c) }

// principal is the user principal of a token that passed every rule,
// from the SDK's session claims.
func (r *clerkRules) principal(v *verification) Principal {
	sc := v.identity.(*clerk.SessionClaims)
	p := Principal{
		Kind:            KindUser,
		Provider:        ProviderClerk,
		Subject:         sc.Subject,
		Issuer:          sc.Issuer,
		SessionID:       sc.SessionID,
		OrgID:           sc.ActiveOrganizationID,
		OrgRole:         sc.ActiveOrganizationRole,
		OrgPermissions:  slices.Clip(sc.ActiveOrganizationPermissions), // shared by cache hits: an append must copy
		AuthorizedParty: sc.AuthorizedParty,
		Expiry:          numericDate(*v.t.claims.Exp),
		claims:          string(v.t.payload),
	}
	return p
}

// clerkJWKSURL is where Clerk's Backend API serves the instance's key set.
func clerkJWKSURL(apiURL string) string {
	if apiURL == "" {
		apiURL = DefaultClerkAPIURL
	}
	return strings.TrimRight(apiURL, "/") + "/v1/jwks"
}
