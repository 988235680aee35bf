package devmode

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/cloudrun-authn/pushgate/authn/mint"
)

// ServiceToken mints a Google-shaped ID token (mint.GoogleClaims: issuer
// https://accounts.google.com, verified email) for audience and email,
// issued at now and living ttl, signed with the dev Google key. The dev push
// loop sends such tokens with [PushServiceAccount] as the email and
// [Audience] of the service's port as the audience.
func (k *Keys) ServiceToken(audience, email string, now time.Time, ttl time.Duration) (string, error) {
	switch {
	case audience == "":
		return "", errors.New("devmode: service token: empty audience")
	case email == "":
		return "", errors.New("devmode: service token: empty email")
	case ttl <= 0:
		return "", fmt.Errorf("devmode: service token: ttl %v is not positive", ttl)
	}
	tok, err := k.Google.Sign(mint.GoogleClaims(audience, email, now, ttl))
	if err != nil {
		return "", fmt.Errorf("devmode: service token: %w", err)
	}
	return tok, nil
}

// UserClaims describe the person a dev user token stands for.
type UserClaims struct {
	// Subject is the Clerk user ID (sub), e.g. "user_dev". Required.
	Subject string
	// SessionID is the session ID (sid); "" keeps mint.ClerkClaims' default.
	SessionID string
	// OrgID is the active organization's ID; "" means no active organization,
	// in which case OrgRole and OrgPermissions must be empty.
	OrgID string
	// OrgRole is the role in the active organization, "admin" or
	// "org:admin" (Clerk reports it as "org:admin" either way).
	OrgRole string
	// OrgPermissions are the permissions in the active organization, each
	// "org:<feature>:<permission>" (or "<feature>:<permission>"), e.g.
	// "org:events:write".
	OrgPermissions []string
	// AuthorizedParty is the azp claim, the origin of the frontend that
	// obtained the token; "" leaves azp out, as for a non-browser client.
	AuthorizedParty string
}

// UserToken mints a Clerk-shaped session token (version 2) for c, issued by
// [ClerkIssuer] at now and living ttl, signed with the dev Clerk key.
//
// The active organization is encoded the way Clerk's version 2 tokens carry
// it, and the way clerk-sdk-go v2 reads it back: "o": {"id", "rol", "per",
// "fpm"} with "fea" listing the organization features, so that the SDK
// reports the role as "org:<role>" and the permissions as
// "org:<feature>:<permission>".
func (k *Keys) UserToken(c UserClaims, now time.Time, ttl time.Duration) (string, error) {
	if c.Subject == "" {
		return "", errors.New("devmode: user token: empty subject")
	}
	if ttl <= 0 {
		return "", fmt.Errorf("devmode: user token: ttl %v is not positive", ttl)
	}
	claims := mint.ClerkClaims(ClerkIssuer, c.Subject, now, ttl)
	claims["v"] = 2
	claims["sts"] = "active"
	claims["fva"] = []int{0, -1} // first factor just verified, no second factor
	if c.SessionID != "" {
		claims["sid"] = c.SessionID
	}
	if c.AuthorizedParty != "" {
		claims["azp"] = c.AuthorizedParty
	}
	if c.OrgID != "" {
		org, features, err := orgClaims(c.OrgID, c.OrgRole, c.OrgPermissions)
		if err != nil {
			return "", fmt.Errorf("devmode: user token: %w", err)
		}
		claims["o"] = org
		if features != "" {
			claims["fea"] = features
		}
	} else if c.OrgRole != "" || len(c.OrgPermissions) > 0 {
		return "", errors.New("devmode: user token: an org role or permission needs an org ID")
	}
	tok, err := k.Clerk.Sign(claims)
	if err != nil {
		return "", fmt.Errorf("devmode: user token: %w", err)
	}
	return tok, nil
}

// orgClaims encodes an active organization as Clerk's version 2 "o" claim
// and the "fea" claim. Permissions become a list of permission names ("per")
// and, per organization feature in "fea", a bit mask over that list ("fpm"):
// bit j of feature i's mask grants permission j on feature i.
func orgClaims(id, role string, perms []string) (org map[string]any, features string, err error) {
	role = strings.TrimPrefix(role, "org:")
	if role == "" {
		return nil, "", errors.New("an organization needs a role")
	}
	var (
		featureNames []string
		permNames    []string
		masks        = map[string]int{}
		permIndex    = map[string]int{}
	)
	for _, p := range perms {
		feature, perm, ok := strings.Cut(strings.TrimPrefix(p, "org:"), ":")
		if !ok || !validName(feature) || !validName(perm) {
			return nil, "", fmt.Errorf("permission %q is not org:<feature>:<permission>", p)
		}
		j, seen := permIndex[perm]
		if !seen {
			j = len(permNames)
			permIndex[perm] = j
			permNames = append(permNames, perm)
		}
		if _, seen := masks[feature]; !seen {
			featureNames = append(featureNames, feature)
		}
		masks[feature] |= 1 << j
	}
	if len(permNames) > 62 {
		return nil, "", fmt.Errorf("%d distinct permission names, at most 62", len(permNames))
	}
	fea := make([]string, len(featureNames))
	fpm := make([]string, len(featureNames))
	for i, f := range featureNames {
		fea[i] = "o:" + f
		fpm[i] = strconv.Itoa(masks[f])
	}
	org = map[string]any{"id": id, "rol": role}
	if len(permNames) > 0 {
		org["per"] = strings.Join(permNames, ",")
		org["fpm"] = strings.Join(fpm, ",")
	}
	return org, strings.Join(fea, ","), nil
}

// validName reports whether s can be a feature or permission name inside
// Clerk's comma- and colon-separated claims.
func validName(s string) bool {
	return s != "" && !strings.ContainsAny(s, ",: \t\n")
}
