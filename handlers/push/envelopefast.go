package push

import (
	"bytes"
	"unicode/utf8"
	"unsafe"
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
			return once(2) && p.str(strSubscription)
		case "deliveryAttempt":
			return once(4) && p.count(&env.DeliveryAttempt)
		case "delivery_attempt":
			return once(8) && p.count(&env.DeliveryAttemptSnake)
		}
		return false
	})
	p.space()
	if !ok || p.i != len(b) {
		return nil, false, false
	}
	strs, attrs := p.makeStrings()
	env.Subscription = strs[strSubscription]
	wm.MessageID, wm.PublishTime, wm.OrderingKey = strs[strMessageID], strs[strPublishTime], strs[strOrderingKey]
	wm.Attributes = attrs
	return data, seen&1 != 0, true
}

// fastParser reads JSON values strictly on top of walker. The string
// members and attributes it reads wait, as views of the body, until the
// walk has succeeded; then makeStrings copies them all into one
// allocation. (The snake_case members stay views, in wm, which
// envelopeMessage copies where it uses them, before the body is reused.)
type fastParser struct {
	walker
	strs     [strMembers][]byte // the string members' contents, by member
	hasAttrs bool
	attrs    [8]rawAttr // the first attributes, in order
	nattrs   int
	more     []rawAttr // the attributes after the first eight
}

// The string members of an envelope, as indexes of fastParser.strs. (The
// parser keeps indexes, not pointers to the destinations, so that the
// caller's envelope and message can stay on its stack.)
const (
	strSubscription = iota
	strMessageID
	strPublishTime
	strOrderingKey
	strMembers
)

// rawAttr is an attribute's key and value in the body.
type rawAttr struct{ key, value []byte }

// makeStrings gives every string the walk read its own copy, all of them in
// one block (strings share the block's memory; nothing writes to it after),
// and builds the attributes map, the last of a repeated key winning as with
// encoding/json. Until it runs, the walk's strings are views of the body,
// which the caller reuses once decoding is done.
func (p *fastParser) makeStrings() (strs [strMembers]string, attrs map[string]string) {
	n := 0
	for _, s := range p.strs {
		n += len(s)
	}
	first := p.attrs[:p.nattrs]
	for _, a := range first {
		n += len(a.key) + len(a.value)
	}
	for _, a := range p.more {
		n += len(a.key) + len(a.value)
	}
	block := make([]byte, 0, n)
	view := func(raw []byte) string {
		if len(raw) == 0 {
			return ""
		}
		start := len(block)
		block = append(block, raw...) // within cap: block is never moved
		return unsafe.String(&block[start], len(raw))
	}
	for i, s := range p.strs {
		strs[i] = view(s)
	}
	if p.hasAttrs {
		attrs = make(map[string]string, len(first)+len(p.more))
		for _, a := range first {
			attrs[view(a.key)] = view(a.value)
		}
		for _, a := range p.more {
			attrs[view(a.key)] = view(a.value)
		}
	}
	return strs, attrs
}

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
			return once(2) && p.attributes()
		case "messageId":
			return once(4) && p.str(strMessageID)
		case "message_id":
			return once(8) && p.raw((*[]byte)(&m.MessageIDSnake))
		case "publishTime":
			return once(16) && p.str(strPublishTime)
		case "publish_time":
			return once(32) && p.raw((*[]byte)(&m.PublishTimeSnake))
		case "orderingKey":
			return once(64) && p.str(strOrderingKey)
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

func (p *fastParser) attributes() bool {
	p.space()
	if p.i >= len(p.b) || p.b[p.i] != '{' {
		return false
	}
	p.hasAttrs = true
	return p.object(func(key []byte) bool {
		if !plainString(key) {
			return false
		}
		v, ok := p.rawString()
		switch {
		case !ok:
		case p.nattrs < len(p.attrs):
			p.attrs[p.nattrs] = rawAttr{key: key, value: v}
			p.nattrs++
		default:
			p.more = append(p.more, rawAttr{key: key, value: v})
		}
		return ok
	})
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

// str reads string member i, which makeStrings makes a string of.
func (p *fastParser) str(i int) bool {
	raw, ok := p.rawString()
	if ok {
		p.strs[i] = raw
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
