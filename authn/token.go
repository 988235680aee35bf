package authn

import (
	"encoding/base64"
	"math"
	"strings"
	"time"
	"unsafe"
)

// signatureRemoved is what Cloud Run writes in place of a token's signature
// when it has checked the token itself (Cloud Run IAM invoker check).
const signatureRemoved = "SIGNATURE_REMOVED_BY_GOOGLE"

// token is a parsed, not yet verified, compact JWS.
type token struct {
	signingInput string // header "." payload, as sent
	sigSegment   string // base64url signature, as sent
	// raw holds the decoded header, then the decoded payload (the claims),
	// then the decoded text of strings that needed unescaping. Every span
	// of the token indexes it. It is never modified once parsed, and
	// principals made from the token share it.
	raw      string
	payload  span
	alg, kid jsonValue
	claims   claimSet
	// sdkOdd records what clerk-sdk-go's jwt.Verify (go-jose) would refuse
	// or read differently in the encoding or the header: a segment not in
	// canonical base64url, a header member it decodes and we do not (jwk,
	// x5c, a nonce that is not a string, b64 false), an array, an object or
	// an out-of-range number in the header. The Clerk rules refuse it.
	sdkOdd bool
}

// parse splits and decodes a compact JWS without verifying it. Only
// structure is checked here: three base64url segments, a header that is a
// JSON object (or null) without duplicate names, crit, or a non-string alg
// or kid, and claims that are a JSON object without duplicate names that
// encoding/json could decode into a map[string]any. The caller checks alg
// before anything else. Every failure is ErrMalformedToken.
func (t *token) parse(raw string) error {
	first := strings.IndexByte(raw, '.')
	if first < 0 {
		return ErrMalformedToken
	}
	second := strings.IndexByte(raw[first+1:], '.')
	if second < 0 {
		return ErrMalformedToken
	}
	second += first + 1
	if strings.IndexByte(raw[second+1:], '.') >= 0 {
		return ErrMalformedToken
	}
	t.signingInput, t.sigSegment = raw[:second], raw[second+1:]
	headerSeg, payloadSeg := raw[:first], raw[first+1:second]

	enc := base64.RawURLEncoding
	buf := make([]byte, enc.DecodedLen(len(headerSeg))+enc.DecodedLen(len(payloadSeg)))
	hn, err := enc.Decode(buf, stringBytes(headerSeg))
	if err != nil {
		return ErrMalformedToken
	}
	pn, err := enc.Decode(buf[hn:], stringBytes(payloadSeg))
	if err != nil {
		return ErrMalformedToken
	}
	buf = buf[:hn+pn]
	t.sdkOdd = !canonicalBase64(headerSeg, hn) || !canonicalBase64(payloadSeg, pn)

	header := jsonReader{data: buf[:hn], out: buf}
	if err := t.parseHeader(&header); err != nil {
		return ErrMalformedToken
	}
	buf = header.out
	claims := jsonReader{data: buf[hn : hn+pn], base: hn, out: buf}
	if err := t.parseClaims(&claims); err != nil {
		return ErrMalformedToken
	}
	buf = claims.out
	t.payload = span{off: uint32(hn), end: uint32(hn + pn)}
	// buf is never written again: raw shares its bytes instead of copying them.
	t.raw = unsafe.String(unsafe.SliceData(buf), len(buf))
	return nil
}

// canonicalBase64 reports whether seg, which decoded to n bytes, is the
// canonical unpadded base64url encoding of them: no line breaks (which
// the decoder skips) and zero trailing bits.
func canonicalBase64(seg string, n int) bool {
	if len(seg) != base64.RawURLEncoding.EncodedLen(n) {
		return false
	}
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	switch len(seg) % 4 {
	case 2:
		return strings.IndexByte(alphabet, seg[len(seg)-1])&0x0f == 0
	case 3:
		return strings.IndexByte(alphabet, seg[len(seg)-1])&0x03 == 0
	}
	return true
}

// parseHeader reads the JOSE header: an object (or null) that repeats no
// name, whose alg and kid are strings (or null), without crit (RFC 7515
// §4.1.11: we understand no extension); a name equal to alg, kid or crit
// but for case is refused too, as encoding/json would have read it as one.
func (t *token) parseHeader(r *jsonReader) error {
	if r.peek() == 'n' {
		if k, err := r.scanLiteral(); err != nil || k != kindNull || !r.atEnd() {
			return errJSON
		}
		return nil
	}
	err := r.members(1, nil, func(name []byte) error {
		var v jsonValue
		var err error
		switch string(name) {
		case "alg", "kid":
			if v, err = r.readValue(1); err != nil {
				return err
			}
			if v.kind != kindString && v.kind != kindNull {
				return errJSON
			}
			if name[0] == 'a' {
				t.alg = v
			} else {
				t.kid = v
			}
			return nil
		case "crit":
			return errJSON
		}
		if foldsTo(name, "alg") || foldsTo(name, "kid") || foldsTo(name, "crit") {
			return errJSON
		}
		if v, err = r.readValue(1); err != nil {
			return err
		}
		switch string(name) {
		case "jwk", "x5c":
			t.sdkOdd = t.sdkOdd || v.kind != kindNull
		case "nonce":
			t.sdkOdd = t.sdkOdd || (v.kind != kindNull && v.kind != kindString)
		case "b64":
			t.sdkOdd = t.sdkOdd || v.kind == kindFalse
		}
		if v.kind == kindArray || v.kind == kindObject {
			t.sdkOdd = true
		}
		return nil
	})
	if err != nil || !r.atEnd() {
		return errJSON
	}
	t.sdkOdd = t.sdkOdd || r.bigNumber
	return nil
}

// stringBytes returns a read-only view of s's bytes, without copying.
// Only functions that read their input and keep no reference get it.
func stringBytes(s string) []byte {
	return unsafe.Slice(unsafe.StringData(s), len(s))
}

// text returns the bytes of sp.
func (t *token) text(sp span) string { return t.raw[sp.off:sp.end] }

// str returns a string member's decoded text, or "" when it is absent or
// not a string.
func (t *token) str(v jsonValue) string {
	if v.kind != kindString {
		return ""
	}
	return t.text(v.s)
}

// timeClaim returns a NumericDate claim. present is false when the claim is
// absent; ok is false when it is present but not a number.
func (t *token) timeClaim(v jsonValue) (at time.Time, present, ok bool) {
	switch v.kind {
	case kindAbsent:
		return time.Time{}, false, true
	case kindNumber:
	default:
		return time.Time{}, true, false
	}
	f := v.f
	if math.IsNaN(f) {
		return time.Time{}, true, false
	}
	// Clamp absurd values so the conversion to int64 is defined.
	const limit = 1 << 40
	f = math.Max(-limit, math.Min(limit, f))
	return time.Unix(int64(f), 0), true, true
}

// eachElement calls fn with each element of the array v (validated when
// the token was parsed) until fn returns false. text is a string's
// decoded text or a number's literal, "" otherwise.
func (t *token) eachElement(v jsonValue, fn func(kind jsonKind, text string) bool) {
	if v.kind != kindArray {
		return
	}
	arr := t.raw[v.s.off:v.s.end]
	r := &jsonReader{data: stringBytes(arr)} // nothing is appended to out
	if !r.expect('[') || r.expect(']') {
		return
	}
	for {
		var (
			kind jsonKind
			text string
		)
		switch c := r.peek(); {
		case c == '"':
			start, end, plain, err := r.scanString()
			if err != nil {
				return
			}
			kind, text = kindString, arr[start:end]
			if !plain {
				text = string(appendUnquoted(nil, r.data[start:end]))
			}
		case c == '-' || '0' <= c && c <= '9':
			start, end, _, err := r.scanNumber()
			if err != nil {
				return
			}
			kind, text = kindNumber, arr[start:end]
		case c == '[' || c == '{':
			kind = kindArray
			if c == '{' {
				kind = kindObject
			}
			if r.skipValue(0) != nil {
				return
			}
		default:
			k, err := r.scanLiteral()
			if err != nil {
				return
			}
			kind = k
		}
		if !fn(kind, text) || !r.expect(',') {
			return
		}
	}
}

// eachAudience calls fn with aud, or each string member of an aud array,
// until fn returns false.
func (t *token) eachAudience(fn func(aud string) bool) {
	switch a := t.claims.aud; a.kind {
	case kindString:
		fn(t.text(a.s))
	case kindArray:
		t.eachElement(a, func(kind jsonKind, text string) bool {
			return kind != kindString || fn(text)
		})
	}
}

// audiences returns aud as a list, accepting a string or an array of strings.
func (t *token) audiences() []string {
	var out []string
	t.eachAudience(func(aud string) bool {
		out = append(out, aud)
		return true
	})
	return out
}

// checkTimes applies the exp, iat and nbf rules with skew. exp must be present.
func (t *token) checkTimes(now time.Time, skew time.Duration) (exp time.Time, err error) {
	exp, present, ok := t.timeClaim(t.claims.exp)
	if !present || !ok {
		return time.Time{}, ErrMissingExpiry
	}
	if now.After(exp.Add(skew)) {
		return time.Time{}, ErrTokenExpired
	}
	if iat, _, ok := t.timeClaim(t.claims.iat); !ok {
		return time.Time{}, ErrMalformedToken
	} else if !iat.IsZero() && iat.After(now.Add(skew)) {
		return time.Time{}, ErrIssuedInFuture
	}
	if nbf, _, ok := t.timeClaim(t.claims.nbf); !ok {
		return time.Time{}, ErrMalformedToken
	} else if !nbf.IsZero() && nbf.After(now.Add(skew)) {
		return time.Time{}, ErrNotYetValid
	}
	return exp, nil
}
