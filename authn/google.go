package authn

import (
	"context"
	"crypto"
	"crypto/rsa"
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
func (g *googleVerifier) verify(ctx context.Context, t *token, now time.Time, skew time.Duration) (Principal, error) {
	iss := t.str("iss")
	if !isGoogleIssuer(iss) {
		return Principal{}, ErrUnknownIssuer
	}
	if !g.audienceOK(t) {
		return Principal{}, ErrWrongAudience
	}
	exp, err := t.checkTimes(now, skew)
	if err != nil {
		return Principal{}, err
	}
	if v, _ := t.claims["email_verified"].(bool); !v {
		return Principal{}, ErrEmailNotVerified
	}
	email := t.str("email")
	if !g.emailOK(email) {
		return Principal{}, ErrEmailNotAllowed
	}
	sub := t.str("sub")
	if sub == "" {
		return Principal{}, ErrMissingSubject
	}
	key, err := g.keys.Key(ctx, t.kid)
	if err != nil {
		return Principal{}, err
	}
	if err := verifyRS256(key, t); err != nil {
		return Principal{}, err
	}
	return Principal{
		Kind:            KindService,
		Subject:         sub,
		Issuer:          iss,
		Email:           email,
		AuthorizedParty: t.str("azp"),
		Expiry:          exp,
		Claims:          t.claims,
	}, nil
}

func (g *googleVerifier) audienceOK(t *token) bool {
	switch v := t.claims["aud"].(type) {
	case string:
		return slices.Contains(g.audiences, v)
	case []any:
		for _, a := range v {
			if s, ok := a.(string); ok && slices.Contains(g.audiences, s) {
				return true
			}
		}
	}
	return false
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

// verifyRS256 checks an RSASSA-PKCS1-v1_5 SHA-256 signature over the
// signing input. The caller has already checked that alg is RS256.
func verifyRS256(key *rsa.PublicKey, t *token) error {
	sig, err := base64.RawURLEncoding.DecodeString(t.sigSegment)
	if err != nil || len(sig) != key.Size() {
		return ErrBadSignature
	}
	sum := sha256.Sum256([]byte(t.signingInput))
	if rsa.VerifyPKCS1v15(key, crypto.SHA256, sum[:], sig) != nil {
		return ErrBadSignature
	}
	return nil
}
