package authn

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Google's two spellings of its ID token issuer.
const (
	GoogleIssuer      = "https://accounts.google.com"
	GoogleIssuerShort = "accounts.google.com"
)

func isGoogleIssuer(iss string) bool { return iss == GoogleIssuer || iss == GoogleIssuerShort }

// googleVerifier applies the Google rules of the contract.
type googleVerifier struct {
	audiences   []string
	emailSuffix string // "@<project>.iam.gserviceaccount.com"
	allowed     []string
	keys        *KeySet
}

func newGoogleVerifier(c *GoogleConfig, keys *KeySet) (*googleVerifier, error) {
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
	return &googleVerifier{
		audiences:   slices.Clone(c.Audiences),
		emailSuffix: "@" + c.ProjectID + ".iam.gserviceaccount.com",
		allowed:     slices.Clone(c.AllowedEmails),
		keys:        keys,
	}, nil
}

// verify checks claims first (cheap), then the signature.
func (g *googleVerifier) verify(ctx context.Context, t *token, now time.Time, skew time.Duration) (identity, error) {
	c := &t.claims
	if !isGoogleIssuer(t.str(c.iss)) {
		return identity{}, ErrUnknownIssuer
	}
	if !g.audienceOK(t) {
		return identity{}, ErrWrongAudience
	}
	exp, err := t.checkTimes(now, skew)
	if err != nil {
		return identity{}, err
	}
	if c.emailVerified.kind != kindTrue {
		return identity{}, ErrEmailNotVerified
	}
	if !g.emailOK(t.str(c.email)) {
		return identity{}, ErrEmailNotAllowed
	}
	if t.str(c.sub) == "" {
		return identity{}, ErrMissingSubject
	}
	key, err := g.keys.key(ctx, t.str(t.kid))
	if err != nil {
		return identity{}, err
	}
	if err := verifyRS256(key, t); err != nil {
		return identity{}, err
	}
	return identity{
		raw:     t.raw,
		claims:  t.payload,
		subject: c.sub.s,
		issuer:  c.iss.s,
		email:   c.email.s,
		party:   stringSpan(c.azp),
		exp:     exp.Unix(),
	}, nil
}

// stringSpan is a string member's span, or an empty one when it is not a string.
func stringSpan(v jsonValue) span {
	if v.kind != kindString {
		return span{}
	}
	return v.s
}

func (g *googleVerifier) audienceOK(t *token) bool {
	ok := false
	t.eachAudience(func(aud string) bool {
		ok = slices.Contains(g.audiences, aud)
		return !ok
	})
	return ok
}

// emailOK: an exact suffix match on "@<project>.iam.gserviceaccount.com"
// with a non-empty local part, or an exact listed email.
func (g *googleVerifier) emailOK(email string) bool {
	if len(email) > len(g.emailSuffix) && strings.HasSuffix(email, g.emailSuffix) &&
		!strings.Contains(email[:len(email)-len(g.emailSuffix)], "@") {
		return true
	}
	return email != "" && slices.Contains(g.allowed, email)
}

// verifyRS256 checks the token's RSASSA-PKCS1-v1_5 SHA-256 signature over
// its signing input with key. The caller has already checked that alg is
// RS256.
func verifyRS256(key *publicKey, t *token) error {
	enc := base64.RawURLEncoding
	var buf [maxStackEM]byte
	var sig []byte
	if enc.DecodedLen(len(t.sigSegment)) <= len(buf) {
		n, err := enc.Decode(buf[:], stringBytes(t.sigSegment))
		if err != nil {
			return ErrBadSignature
		}
		sig = buf[:n]
	} else {
		var err error
		if sig, err = enc.DecodeString(t.sigSegment); err != nil {
			return ErrBadSignature
		}
	}
	// One spelling per signature: base64url with non-zero trailing bits
	// (or skipped line breaks) decodes to the same bytes, and would give
	// one valid token many cache keys.
	if !canonicalBase64(t.sigSegment, len(sig)) {
		return ErrBadSignature
	}
	sum := sha256.Sum256(stringBytes(t.signingInput))
	if key.verifyPKCS1v15(&sum, sig) != nil {
		return ErrBadSignature
	}
	return nil
}
