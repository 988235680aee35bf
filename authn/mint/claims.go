package mint

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"strconv"
	"time"
)

// GoogleIssuer is the issuer Google writes into the ID tokens it signs.
const GoogleIssuer = "https://accounts.google.com"

// GoogleClaims returns the claims of a Google-signed OIDC ID token as Pub/Sub
// push or Cloud Scheduler sends it for a service account: iss
// https://accounts.google.com, aud, a numeric-looking sub derived from email
// (stable for one email, like a service account's unique ID), email,
// email_verified true, iat now, exp now+ttl, and azp equal to sub.
// The caller may add, change or delete claims before signing.
func GoogleClaims(aud, email string, now time.Time, ttl time.Duration) map[string]any {
	sub := numericID(email)
	return map[string]any{
		"iss":            GoogleIssuer,
		"aud":            aud,
		"sub":            sub,
		"azp":            sub,
		"email":          email,
		"email_verified": true,
		"iat":            now.Unix(),
		"exp":            now.Add(ttl).Unix(),
	}
}

// ClerkClaims returns the claims of a Clerk session token: iss, sub, a random
// sid ("sess_…"), iat and nbf now, exp now+ttl. The caller adds azp and the
// organization claims (org_id, org_role, org_permissions, or the v2 "o"
// object) when the token needs them.
func ClerkClaims(iss, sub string, now time.Time, ttl time.Duration) map[string]any {
	return map[string]any{
		"iss": iss,
		"sub": sub,
		"sid": "sess_" + randomHex(12),
		"iat": now.Unix(),
		"nbf": now.Unix(),
		"exp": now.Add(ttl).Unix(),
	}
}

// numericID derives a 21-digit decimal ID from s, shaped like the unique ID
// Google gives a service account.
func numericID(s string) string {
	sum := sha256.Sum256([]byte(s))
	n := binary.BigEndian.Uint64(sum[:8]) % 1e15
	return "100" + leftPad(strconv.FormatUint(n, 10), 18)
}

func leftPad(s string, width int) string {
	for len(s) < width {
		s = "0" + s
	}
	return s
}

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic("mint: crypto/rand: " + err.Error()) // crypto/rand.Read never fails on supported platforms
	}
	return hex.EncodeToString(b)
}
