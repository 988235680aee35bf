package authn

import (
	"math"
	"time"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
)

// claims are the members of a token's claims object that the rules read.
// A registered claim of the wrong JSON type makes the token malformed;
// email_verified, azp and sts are kept as they were sent, since their rules
// tell a missing member from null and from a value of another type.
type claims struct {
	Iss           string         `json:"iss"`
	Sub           string         `json:"sub"`
	Aud           audience       `json:"aud"`
	Exp           *float64       `json:"exp"`
	Iat           *float64       `json:"iat"`
	Nbf           *float64       `json:"nbf"`
	Email         string         `json:"email"`
	EmailVerified jsontext.Value `json:"email_verified"`
	Azp           jsontext.Value `json:"azp"`
	Sts           jsontext.Value `json:"sts"`
}

// audience is the aud claim: a string, or an array of strings (RFC 7519 §4.1.3).
type audience []string

// UnmarshalJSON accepts a string or an array of strings.
func (a *audience) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*a = audience{s}
		return nil
	}
	return json.Unmarshal(b, (*[]string)(a))
}

// stringClaim is the text of a member kept as sent: present tells whether
// it was sent at all (null included); ok whether it is a JSON string.
func stringClaim(v jsontext.Value) (s string, present, ok bool) {
	if v == nil {
		return "", false, false
	}
	if v.Kind() != '"' || json.Unmarshal(v, &s) != nil {
		return "", true, false
	}
	return s, true, true
}

// party is the azp claim's text, "" when absent or not a string.
func (c *claims) party() string {
	s, _, _ := stringClaim(c.Azp)
	return s
}

// numericDate converts a NumericDate (seconds since the epoch, possibly
// fractional), clamping absurd values so that the conversion is defined.
func numericDate(f float64) time.Time {
	const limit = 1 << 40
	return time.Unix(int64(math.Max(-limit, math.Min(limit, f))), 0)
}
