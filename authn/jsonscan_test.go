package authn

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The claims decoder must accept exactly what the verifiers accepted when
// they decoded claims with encoding/json into a map[string]any, except a
// document repeating a top-level name, and must read the same values.
// encoding/json is the oracle here.

// parseClaimsText runs the claims decoder on a payload, as parse does
// after base64.
func parseClaimsText(payload []byte) (*token, error) {
	t := new(token)
	buf := bytes.Clone(payload)
	r := jsonReader{data: buf, out: buf}
	if err := t.parseClaims(&r); err != nil {
		return nil, err
	}
	t.raw = string(r.out)
	t.payload = span{end: uint32(len(payload))}
	return t, nil
}

// parseHeaderText runs the header decoder on a decoded header.
func parseHeaderText(header []byte) (*token, error) {
	t := new(token)
	buf := bytes.Clone(header)
	r := jsonReader{data: buf, out: buf}
	if err := t.parseHeader(&r); err != nil {
		return nil, err
	}
	t.raw = string(r.out)
	return t, nil
}

// topLevelNames lists the member names of a JSON object, decoded by
// encoding/json, in order; ok is false when doc is not a valid object.
func topLevelNames(doc []byte) (names []string, ok bool) {
	dec := json.NewDecoder(bytes.NewReader(doc))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, false
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, false
		}
		names = append(names, tok.(string))
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return nil, false
		}
	}
	if _, err := dec.Token(); err != nil {
		return nil, false
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, false
	}
	return names, true
}

func hasDuplicate(names []string) bool {
	seen := map[string]bool{}
	for _, n := range names {
		if seen[n] {
			return true
		}
		seen[n] = true
	}
	return false
}

// oracleClaims decodes a payload as the verifiers used to, refusing a
// repeated top-level name.
func oracleClaims(payload []byte) (map[string]any, bool) {
	var m map[string]any
	if json.Unmarshal(payload, &m) != nil || m == nil {
		return nil, false
	}
	names, ok := topLevelNames(payload)
	if !ok || hasDuplicate(names) {
		return nil, false
	}
	return m, true
}

// sameValue fails unless v, read from t, is what encoding/json decoded
// (present false: the member is absent).
func sameValue(t *testing.T, tok *token, name string, v jsonValue, want any, present bool) {
	t.Helper()
	if !present {
		if v.kind != kindAbsent {
			t.Errorf("%s: kind %d, want absent", name, v.kind)
		}
		return
	}
	switch w := want.(type) {
	case nil:
		if v.kind != kindNull {
			t.Errorf("%s: kind %d, want null", name, v.kind)
		}
	case bool:
		if (w && v.kind != kindTrue) || (!w && v.kind != kindFalse) {
			t.Errorf("%s: kind %d, want %v", name, v.kind, w)
		}
	case float64:
		if v.kind != kindNumber || v.f != w {
			t.Errorf("%s: kind %d value %v, want number %v", name, v.kind, v.f, w)
		}
		if f, err := strconv.ParseFloat(tok.text(v.s), 64); err != nil || f != w {
			t.Errorf("%s: literal %q, want a literal of %v", name, tok.text(v.s), w)
		}
	case string:
		if v.kind != kindString || tok.str(v) != w {
			t.Errorf("%s: kind %d %q, want string %q", name, v.kind, tok.str(v), w)
		}
	case []any, map[string]any:
		wantKind := kindArray
		if _, isObject := w.(map[string]any); isObject {
			wantKind = kindObject
		}
		var got any
		if v.kind != wantKind || json.Unmarshal([]byte(tok.text(v.s)), &got) != nil || !reflect.DeepEqual(got, w) {
			t.Errorf("%s: kind %d text %q, want %v", name, v.kind, tok.text(v.s), w)
		}
		if a, isArray := w.([]any); isArray {
			sameElements(t, tok, name, v, a)
		}
	default:
		t.Fatalf("%s: unexpected %T", name, want)
	}
}

// sameElements checks eachElement against encoding/json's array.
func sameElements(t *testing.T, tok *token, name string, v jsonValue, want []any) {
	t.Helper()
	i := 0
	tok.eachElement(v, func(kind jsonKind, text string) bool {
		if i >= len(want) {
			t.Errorf("%s: more than %d elements", name, len(want))
			return false
		}
		switch w := want[i].(type) {
		case string:
			if kind != kindString || text != w {
				t.Errorf("%s[%d] = %d %q, want %q", name, i, kind, text, w)
			}
		case float64:
			if f, err := strconv.ParseFloat(text, 64); kind != kindNumber || err != nil || f != w {
				t.Errorf("%s[%d] = %d %q, want %v", name, i, kind, text, w)
			}
		case nil:
			if kind != kindNull {
				t.Errorf("%s[%d] = %d, want null", name, i, kind)
			}
		}
		i++
		return true
	})
	if i != len(want) {
		t.Errorf("%s: %d elements, want %d", name, i, len(want))
	}
}

// checkClaimsDecoder is the differential check on one payload.
func checkClaimsDecoder(t *testing.T, payload []byte) {
	t.Helper()
	want, wantOK := oracleClaims(payload)
	tok, err := parseClaimsText(payload)
	if (err == nil) != wantOK {
		t.Fatalf("payload %q: decoder accepts = %v, encoding/json (no duplicate names) accepts = %v", payload, err == nil, wantOK)
	}
	if !wantOK {
		return
	}
	if got := tok.text(tok.payload); got != string(payload) {
		t.Errorf("payload span = %q, want the payload", got)
	}
	c := &tok.claims
	fields := map[string]*jsonValue{
		"iss": &c.iss, "sub": &c.sub, "aud": &c.aud, "exp": &c.exp, "iat": &c.iat, "nbf": &c.nbf, "jti": &c.jti,
		"email": &c.email, "email_verified": &c.emailVerified, "azp": &c.azp,
		"v": &c.v, "sid": &c.sid, "fea": &c.fea, "act": &c.act, "fva": &c.fva,
		"org_id": &c.orgID, "org_role": &c.orgRole, "org_slug": &c.orgSlug, "org_permissions": &c.orgPermissions,
	}
	for name, v := range fields {
		w, present := want[name]
		sameValue(t, tok, name, *v, w, present)
	}
	o, present := want["o"]
	if om, isObject := o.(map[string]any); isObject {
		if c.o.kind != kindObject {
			t.Errorf("o: kind %d, want object", c.o.kind)
		}
		for name, v := range map[string]jsonValue{"id": c.oID, "slg": c.oSlg, "rol": c.oRol, "per": c.oPer, "fpm": c.oFpm} {
			w, present := om[name]
			sameValue(t, tok, "o."+name, v, w, present)
		}
		var raw map[string]json.RawMessage
		_ = json.Unmarshal(payload, &raw)
		names, _ := topLevelNames(raw["o"])
		if got, want := c.oDuplicate, hasDuplicate(names); got != want {
			t.Errorf("o duplicate = %v, want %v", got, want)
		}
	} else {
		sameValue(t, tok, "o", c.o, o, present)
	}
	folded := false
	for name := range want {
		for _, n := range sessionClaimNames {
			folded = folded || (name != n && strings.EqualFold(name, n))
		}
	}
	if c.foldedName != folded {
		t.Errorf("folded name = %v, want %v", c.foldedName, folded)
	}
	// The helpers the verifiers use, against their old map-based forms.
	if got, want := tok.audiences(), oracleAudiences(want["aud"]); !slices.Equal(got, want) {
		t.Errorf("audiences = %q, want %q", got, want)
	}
	for _, name := range []string{"exp", "iat", "nbf"} {
		at, present, ok := tok.timeClaim(*fields[name])
		wantAt, wantPresent, wantOK := oracleTimeClaim(want, name)
		if !at.Equal(wantAt) || present != wantPresent || ok != wantOK {
			t.Errorf("timeClaim(%s) = %v %v %v, want %v %v %v", name, at, present, ok, wantAt, wantPresent, wantOK)
		}
	}
}

// oracleAudiences is the former token.audiences over the decoded map.
func oracleAudiences(aud any) []string {
	switch v := aud.(type) {
	case string:
		return []string{v}
	case []any:
		var out []string
		for _, a := range v {
			if s, ok := a.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

// oracleTimeClaim is the former token.timeClaim over the decoded map.
func oracleTimeClaim(claims map[string]any, name string) (time.Time, bool, bool) {
	v, present := claims[name]
	if !present {
		return time.Time{}, false, true
	}
	f, isNum := v.(float64)
	if !isNum || math.IsNaN(f) {
		return time.Time{}, true, false
	}
	const limit = 1 << 40
	f = math.Max(-limit, math.Min(limit, f))
	return time.Unix(int64(f), 0), true, true
}

// oracleHeader decodes a header as parse used to (encoding/json into a
// struct, crit refused), plus the new refusals: a repeated name, and a
// name equal to alg, kid or crit but for case.
func oracleHeader(doc []byte) (alg, kid string, ok bool) {
	var h struct {
		Alg  string          `json:"alg"`
		Kid  string          `json:"kid"`
		Crit json.RawMessage `json:"crit"`
	}
	if json.Unmarshal(doc, &h) != nil || len(h.Crit) > 0 {
		return "", "", false
	}
	if names, isObject := topLevelNames(doc); isObject {
		if hasDuplicate(names) {
			return "", "", false
		}
		for _, n := range names {
			if foldsTo([]byte(n), "alg") || foldsTo([]byte(n), "kid") || foldsTo([]byte(n), "crit") {
				return "", "", false
			}
		}
	}
	return h.Alg, h.Kid, true
}

// oracleHeaderOdd is what go-jose decodes in a header that the Clerk rules
// refuse (token.sdkOdd), read with encoding/json.
func oracleHeaderOdd(doc []byte) bool {
	var members map[string]any
	if json.Unmarshal(doc, &members) != nil {
		var anyValue any
		if json.Unmarshal(doc, &anyValue) != nil {
			return true // an out-of-range number somewhere
		}
		return false // null
	}
	for name, v := range members {
		switch v.(type) {
		case []any, map[string]any:
			return true
		}
		switch name {
		case "jwk", "x5c":
			if v != nil {
				return true
			}
		case "nonce":
			if _, isString := v.(string); v != nil && !isString {
				return true
			}
		case "b64":
			if v == false {
				return true
			}
		}
	}
	return false
}

func checkHeaderDecoder(t *testing.T, doc []byte) {
	t.Helper()
	wantAlg, wantKid, wantOK := oracleHeader(doc)
	tok, err := parseHeaderText(doc)
	if (err == nil) != wantOK {
		t.Fatalf("header %q: decoder accepts = %v, oracle accepts = %v", doc, err == nil, wantOK)
	}
	if !wantOK {
		return
	}
	if got := tok.str(tok.alg); got != wantAlg {
		t.Errorf("alg = %q, want %q", got, wantAlg)
	}
	if got := tok.str(tok.kid); got != wantKid {
		t.Errorf("kid = %q, want %q", got, wantKid)
	}
	if got, want := tok.sdkOdd, oracleHeaderOdd(doc); got != want {
		t.Errorf("header %q: odd for the SDK = %v, want %v", doc, got, want)
	}
}

// jsonCases are documents for both decoders: valid and invalid JSON,
// escapes, numbers, nesting, duplicates, and claims of every type.
func jsonCases() []string {
	deep := func(n int) string { return `{"a":` + strings.Repeat("[", n) + strings.Repeat("]", n) + `}` }
	many := func(n int, dup bool) string {
		var b strings.Builder
		b.WriteString("{")
		for i := range n {
			fmt3 := strconv.Itoa(i)
			b.WriteString(`"name` + fmt3 + strings.Repeat("x", 20) + `":` + fmt3 + ",")
		}
		if dup {
			b.WriteString(`"name0` + strings.Repeat("x", 20) + `":true`)
		} else {
			b.WriteString(`"last":true`)
		}
		b.WriteString("}")
		return b.String()
	}
	return []string{
		// Structure and white space.
		`{}`, ` {} `, "\t{\n}\r\n", `{"iss":"a"}`, `{ "iss" : "a" , "sub" : "b" }`,
		``, ` `, `null`, `[]`, `"x"`, `1`, `true`, `{`, `}`, `{"a"}`, `{"a":}`, `{"a":1,}`, `{,"a":1}`,
		`{"a":1}{}`, `{"a":1} x`, `{"a":1}]`, `{'a':1}`, `{a:1}`, `{"a":1 "b":2}`, `{"a"::1}`,
		"{\"a\":1}\x00", "\xef\xbb\xbf{}", `{"a":[1,2,]}`, `{"a":[,1]}`, `{"a":{"b":1,}}`, `{"a":[1 2]}`,
		// Literals.
		`{"a":true,"b":false,"c":null}`, `{"a":tru}`, `{"a":nul}`, `{"a":True}`, `{"a":NULL}`, `{"a":nulll}`,
		// Numbers.
		`{"exp":0}`, `{"exp":-0}`, `{"exp":1.5}`, `{"exp":-1.5e3}`, `{"exp":1E+2}`, `{"exp":1e-2}`,
		`{"exp":01}`, `{"exp":1.}`, `{"exp":.1}`, `{"exp":-}`, `{"exp":1e}`, `{"exp":1e+}`, `{"exp":+1}`, `{"exp":0x10}`,
		`{"exp":1e400}`, `{"exp":-1e400}`, `{"exp":1e-400}`, `{"x":[1e309]}`, `{"x":{"y":1e999}}`, `{"exp":1e308}`,
		`{"exp":` + strings.Repeat("9", 400) + `}`, `{"exp":0.` + strings.Repeat("0", 400) + `1}`,
		`{"x":` + strings.Repeat("9", 400) + `}`, `{"x":[-` + strings.Repeat("9", 299) + `]}`, `{"x":[` + strings.Repeat("9", 310) + `.5]}`,
		`{"exp":1099511627777}`, `{"exp":-1099511627777}`, `{"exp":9.3e18}`, `{"exp":Infinity}`, `{"exp":NaN}`,
		`{"exp":-62135596800}`, `{"iat":"1"}`, `{"nbf":null}`, `{"exp":true}`,
		// Strings and escapes.
		`{"iss":"\"\\\/\b\f\n\r\t"}`, `{"iss":"\u0041\u00e9\u4e16"}`, `{"iss":"\ud83d\ude00"}`, `{"iss":"\uD83D\uDE00"}`,
		`{"iss":"\ud800"}`, `{"iss":"\udc00"}`, `{"iss":"\ud800\u0041"}`, `{"iss":"\ud800\ud800\udc00"}`, `{"iss":"\ud800x"}`,
		`{"iss":"\u12"}`, `{"iss":"\u12g4"}`, `{"iss":"\x"}`, `{"iss":"\'"}`, `{"iss":"a` + "\n" + `"}`, `{"iss":"a` + "\x01" + `"}`,
		"{\"iss\":\"\xff\"}", "{\"iss\":\"a\xc3\"}", "{\"iss\":\"\xed\xa0\x80\"}", "{\"iss\":\"caf\xc3\xa9\"}", "{\"iss\":\"\x7f\"}",
		`{"iss":"abc`, `{"iss":"abc\"}`, `{"iss":"\u0000"}`,
		// Duplicate names, plain and escaped.
		`{"a":1,"a":2}`, `{"iss":"a","iss":"a"}`, `{"a":1,"\u0061":2}`, "{\"\xff\":1,\"\xfe\":2}", `{"A":1,"a":2}`,
		`{"o":{"id":"a","id":"b"}}`, `{"x":{"a":1,"a":2}}`, many(31, true), many(40, false), many(40, true), many(200, true),
		`{"` + strings.Repeat("n", 600) + `":1,"` + strings.Repeat("n", 600) + `":2}`,
		// Nesting at encoding/json's limit, and one over it.
		deep(10), deep(maxJSONDepth - 1), deep(maxJSONDepth), `{"a":` + strings.Repeat("{\"a\":", maxJSONDepth) + "1" + strings.Repeat("}", maxJSONDepth) + `}`,
		// Claims of every type.
		`{"aud":"x"}`, `{"aud":["x","y"]}`, `{"aud":["x",1,null,"y",{"z":1}]}`, `{"aud":[]}`, `{"aud":null}`, `{"aud":7}`,
		`{"email_verified":true}`, `{"email_verified":"true"}`, `{"email_verified":1}`, `{"azp":null}`, `{"azp":1}`, `{"azp":""}`,
		`{"v":2,"fea":"o:a,u:b","o":{"id":"org_1","slg":"acme","rol":"admin","per":"read,manage","fpm":"3,1","x":[1,{}]}}`,
		`{"o":null}`, `{"o":"x"}`, `{"o":[{"id":"a"}]}`, `{"o":{"id":5}}`, `{"o":{}}`,
		`{"org_id":"org_1","org_role":"org:admin","org_slug":"acme","org_permissions":["org:a:b",null]}`,
		`{"fva":[1,-1]}`, `{"fva":[1.5,2]}`, `{"fva":"x"}`, `{"act":{"sub":"x"}}`, `{"jti":5}`, `{"sid":null}`,
		`{"SID":"x"}`, `{"Sub":"x"}`, `{"ORG_ID":"x"}`, "{\"\u017fid\":\"x\"}", "{\"\u212aid\":1}", `{"Email":"x"}`, `{"FEA":"x"}`,
		// Headers.
		`{"alg":"RS256","kid":"k","typ":"JWT"}`, `{"alg":"RS256","cat":"cl_1","kid":"ins_1","typ":"JWT"}`,
		`{"alg":null,"kid":null}`, `{"alg":1}`, `{"kid":[]}`, `{"alg":"RS256","alg":"none"}`, `{"Alg":"RS256"}`, `{"KID":"k"}`,
		`{"alg":"RS256","crit":[]}`, `{"crit":null}`, `{"CRIT":["b64"]}`, `{"alg":"RS256","jwk":{"kty":"RSA"}}`, `{"jwk":null}`,
		`{"x5c":["AAAA"]}`, `{"x5c":null}`, `{"nonce":"n"}`, `{"nonce":5}`, `{"b64":false}`, `{"b64":true}`, `{"b64":"no"}`,
		`{"alg":"RS256","x":1e400}`, `{"alg":"RS256","x":{"a":1,"a":2}}`, `{"alg":"R\u0053256"}`,
	}
}

func TestClaimsDecoderMatchesEncodingJSON(t *testing.T) {
	t.Parallel()
	for _, doc := range jsonCases() {
		name := doc
		if len(name) > 60 {
			name = name[:60]
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			checkClaimsDecoder(t, []byte(doc))
			checkHeaderDecoder(t, []byte(doc))
		})
	}
}

// TestClaimsDecoderRefusals pins the refusals the differential test
// derives from encoding/json, so that a change in both cannot go unseen.
func TestClaimsDecoderRefusals(t *testing.T) {
	t.Parallel()
	tests := []struct {
		doc  string
		want bool
	}{
		{`{"iss":"a"}`, true},
		{`{"iss":"a","iss":"b"}`, false},
		{`{"a":1,"\u0061":2}`, false},
		{`{"x":{"a":1,"a":2}}`, true}, // only the claims object itself must not repeat a name
		{`{"a":1} {}`, false},
		{`{"exp":1e400}`, false},
		{`{"x":[1e400]}`, false},
		{`{"exp":1e-400}`, true},
		{`null`, false},
		{`[]`, false},
		{`{"a":` + strings.Repeat("[", maxJSONDepth-1) + strings.Repeat("]", maxJSONDepth-1) + `}`, true},
		{`{"a":` + strings.Repeat("[", maxJSONDepth) + strings.Repeat("]", maxJSONDepth) + `}`, false},
		{"{\"a\":\"\x1f\"}", false},
	}
	for _, tt := range tests {
		if _, err := parseClaimsText([]byte(tt.doc)); (err == nil) != tt.want {
			t.Errorf("claims %.40q: accepted = %v, want %v", tt.doc, err == nil, tt.want)
		}
	}
}

func TestHeaderDecoderRefusals(t *testing.T) {
	t.Parallel()
	tests := []struct {
		doc     string
		want    bool
		wantOdd bool
	}{
		{doc: `{"alg":"RS256","kid":"k","typ":"JWT"}`, want: true},
		{doc: `null`, want: true},
		{doc: `{"alg":"RS256","alg":"RS256"}`},
		{doc: `{"alg":"RS256","Alg":"none"}`},
		{doc: `{"Kid":"k"}`},
		{doc: `{"crit":[]}`},
		{doc: `{"cRit":["b64"]}`},
		{doc: `{"alg":5}`},
		{doc: `{"alg":"RS256"} x`},
		{doc: `{"alg":"RS256","jwk":{}}`, want: true, wantOdd: true},
		{doc: `{"alg":"RS256","x5c":[]}`, want: true, wantOdd: true},
		{doc: `{"alg":"RS256","nonce":1}`, want: true, wantOdd: true},
		{doc: `{"alg":"RS256","b64":false}`, want: true, wantOdd: true},
		{doc: `{"alg":"RS256","n":1e999}`, want: true, wantOdd: true},
		{doc: `{"alg":"RS256","cat":"cl_1","b64":true,"nonce":null}`, want: true},
	}
	for _, tt := range tests {
		tok, err := parseHeaderText([]byte(tt.doc))
		if (err == nil) != tt.want {
			t.Errorf("header %s: accepted = %v, want %v", tt.doc, err == nil, tt.want)
			continue
		}
		if err == nil && tok.sdkOdd != tt.wantOdd {
			t.Errorf("header %s: odd for the SDK = %v, want %v", tt.doc, tok.sdkOdd, tt.wantOdd)
		}
	}
}

func TestCanonicalBase64(t *testing.T) {
	t.Parallel()
	tests := []struct {
		seg  string
		n    int // decoded length
		want bool
	}{
		{"", 0, true},
		{"QQ", 1, true},
		{"QR", 1, false}, // non-zero trailing bits
		{"QUE", 2, true},
		{"QUF", 2, false},
		{"QUFB", 3, true},
		{"QU\nFB", 3, false}, // a line break the decoder skips
	}
	for _, tt := range tests {
		seg := strings.ReplaceAll(tt.seg, `\n`, "\n")
		if got := canonicalBase64(seg, tt.n); got != tt.want {
			t.Errorf("canonicalBase64(%q) = %v, want %v", seg, got, tt.want)
		}
	}
}

// FuzzClaimsDecoder is the differential check on arbitrary documents, as
// claims and as a header. Its seed corpus is the cases of jsonCases.
func FuzzClaimsDecoder(f *testing.F) {
	for _, doc := range jsonCases() {
		if len(doc) < 4096 {
			f.Add([]byte(doc))
		}
	}
	f.Fuzz(func(t *testing.T, doc []byte) {
		checkClaimsDecoder(t, doc)
		checkHeaderDecoder(t, doc)
	})
}
