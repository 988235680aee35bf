package push

import (
	"bytes"
	"unicode/utf8"
)

// parseEnvelopeFast decodes a wrapped envelope as encoding/json would into
// env, but without reflection and in one walk: decoding is a third of the
// cost of a push delivery otherwise. It returns the raw contents of the
// message's data string, which the caller base64-decodes where it lies
// (nil when there is no data member). It understands only the envelope
// Pub/Sub writes: the known keys, once each, with string values free of
// escapes, control characters and invalid UTF-8 (the data string also free
// of CR and LF, which base64 decoding would skip where encoding/json
// refuses them), an object of such strings for the attributes, and a plain
// non-negative integer for the delivery attempt. On anything else (an
// unknown, repeated or look-alike key, a null, another type, an escape) it
// returns false, and the caller decodes the body the general way, which
// words any error. FuzzDecode checks that both give the same result. The
// message goes to *wm, not env.Message, so that it can live on the caller's
// stack; hasMessage says whether the body has one (a non-nil data implies
// it).
func parseEnvelopeFast(b []byte, env *wireEnvelope, wm *wireMessage) (data []byte, hasMessage, ok bool) {
	p := fastParser{walker: walker{b: b}}
	var seen uint8
	once := func(bit uint8) bool {
		if seen&bit != 0 {
			return false
		}
		seen |= bit
		return true
	}
	ok = p.object(func(key []byte) bool {
		switch string(key) {
		case "message":
			if !once(1) {
				return false
			}
			return p.message(wm, &data)
		case "subscription":
			return once(2) && p.str(&env.Subscription)
		case "deliveryAttempt":
			return once(4) && p.count(&env.DeliveryAttempt)
		case "delivery_attempt":
			return once(8) && p.count(&env.DeliveryAttemptSnake)
		}
		return false
	})
	p.space()
	return data, seen&1 != 0, ok && p.i == len(b)
}

// fastParser reads JSON values strictly on top of walker.
type fastParser struct{ walker }

func (p *fastParser) message(m *wireMessage, data *[]byte) bool {
	var seen uint16
	once := func(bit uint16) bool {
		if seen&bit != 0 {
			return false
		}
		seen |= bit
		return true
	}
	p.space()
	return p.object(func(key []byte) bool {
		switch string(key) {
		case "data":
			return once(1) && p.data(data)
		case "attributes":
			return once(2) && p.attributes(&m.Attributes)
		case "messageId":
			return once(4) && p.str(&m.MessageID)
		case "message_id":
			return once(8) && p.raw((*[]byte)(&m.MessageIDSnake))
		case "publishTime":
			return once(16) && p.str(&m.PublishTime)
		case "publish_time":
			return once(32) && p.raw((*[]byte)(&m.PublishTimeSnake))
		case "orderingKey":
			return once(64) && p.str(&m.OrderingKey)
		case "ordering_key":
			return once(128) && p.raw((*[]byte)(&m.OrderingKeySnake))
		}
		return false
	})
}

// data reads the data string's raw contents: no escapes, no CR or LF (any
// other byte that is not base64 fails its decoding, which sends the body
// the general way).
func (p *fastParser) data(dst *[]byte) bool {
	p.space()
	if p.i >= len(p.b) || p.b[p.i] != '"' {
		return false
	}
	raw, escaped, ok := p.walker.str()
	if !ok || escaped || bytes.IndexByte(raw, '\r') >= 0 || bytes.IndexByte(raw, '\n') >= 0 {
		return false
	}
	*dst = raw
	return true
}

func (p *fastParser) attributes(dst *map[string]string) bool {
	p.space()
	if p.i >= len(p.b) || p.b[p.i] != '{' {
		return false
	}
	m := make(map[string]string)
	ok := p.object(func(key []byte) bool {
		if !plainString(key) {
			return false
		}
		var v string
		if !p.str(&v) {
			return false
		}
		m[string(key)] = v
		return true
	})
	*dst = m
	return ok
}

// rawString reads a string at the cursor and returns its contents, or
// false unless encoding/json would give exactly those bytes.
func (p *fastParser) rawString() ([]byte, bool) {
	p.space()
	if p.i >= len(p.b) || p.b[p.i] != '"' {
		return nil, false
	}
	raw, escaped, ok := p.walker.str()
	if !ok || escaped || !plainString(raw) {
		return nil, false
	}
	return raw, true
}

func (p *fastParser) str(dst *string) bool {
	raw, ok := p.rawString()
	if ok {
		*dst = string(raw)
	}
	return ok
}

// raw keeps a string value with its quotes, as jsonText does.
func (p *fastParser) raw(dst *[]byte) bool {
	start := p.i
	if _, ok := p.rawString(); !ok {
		return false
	}
	for p.b[start] != '"' {
		start++ // rawString skipped white space
	}
	*dst = p.b[start:p.i]
	return true
}

// count reads a non-negative integer of at most nine digits, without a
// leading zero (which JSON forbids).
func (p *fastParser) count(dst *int) bool {
	p.space()
	n, digits := 0, 0
	for p.i < len(p.b) && p.b[p.i] >= '0' && p.b[p.i] <= '9' {
		n = n*10 + int(p.b[p.i]-'0')
		p.i++
		digits++
	}
	if digits == 0 || digits > 9 || (digits > 1 && p.b[p.i-digits] == '0') {
		return false
	}
	if p.i < len(p.b) {
		switch p.b[p.i] {
		case '.', 'e', 'E':
			return false
		}
	}
	*dst = n
	return true
}

// plainString reports whether JSON string contents without escapes decode
// to themselves: no control characters and valid UTF-8.
func plainString(s []byte) bool {
	ascii := true
	for _, c := range s {
		if c < 0x20 {
			return false
		}
		if c >= 0x80 {
			ascii = false
		}
	}
	return ascii || utf8.Valid(s)
}
