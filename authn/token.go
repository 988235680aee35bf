package authn

import (
	"encoding/base64"
	"strings"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
)

// signatureRemoved is what Cloud Run writes in place of a token's signature
// when it has checked the token itself (Cloud Run IAM invoker check).
const signatureRemoved = "SIGNATURE_REMOVED_BY_GOOGLE"

// b64 decodes the three segments of a compact JWS: base64url without
// padding, and strict, so that a segment has one spelling only (non-zero
// trailing bits are refused; parse refuses the line breaks the decoder
// would skip).
var b64 = base64.RawURLEncoding.Strict()

// token is a compact JWS split and decoded, not yet verified.
type token struct {
	raw          string // the whole token, as sent
	signingInput string // header "." payload, as sent
	sigSegment   string // the signature, base64url, as sent
	header       header
	claims       claims
	// payload is the decoded claims object, for Principal.Claims.
	payload []byte
	// members is every member of the claims object, decoded on first use
	// by claim.
	members map[string]jsontext.Value
}

// header is the JOSE header. A header naming crit is refused: no extension
// is understood here (RFC 7515 §4.1.11).
type header struct {
	Alg  string         `json:"alg"`
	Kid  string         `json:"kid"`
	Crit jsontext.Value `json:"crit"`
}

// parse splits and decodes a compact JWS without verifying it: three
// base64url segments, a header and claims that are JSON objects (or null)
// with no repeated member name and valid UTF-8, whose registered claims
// have their JSON types. Every failure is ErrMalformedToken; the caller
// checks the algorithm before any key is fetched.
func parseToken(raw string) (*token, error) {
	if strings.ContainsAny(raw, "\r\n") {
		return nil, ErrMalformedToken
	}
	headerSeg, rest, ok1 := strings.Cut(raw, ".")
	payloadSeg, sigSeg, ok2 := strings.Cut(rest, ".")
	if !ok1 || !ok2 || strings.Contains(sigSeg, ".") {
		return nil, ErrMalformedToken
	}
	t := &token{raw: raw, signingInput: raw[:len(headerSeg)+1+len(payloadSeg)], sigSegment: sigSeg}
	h, err := b64.DecodeString(headerSeg)
	if err != nil {
		return nil, ErrMalformedToken
	}
	if t.payload, err = b64.DecodeString(payloadSeg); err != nil {
		return nil, ErrMalformedToken
	}
	if json.Unmarshal(h, &t.header) != nil || t.header.Crit != nil {
		return nil, ErrMalformedToken
	}
	if json.Unmarshal(t.payload, &t.claims) != nil {
		return nil, ErrMalformedToken
	}
	return t, nil
}

// signature decodes the signature segment; one that is not base64url is
// ErrBadSignature. (Cloud Run's placeholder for a signature it removed was
// refused before the rules ran.)
func (t *token) signature() ([]byte, error) {
	sig, err := b64.DecodeString(t.sigSegment)
	if err != nil || len(sig) == 0 {
		return nil, ErrBadSignature
	}
	return sig, nil
}

// claim returns the claims object's member name as sent, or nil when it is
// absent. parse has already refused claims that are not a valid object.
func (t *token) claim(name string) jsontext.Value {
	if t.members == nil {
		if json.Unmarshal(t.payload, &t.members) != nil || t.members == nil {
			t.members = map[string]jsontext.Value{}
		}
	}
	return t.members[name]
}
