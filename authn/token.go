package authn

import (
	"encoding/base64"
	"encoding/json"
	"math"
	"strings"
	"time"
)

// signatureRemoved is what Cloud Run writes in place of a token's signature
// when it has checked the token itself (Cloud Run IAM invoker check).
const signatureRemoved = "SIGNATURE_REMOVED_BY_GOOGLE"

// token is a parsed, not yet verified, compact JWS.
type token struct {
	signingInput string // header "." payload, as sent
	sigSegment   string // base64url signature, as sent
	alg, kid     string
	claims       map[string]any
}

type tokenHeader struct {
	Alg  string          `json:"alg"`
	Kid  string          `json:"kid"`
	Crit json.RawMessage `json:"crit"`
}

// parseToken splits and decodes a compact JWS without verifying it. Only
// structure is checked here: three segments, a JSON header object and a
// JSON claims object. The caller checks alg before anything else.
func parseToken(raw string) (*token, error) {
	first := strings.IndexByte(raw, '.')
	if first < 0 {
		return nil, ErrMalformedToken
	}
	second := strings.IndexByte(raw[first+1:], '.')
	if second < 0 {
		return nil, ErrMalformedToken
	}
	second += first + 1
	if strings.IndexByte(raw[second+1:], '.') >= 0 {
		return nil, ErrMalformedToken
	}
	t := &token{signingInput: raw[:second], sigSegment: raw[second+1:]}

	hb, err := decodeSegment(raw[:first])
	if err != nil {
		return nil, ErrMalformedToken
	}
	var h tokenHeader
	if err := json.Unmarshal(hb, &h); err != nil {
		return nil, ErrMalformedToken
	}
	if len(h.Crit) > 0 {
		// RFC 7515 §4.1.11: we understand no extension, so refuse any.
		return nil, ErrMalformedToken
	}
	t.alg, t.kid = h.Alg, h.Kid

	pb, err := decodeSegment(raw[first+1 : second])
	if err != nil {
		return nil, ErrMalformedToken
	}
	if err := json.Unmarshal(pb, &t.claims); err != nil || t.claims == nil {
		return nil, ErrMalformedToken
	}
	return t, nil
}

func decodeSegment(s string) ([]byte, error) {
	return base64.RawURLEncoding.DecodeString(s)
}

// str returns a string claim, or "" when absent or not a string.
func (t *token) str(name string) string {
	s, _ := t.claims[name].(string)
	return s
}

// timeClaim returns a NumericDate claim. present is false when the claim is
// absent; ok is false when it is present but not a number.
func (t *token) timeClaim(name string) (at time.Time, present, ok bool) {
	v, present := t.claims[name]
	if !present {
		return time.Time{}, false, true
	}
	f, isNum := v.(float64)
	if !isNum || math.IsNaN(f) {
		return time.Time{}, true, false
	}
	// Clamp absurd values so the conversion to int64 is defined.
	const limit = 1 << 40
	f = math.Max(-limit, math.Min(limit, f))
	return time.Unix(int64(f), 0), true, true
}

// audiences returns aud as a list, accepting a string or an array of strings.
func (t *token) audiences() []string {
	switch v := t.claims["aud"].(type) {
	case string:
		return []string{v}
	case []any:
		out := make([]string, 0, len(v))
		for _, a := range v {
			if s, ok := a.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

// checkTimes applies the exp, iat and nbf rules with skew. exp must be present.
func (t *token) checkTimes(now time.Time, skew time.Duration) (exp time.Time, err error) {
	exp, present, ok := t.timeClaim("exp")
	if !present || !ok {
		return time.Time{}, ErrMissingExpiry
	}
	if now.After(exp.Add(skew)) {
		return time.Time{}, ErrTokenExpired
	}
	if iat, _, ok := t.timeClaim("iat"); !ok {
		return time.Time{}, ErrMalformedToken
	} else if !iat.IsZero() && iat.After(now.Add(skew)) {
		return time.Time{}, ErrIssuedInFuture
	}
	if nbf, _, ok := t.timeClaim("nbf"); !ok {
		return time.Time{}, ErrMalformedToken
	} else if !nbf.IsZero() && nbf.After(now.Add(skew)) {
		return time.Time{}, ErrNotYetValid
	}
	return exp, nil
}
