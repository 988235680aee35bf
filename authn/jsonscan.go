package authn

import (
	"errors"
	"strconv"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

// This file is a strict JSON reader (RFC 8259) for token headers and
// claims: it accepts exactly the documents encoding/json accepts, with the
// same nesting limit, and decodes strings exactly as encoding/json does
// (escapes, surrogate pairs, invalid UTF-8 coerced to U+FFFD).

// maxJSONDepth is encoding/json's nesting limit: the top-level object is
// depth 1, and a document nested deeper than this is refused.
const maxJSONDepth = 10000

var errJSON = errors.New("authn: invalid JSON")

// jsonKind is the type of a JSON value, or kindAbsent for a missing member.
type jsonKind uint8

const (
	kindAbsent jsonKind = iota
	kindNull
	kindTrue
	kindFalse
	kindNumber
	kindString
	kindArray
	kindObject
)

// span is a range of bytes of a token's decoded buffer.
type span struct{ off, end uint32 }

// jsonValue is one decoded member value. For a string, s is its decoded
// text; for a number, s is its literal and f its float64 value; for an
// array or an object, s is its JSON text.
type jsonValue struct {
	kind jsonKind
	s    span
	f    float64
}

// jsonReader reads one JSON document from data. Decoded strings that need
// unescaping are appended to out, of which data is a part; spans are
// offsets into out, with base the offset of data in it.
type jsonReader struct {
	data []byte
	pos  int
	base int
	out  []byte
	// bigNumber records a number outside float64's range (encoding/json
	// refuses to decode one into any, or into a float64).
	bigNumber bool
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func (r *jsonReader) skipSpace() {
	for r.pos < len(r.data) && isSpace(r.data[r.pos]) {
		r.pos++
	}
}

// peek returns the next byte after white space, or 0 at the end.
func (r *jsonReader) peek() byte {
	r.skipSpace()
	if r.pos >= len(r.data) {
		return 0
	}
	return r.data[r.pos]
}

// expect consumes c after white space.
func (r *jsonReader) expect(c byte) bool {
	if r.peek() != c {
		return false
	}
	r.pos++
	return true
}

// atEnd reports whether only white space is left.
func (r *jsonReader) atEnd() bool {
	r.skipSpace()
	return r.pos == len(r.data)
}

func (r *jsonReader) spanOf(start, end int) span {
	return span{off: uint32(r.base + start), end: uint32(r.base + end)}
}

// scanString validates the string starting at r.pos (its opening quote)
// and consumes it. It returns the bounds of its content and whether the
// content needs unquoting (escapes, or bytes that are not valid UTF-8).
func (r *jsonReader) scanString() (start, end int, plain bool, err error) {
	d := r.data
	i := r.pos + 1
	start = i
	plain = true
	ascii := true
	for i < len(d) {
		c := d[i]
		switch {
		case c == '"':
			if !ascii && plain && !utf8.Valid(d[start:i]) {
				plain = false
			}
			r.pos = i + 1
			return start, i, plain, nil
		case c == '\\':
			plain = false
			if i+1 >= len(d) {
				return 0, 0, false, errJSON
			}
			switch d[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if i+6 > len(d) {
					return 0, 0, false, errJSON
				}
				for _, h := range d[i+2 : i+6] {
					if !isHex(h) {
						return 0, 0, false, errJSON
					}
				}
				i += 6
			default:
				return 0, 0, false, errJSON
			}
		case c < 0x20:
			return 0, 0, false, errJSON
		default:
			if c >= utf8.RuneSelf {
				ascii = false
			}
			i++
		}
	}
	return 0, 0, false, errJSON
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// readString reads a string and returns the span of its decoded text:
// the bytes in place when they need no unquoting, else the unquoted text
// appended to r.out.
func (r *jsonReader) readString() (span, error) {
	start, end, plain, err := r.scanString()
	if err != nil {
		return span{}, err
	}
	if plain {
		return r.spanOf(start, end), nil
	}
	from := len(r.out)
	r.out = appendUnquoted(r.out, r.data[start:end])
	return span{off: uint32(from), end: uint32(len(r.out))}, nil
}

// readName reads an object member name and returns its decoded bytes,
// unquoted into scratch when needed. The result is valid until the next
// call that uses scratch.
func (r *jsonReader) readName(scratch *[]byte) ([]byte, error) {
	if r.peek() != '"' {
		return nil, errJSON
	}
	start, end, plain, err := r.scanString()
	if err != nil {
		return nil, err
	}
	if plain {
		return r.data[start:end], nil
	}
	*scratch = appendUnquoted((*scratch)[:0], r.data[start:end])
	return *scratch, nil
}

// appendUnquoted appends the decoded form of a validated string content,
// as encoding/json's unquote decodes it.
func appendUnquoted(dst, s []byte) []byte {
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == '\\':
			switch s[i+1] {
			case 'b':
				dst = append(dst, '\b')
			case 'f':
				dst = append(dst, '\f')
			case 'n':
				dst = append(dst, '\n')
			case 'r':
				dst = append(dst, '\r')
			case 't':
				dst = append(dst, '\t')
			case 'u':
				rr := hex4(s[i+2 : i+6])
				i += 6
				if utf16.IsSurrogate(rr) {
					rr1 := rune(-1)
					if i+6 <= len(s) && s[i] == '\\' && s[i+1] == 'u' {
						rr1 = hex4(s[i+2 : i+6])
					}
					if dec := utf16.DecodeRune(rr, rr1); dec != unicode.ReplacementChar {
						i += 6
						dst = utf8.AppendRune(dst, dec)
						continue
					}
					rr = unicode.ReplacementChar
				}
				dst = utf8.AppendRune(dst, rr)
				continue
			default: // '"', '\\', '/'
				dst = append(dst, s[i+1])
			}
			i += 2
		case c < utf8.RuneSelf:
			dst = append(dst, c)
			i++
		default:
			rr, size := utf8.DecodeRune(s[i:])
			dst = utf8.AppendRune(dst, rr) // RuneError for an invalid byte
			i += size
		}
	}
	return dst
}

// hex4 decodes four validated hex digits.
func hex4(h []byte) rune {
	var r rune
	for _, c := range h {
		switch {
		case c <= '9':
			c -= '0'
		case c >= 'a':
			c -= 'a' - 10
		default:
			c -= 'A' - 10
		}
		r = r<<4 | rune(c)
	}
	return r
}

// scanNumber validates the number at r.pos and consumes it, returning its
// literal's bounds and whether it has an exponent.
func (r *jsonReader) scanNumber() (start, end int, exp bool, err error) {
	d := r.data
	i := r.pos
	start = i
	if i < len(d) && d[i] == '-' {
		i++
	}
	switch {
	case i < len(d) && d[i] == '0':
		i++
	case i < len(d) && '1' <= d[i] && d[i] <= '9':
		for i < len(d) && '0' <= d[i] && d[i] <= '9' {
			i++
		}
	default:
		return 0, 0, false, errJSON
	}
	if i < len(d) && d[i] == '.' {
		i++
		if i >= len(d) || d[i] < '0' || d[i] > '9' {
			return 0, 0, false, errJSON
		}
		for i < len(d) && '0' <= d[i] && d[i] <= '9' {
			i++
		}
	}
	if i < len(d) && (d[i] == 'e' || d[i] == 'E') {
		exp = true
		i++
		if i < len(d) && (d[i] == '+' || d[i] == '-') {
			i++
		}
		if i >= len(d) || d[i] < '0' || d[i] > '9' {
			return 0, 0, false, errJSON
		}
		for i < len(d) && '0' <= d[i] && d[i] <= '9' {
			i++
		}
	}
	r.pos = i
	return start, i, exp, nil
}

// skipNumber consumes a number whose value is not needed, recording one
// outside float64's range. Without an exponent, fewer than 300 characters
// cannot leave the range; anything else is asked of strconv, as
// encoding/json does.
func (r *jsonReader) skipNumber() error {
	start, end, exp, err := r.scanNumber()
	if err != nil {
		return err
	}
	if exp || end-start >= 300 {
		if _, err := strconv.ParseFloat(string(r.data[start:end]), 64); err != nil {
			r.bigNumber = true
		}
	}
	return nil
}

// scanLiteral consumes true, false or null.
func (r *jsonReader) scanLiteral() (jsonKind, error) {
	rest := r.data[r.pos:]
	switch {
	case len(rest) >= 4 && string(rest[:4]) == "true":
		r.pos += 4
		return kindTrue, nil
	case len(rest) >= 5 && string(rest[:5]) == "false":
		r.pos += 5
		return kindFalse, nil
	case len(rest) >= 4 && string(rest[:4]) == "null":
		r.pos += 4
		return kindNull, nil
	}
	return 0, errJSON
}

// readValue reads any value nested at depth (the depth of the container
// that holds it). Strings are decoded; numbers parsed; arrays and objects
// validated and skipped, their text kept as the span.
func (r *jsonReader) readValue(depth int) (jsonValue, error) {
	switch c := r.peek(); {
	case c == '"':
		s, err := r.readString()
		return jsonValue{kind: kindString, s: s}, err
	case c == '-' || '0' <= c && c <= '9':
		start, end, _, err := r.scanNumber()
		if err != nil {
			return jsonValue{}, err
		}
		v := jsonValue{kind: kindNumber, s: r.spanOf(start, end)}
		if v.f, err = strconv.ParseFloat(string(r.data[start:end]), 64); err != nil {
			r.bigNumber = true
		}
		return v, nil
	case c == '{' || c == '[':
		start := r.pos
		if err := r.skipValue(depth); err != nil {
			return jsonValue{}, err
		}
		kind := kindArray
		if c == '{' {
			kind = kindObject
		}
		return jsonValue{kind: kind, s: r.spanOf(start, r.pos)}, nil
	default:
		k, err := r.scanLiteral()
		return jsonValue{kind: k}, err
	}
}

// containerStack is the stack of open arrays and objects while skipping a
// value: one bit per level, on the stack for the first 64 levels.
type containerStack struct {
	low  uint64
	high []uint64
	n    int
}

func (s *containerStack) push(object bool) {
	if s.n < 64 {
		if object {
			s.low |= 1 << s.n
		} else {
			s.low &^= 1 << s.n
		}
	} else {
		i := s.n - 64
		if i/64 >= len(s.high) {
			s.high = append(s.high, 0)
		}
		if object {
			s.high[i/64] |= 1 << (i % 64)
		} else {
			s.high[i/64] &^= 1 << (i % 64)
		}
	}
	s.n++
}

func (s *containerStack) topIsObject() bool {
	i := s.n - 1
	if i < 64 {
		return s.low&(1<<i) != 0
	}
	i -= 64
	return s.high[i/64]&(1<<(i%64)) != 0
}

// skipValue validates and consumes one value nested at depth, without
// recursion: a deep document costs no stack.
func (r *jsonReader) skipValue(depth int) error {
	var stack containerStack
	for {
		// A value is expected.
		switch c := r.peek(); {
		case c == '{' || c == '[':
			if depth+stack.n+1 > maxJSONDepth {
				return errJSON
			}
			r.pos++
			stack.push(c == '{')
			closing := byte(']')
			if c == '{' {
				closing = '}'
			}
			if r.peek() == closing {
				r.pos++
				stack.n--
				break
			}
			if c == '{' {
				if err := r.skipMemberName(); err != nil {
					return err
				}
			}
			continue
		case c == '"':
			if _, _, _, err := r.scanString(); err != nil {
				return err
			}
		case c == '-' || '0' <= c && c <= '9':
			if err := r.skipNumber(); err != nil {
				return err
			}
		default:
			if _, err := r.scanLiteral(); err != nil {
				return err
			}
		}
		// A value ended: close containers until one continues.
		for {
			if stack.n == 0 {
				return nil
			}
			object := stack.topIsObject()
			switch c := r.peek(); {
			case c == ',':
				r.pos++
				if object {
					if err := r.skipMemberName(); err != nil {
						return err
					}
				}
			case object && c == '}', !object && c == ']':
				r.pos++
				stack.n--
				continue
			default:
				return errJSON
			}
			break
		}
	}
}

// skipMemberName consumes `"name" :`.
func (r *jsonReader) skipMemberName() error {
	if r.peek() != '"' {
		return errJSON
	}
	if _, _, _, err := r.scanString(); err != nil {
		return err
	}
	if !r.expect(':') {
		return errJSON
	}
	return nil
}

// members iterates over the members of the object at r.pos, nested at
// depth. A duplicate name is refused, or, when dup is not nil, recorded
// in *dup. For each member, fn gets the decoded name (valid only during
// the call) and must consume its value.
func (r *jsonReader) members(depth int, dup *bool, fn func(name []byte) error) error {
	if depth > maxJSONDepth || !r.expect('{') {
		return errJSON
	}
	if r.expect('}') {
		return nil
	}
	var (
		scratch []byte
		seen    nameSet
	)
	for {
		name, err := r.readName(&scratch)
		if err != nil {
			return err
		}
		if !seen.add(name) {
			if dup == nil {
				return errJSON
			}
			*dup = true
		}
		if !r.expect(':') {
			return errJSON
		}
		if err := fn(name); err != nil {
			return err
		}
		switch r.peek() {
		case ',':
			r.pos++
		case '}':
			r.pos++
			return nil
		default:
			return errJSON
		}
	}
}
