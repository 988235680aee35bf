package authn

import (
	"strconv"
	"strings"
	"time"
)

// This file reproduces what clerk-sdk-go v2.4.2's jwt.Verify does with a
// token whose signature, issuer, subject, times and azp our Clerk rules
// have already accepted: what it still refuses (go-jose's parsing, the
// claims' JSON types, its own time checks), and how it fills
// clerk.SessionClaims' session and organization fields. The SDK is the
// oracle of the differential tests and fuzz target in
// clerk_session_test.go; a change here must keep them passing.
//
// A few tokens the SDK accepts are refused here, on purpose, because the
// SDK would read them in its own way and no signer we trust sends them: a
// claim whose name equals one clerk.SessionClaims decodes but for case
// ("SID", "Azp", "ſid": encoding/json would fill the field from it); a
// header with jwk or x5c, or any array or object member (go-jose decodes
// them); and a signature segment with "=" padding (go-jose strips it;
// base64url in a JWS has none).

// sessionRefusal returns the refusal the SDK would give a token our rules
// admit, or nil. jwt.Verify decodes the claims into clerk.SessionClaims
// with encoding/json (which matches member names ignoring case) and into
// its version 2 claims with go-jose's JSON (which refuses duplicate names),
// and refuses the token when a member it reads has the wrong JSON type.
func sessionRefusal(t *token, now time.Time, skew time.Duration) error {
	c := &t.claims
	if t.sdkOdd || c.foldedName || c.oDuplicate {
		return ErrMalformedToken
	}
	// Strings (jwt.Claims, clerk.Claims, version 2 claims): null decodes as "".
	for _, v := range [...]jsonValue{
		c.iss, c.sub, c.jti, c.sid, c.azp, c.orgID, c.orgSlug, c.orgRole,
		c.fea, c.oID, c.oSlg, c.oRol, c.oPer, c.oFpm,
	} {
		if v.kind != kindAbsent && v.kind != kindNull && v.kind != kindString {
			return ErrMalformedToken
		}
	}
	// go-jose's NumericDate: a number, or null.
	for _, v := range [...]jsonValue{c.exp, c.nbf, c.iat} {
		if v.kind != kindAbsent && v.kind != kindNull && v.kind != kindNumber {
			return ErrMalformedToken
		}
	}
	if !audienceDecodes(t) || !versionDecodes(t, c.v) || !permissionsDecode(t) || !factorAgesDecode(t) {
		return ErrMalformedToken
	}
	if c.o.kind != kindAbsent && c.o.kind != kindNull && c.o.kind != kindObject {
		return ErrMalformedToken
	}
	// go-jose's own time checks, on its own conversion of the numbers: for
	// values our rules clamp, they can differ.
	nowUTC := now.UTC()
	if at, ok := sdkTime(c.nbf); ok && nowUTC.Add(skew).Before(at) {
		return ErrNotYetValid
	}
	if at, ok := sdkTime(c.exp); ok && nowUTC.Add(-skew).After(at) {
		return ErrTokenExpired
	}
	if at, ok := sdkTime(c.iat); ok && nowUTC.Add(skew).Before(at) {
		return ErrIssuedInFuture
	}
	return nil
}

// sdkTime is a NumericDate as go-jose v3 reads it: the float converted to
// int64 seconds, however large.
func sdkTime(v jsonValue) (time.Time, bool) {
	if v.kind != kindNumber {
		return time.Time{}, false
	}
	return time.Unix(int64(v.f), 0), true
}

// audienceDecodes: go-jose's Audience takes a string or an array of
// strings, and refuses anything else, null included.
func audienceDecodes(t *token) bool {
	switch t.claims.aud.kind {
	case kindAbsent, kindString:
		return true
	case kindArray:
		ok := true
		t.eachElement(t.claims.aud, func(kind jsonKind, _ string) bool {
			ok = kind == kindString
			return ok
		})
		return ok
	}
	return false
}

// versionDecodes: v is an int (encoding/json: an integer literal that fits).
func versionDecodes(t *token, v jsonValue) bool {
	switch v.kind {
	case kindAbsent, kindNull:
		return true
	case kindNumber:
		_, err := strconv.ParseInt(t.text(v.s), 10, strconv.IntSize)
		return err == nil
	}
	return false
}

// permissionsDecode: org_permissions is a []string, null elements allowed.
func permissionsDecode(t *token) bool {
	switch t.claims.orgPermissions.kind {
	case kindAbsent, kindNull:
		return true
	case kindArray:
		ok := true
		t.eachElement(t.claims.orgPermissions, func(kind jsonKind, _ string) bool {
			ok = kind == kindString || kind == kindNull
			return ok
		})
		return ok
	}
	return false
}

// factorAgesDecode: fva is a [2]int64; elements past the second are
// skipped unread, as encoding/json does for a Go array.
func factorAgesDecode(t *token) bool {
	switch t.claims.fva.kind {
	case kindAbsent, kindNull:
		return true
	case kindArray:
		ok, i := true, 0
		t.eachElement(t.claims.fva, func(kind jsonKind, text string) bool {
			switch {
			case i >= 2:
				return false
			case kind == kindNumber:
				_, err := strconv.ParseInt(text, 10, 64)
				ok = err == nil
			default:
				ok = kind == kindNull
			}
			i++
			return ok
		})
		return ok
	}
	return false
}

// version is clerk.Claims.Version as decoded: v's value, 0 when absent or
// null (sessionRefusal has refused any other v).
func version(t *token) int64 {
	if t.claims.v.kind != kindNumber {
		return 0
	}
	v, _ := strconv.ParseInt(t.text(t.claims.v.s), 10, strconv.IntSize)
	return v
}

// organization is the active organization of a Clerk session.
type organization struct {
	id          span
	role        string
	permissions []string
}

// activeOrganization fills the organization as jwt.Verify fills
// clerk.SessionClaims: from the version 2 "o" claim when v is 2 and o.id
// is set, else from the version 1 org_id, org_role and org_permissions.
func activeOrganization(t *token) organization {
	c := &t.claims
	if version(t) == 2 && t.str(c.oID) != "" {
		return organization{
			id:          c.oID.s,
			role:        "org:" + t.str(c.oRol),
			permissions: organizationPermissions(t.str(c.fea), t.str(c.oPer), t.str(c.oFpm)),
		}
	}
	org := organization{id: stringSpan(c.orgID), role: t.str(c.orgRole)}
	if c.orgPermissions.kind == kindArray {
		org.permissions = []string{}
		t.eachElement(c.orgPermissions, func(_ jsonKind, text string) bool {
			org.permissions = append(org.permissions, text) // null decodes as ""
			return true
		})
	}
	return org
}

// organizationPermissions is the SDK's extractOrganizationPermissions
// (jwt/jwt.go), line for line: fea lists features as "scope:feature", fpm
// gives for each feature a bit mask over the permissions in per, and each
// set bit of an organization ("o" in the scope) feature grants
// "org:<feature>:<permission>". Malformed entries are skipped.
func organizationPermissions(features, permissionList, mappingList string) []string {
	permissions := strings.Split(permissionList, ",")
	mappings := strings.Split(mappingList, ",")
	organizationPermissions := make([]string, 0)
	for i, feature := range strings.Split(features, ",") {
		scopeAndFeature := strings.Split(feature, ":")
		if len(scopeAndFeature) < 2 {
			continue
		}
		if !strings.Contains(scopeAndFeature[0], "o") {
			continue
		}
		if i >= len(mappings) {
			continue
		}
		mapping, err := strconv.Atoi(mappings[i])
		if err != nil {
			continue
		}
		mappingToBits := toBits(mapping)
		if len(mappingToBits) > len(permissions) {
			continue
		}
		for j, bit := range mappingToBits {
			if bit == 0 {
				continue
			}
			organizationPermissions = append(organizationPermissions, "org:"+scopeAndFeature[1]+":"+permissions[j])
		}
	}
	return organizationPermissions
}

// toBits is the SDK's toBits: n's bits, least significant first, up to
// its highest set bit; none for n ≤ 0.
func toBits(n int) []int {
	bits := make([]int, 0)
	for n > 0 {
		bits = append(bits, n&1)
		n = n >> 1
	}
	return bits
}
