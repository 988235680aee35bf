package push

import (
	"bytes"
	"encoding/base64"

	fastbase64 "github.com/segmentio/asm/base64"
)

// A wrapped envelope is mostly its base64 data, and encoding/json checks
// every byte of it with its general-purpose scanner before decoding it. To
// spare that, findData locates the data string, Decode base64-decodes it
// straight from the body and cuts it out (in place), and encoding/json then
// decodes the small remainder, "data":"" included. The result is the same
// as decoding the whole body with encoding/json (FuzzDecode checks this):
//
//   - findData walks only the top-level object and the message object, lexes
//     strings exactly as JSON does, and gives up (ok false: encoding/json
//     decodes the whole body) on anything it does not fully understand:
//     escaped, non-ASCII or case-folded spellings of "message" or "data",
//     a key given twice, a non-string data value, stray bytes.
//   - The cut-out bytes contain no quote, backslash, CR or LF, and any other
//     byte that is not base64 fails the base64 decoding (the delivery is then
//     refused), so when the data decodes, the remainder is valid JSON exactly
//     when the whole body is.

// findData returns the bounds of the message's data string contents in a
// wrapped envelope, or ok false if the caller must decode the whole body.
func findData(b []byte) (start, end int, ok bool) {
	w := walker{b: b}
	start, end = -1, -1
	seenMessage := false
	ok = w.object(func(key []byte) bool {
		match, alike := keyIs(key, "message")
		if alike {
			return false
		}
		if !match {
			return w.skipValue()
		}
		if seenMessage {
			return false
		}
		seenMessage = true
		w.space()
		if w.i >= len(b) || b[w.i] != '{' {
			return false
		}
		return w.object(func(key []byte) bool {
			match, alike := keyIs(key, "data")
			if alike {
				return false
			}
			if !match {
				return w.skipValue()
			}
			if start >= 0 {
				return false
			}
			w.space()
			if w.i >= len(b) || b[w.i] != '"' {
				return false
			}
			raw, escaped, ok := w.str()
			if !ok || escaped || bytes.IndexByte(raw, '\r') >= 0 || bytes.IndexByte(raw, '\n') >= 0 {
				return false
			}
			start = w.i - 1 - len(raw)
			end = w.i - 1
			return true
		})
	})
	w.space()
	if !ok || start < 0 || w.i != len(b) {
		return 0, 0, false
	}
	return start, end, true
}

// decodeData base64-decodes s into a slice of the decoded size, accepting
// and refusing exactly what encoding/base64's StdEncoding does, with the
// same bytes and the same CorruptInputError (FuzzDecodeData and
// TestDecodeDataSameAsBase64 check all three against encoding/base64).
//
// The decoder is segmentio/asm's: with AVX2 (amd64) or NEON (arm64) it
// decodes 32 characters a step, 4-7 times faster than encoding/base64 on
// this project's machine (BenchmarkDecodeData), and hands what its loop
// does not take — the tail too short for a step, and everything from the
// first 32-character block that holds a byte outside the alphabet
// (padding, CR, LF, anything else) — to encoding/base64 itself. Without
// either it is encoding/base64 throughout. On amd64 its loop stores 32
// bytes for every 24 it decodes and checks no bound of its own: data must
// be DecodedLen(len(s)) long, as here, never shorter
// (TestDecodeDataStaysInItsBuffer).
func decodeData(s []byte) ([]byte, error) {
	data := make([]byte, fastbase64.StdEncoding.DecodedLen(len(s)))
	n, err := fastbase64.StdEncoding.Decode(data, s)
	if err != nil {
		// The library's error counts from where its loop stopped; decoding
		// again, on a path only malformed deliveries take, gives the
		// offset from the start, as encoding/base64 reports it.
		_, err = base64.StdEncoding.Decode(data, s)
		return nil, err
	}
	return data[:n], nil
}

// walker is a cursor over JSON text that understands just enough of it to
// find one value; it leaves validation to encoding/json.
type walker struct {
	b []byte
	i int
}

func (w *walker) space() {
	for w.i < len(w.b) {
		switch w.b[w.i] {
		case ' ', '\t', '\n', '\r':
			w.i++
		default:
			return
		}
	}
}

// object walks the object at the cursor, calling member with each key when
// the cursor is just past the key's colon; member must consume the value.
func (w *walker) object(member func(key []byte) bool) bool {
	w.space()
	if w.i >= len(w.b) || w.b[w.i] != '{' {
		return false
	}
	w.i++
	w.space()
	if w.i < len(w.b) && w.b[w.i] == '}' {
		w.i++
		return true
	}
	for {
		w.space()
		if w.i >= len(w.b) || w.b[w.i] != '"' {
			return false
		}
		key, escaped, ok := w.str()
		if !ok || escaped {
			return false
		}
		w.space()
		if w.i >= len(w.b) || w.b[w.i] != ':' {
			return false
		}
		w.i++
		if !member(key) {
			return false
		}
		w.space()
		if w.i >= len(w.b) {
			return false
		}
		switch w.b[w.i] {
		case ',':
			w.i++
		case '}':
			w.i++
			return true
		default:
			return false
		}
	}
}

// keyIs reports whether key is exactly name, and whether it is a look-alike
// that encoding/json might also match to name (a case or Unicode folding),
// in which case the walk must give up.
func keyIs(key []byte, name string) (match, alike bool) {
	if string(key) == name {
		return true, false
	}
	if bytes.EqualFold(key, []byte(name)) {
		return false, true
	}
	for _, c := range key {
		if c >= 0x80 {
			return false, true
		}
	}
	return false, false
}

// str reads the string at the cursor (which is on its opening quote) and
// returns its raw contents, whether it holds escapes, and false if it is
// not terminated. Like JSON, it ends at the first unescaped quote.
func (w *walker) str() (raw []byte, escaped, ok bool) {
	open := w.i
	j := w.i + 1
	for {
		k := bytes.IndexByte(w.b[j:], '"')
		if k < 0 {
			return nil, false, false
		}
		bs := bytes.IndexByte(w.b[j:j+k], '\\')
		if bs < 0 {
			w.i = j + k + 1
			return w.b[open+1 : j+k], escaped, true
		}
		escaped = true
		j += bs + 2 // the backslash and the byte it escapes
		if j > len(w.b) {
			return nil, false, false
		}
	}
}

// skipValue moves the cursor past the value at it: a string, an object or
// array (brackets counted outside strings, not matched) or a literal.
func (w *walker) skipValue() bool {
	w.space()
	if w.i >= len(w.b) {
		return false
	}
	switch w.b[w.i] {
	case '"':
		_, _, ok := w.str()
		return ok
	case '{', '[':
		depth := 0
		for w.i < len(w.b) {
			switch w.b[w.i] {
			case '"':
				if _, _, ok := w.str(); !ok {
					return false
				}
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					w.i++
					return true
				}
			}
			w.i++
		}
		return false
	}
	start := w.i
	for w.i < len(w.b) {
		c := w.b[w.i]
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '-', c == '+', c == '.', c == 'E':
			w.i++
		default:
			return w.i > start
		}
	}
	return w.i > start
}
