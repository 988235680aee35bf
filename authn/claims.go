package authn

import (
	"strings"
	"unicode/utf8"
)

// claimSet is what the verifiers read from the claims object. A member's
// kind is kindAbsent when it is missing.
type claimSet struct {
	iss, sub, aud, exp, iat, nbf, jti jsonValue
	email, emailVerified, azp         jsonValue
	// Clerk session claims.
	v, sid, fea, act, fva                   jsonValue
	orgID, orgRole, orgSlug, orgPermissions jsonValue
	o                                       jsonValue
	oID, oSlg, oRol, oPer, oFpm             jsonValue
	// oDuplicate: the "o" object repeats a name.
	oDuplicate bool
	// foldedName: a member whose name matches, ignoring case, one that
	// clerk.SessionClaims decodes with encoding/json (which matches names
	// that way) without being that name, such as "SID" or "Sub".
	foldedName bool
}

// sessionClaimNames are the members clerk.SessionClaims decodes with
// encoding/json, which also matches a name differing only in case.
var sessionClaimNames = [...]string{
	"iss", "sub", "aud", "exp", "nbf", "iat", "jti",
	"v", "sid", "azp", "org_id", "org_slug", "org_role", "org_permissions", "act", "fva",
}

// foldsTo reports whether name equals want ignoring case, as encoding/json
// matches a member to a struct field, without being want.
func foldsTo(name []byte, want string) bool {
	return string(name) != want && strings.EqualFold(string(name), want)
}

// foldsToSessionClaim reports whether name folds to one of
// sessionClaimNames without being it. An ASCII name can only fold to an
// ASCII name of its own length, compared without any conversion.
func foldsToSessionClaim(name []byte) bool {
	for _, c := range name {
		if c >= utf8.RuneSelf {
			for _, n := range sessionClaimNames {
				if foldsTo(name, n) {
					return true
				}
			}
			return false
		}
	}
	for _, n := range sessionClaimNames {
		if len(name) == len(n) && asciiFoldVariant(name, n) {
			return true
		}
	}
	return false
}

// asciiFoldVariant reports whether the ASCII name equals want (ASCII, of
// the same length) ignoring case, without being want.
func asciiFoldVariant(name []byte, want string) bool {
	same := true
	for i, c := range name {
		w := want[i]
		if c == w {
			continue
		}
		same = false
		if c|0x20 != w|0x20 || c|0x20 < 'a' || c|0x20 > 'z' {
			return false
		}
	}
	return !same
}

// parseClaims reads the claims object, keeping the members the verifiers
// use. Every other member is validated and skipped.
func (t *token) parseClaims(r *jsonReader) error {
	c := &t.claims
	err := r.members(1, nil, func(name []byte) error {
		var dst *jsonValue
		switch string(name) {
		case "iss":
			dst = &c.iss
		case "sub":
			dst = &c.sub
		case "aud":
			dst = &c.aud
		case "exp":
			dst = &c.exp
		case "iat":
			dst = &c.iat
		case "nbf":
			dst = &c.nbf
		case "jti":
			dst = &c.jti
		case "email":
			dst = &c.email
		case "email_verified":
			dst = &c.emailVerified
		case "azp":
			dst = &c.azp
		case "v":
			dst = &c.v
		case "sid":
			dst = &c.sid
		case "fea":
			dst = &c.fea
		case "act":
			dst = &c.act
		case "fva":
			dst = &c.fva
		case "org_id":
			dst = &c.orgID
		case "org_role":
			dst = &c.orgRole
		case "org_slug":
			dst = &c.orgSlug
		case "org_permissions":
			dst = &c.orgPermissions
		case "o":
			return t.parseOrganization(r)
		default:
			c.foldedName = c.foldedName || foldsToSessionClaim(name)
			return r.skipValue(1)
		}
		v, err := r.readValue(1)
		*dst = v
		return err
	})
	if err != nil || !r.atEnd() || r.bigNumber {
		return errJSON
	}
	return nil
}

// parseOrganization reads the "o" claim of a version 2 Clerk session
// token. A duplicate name inside it is recorded, not refused: only the
// claims object itself must not repeat a name.
func (t *token) parseOrganization(r *jsonReader) error {
	c := &t.claims
	if r.peek() != '{' {
		v, err := r.readValue(1)
		c.o = v
		return err
	}
	start := r.pos
	err := r.members(2, &c.oDuplicate, func(name []byte) error {
		var dst *jsonValue
		switch string(name) {
		case "id":
			dst = &c.oID
		case "slg":
			dst = &c.oSlg
		case "rol":
			dst = &c.oRol
		case "per":
			dst = &c.oPer
		case "fpm":
			dst = &c.oFpm
		default:
			return r.skipValue(2)
		}
		v, err := r.readValue(2)
		*dst = v
		return err
	})
	c.o = jsonValue{kind: kindObject, s: r.spanOf(start, r.pos)}
	return err
}
