package push

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"
)

// EventarcType is the CloudEvent type Eventarc gives a Pub/Sub message.
const EventarcType = "google.cloud.pubsub.topic.v1.messagePublished"

// maxIDLength bounds a message ID. Pub/Sub's IDs are short decimal strings;
// a longer one is not a real delivery and would only burden the store.
const maxIDLength = 512

// Canonical header names that select and describe the delivery forms.
const (
	headerCEType        = "Ce-Type"
	headerCEID          = "Ce-Id"
	headerCESource      = "Ce-Source"
	headerCESpecVersion = "Ce-Specversion"

	headerMessageID    = "X-Goog-Pubsub-Message-Id"
	headerPublishTime  = "X-Goog-Pubsub-Publish-Time"
	headerSubscription = "X-Goog-Pubsub-Subscription-Name"
	headerOrderingKey  = "X-Goog-Pubsub-Ordering-Key"
)

// Decode reads one push delivery from r and returns its message.
//
// The form is chosen by the headers: a Ce-Type header means an Eventarc
// CloudEvent in binary mode (its type must be [EventarcType] and its body the
// wrapped envelope); an X-Goog-Pubsub-Message-Id header means an unwrapped
// delivery; anything else must be the wrapped JSON envelope, whose message
// fields may be spelt in camelCase (messageId) or snake_case (message_id).
//
// For an unwrapped delivery the body is the data as is, the metadata comes
// from the x-goog-pubsub-* headers, and the attributes from the remaining
// headers, because Pub/Sub's "write metadata" option writes each attribute as
// a plain <key>: <value> header. Those cannot be told apart from the headers
// any HTTP request carries, so headers of the transport (Content-Type,
// User-Agent, X-Forwarded-*, X-Cloud-Trace-Context and the like) and every
// header that may carry a credential (Authorization, Cookie,
// X-Forwarded-Authorization, X-Apigateway-Api-Userinfo, any name with
// "token", "secret" or "session" in it and the like) are never taken as
// attributes (see attributeName), and attribute names are lower-cased,
// since HTTP does not keep their case.
//
// A request that is not a valid delivery gets an error wrapping
// [ErrMalformed] whose text gives a short reason. A body over the limit set
// with [http.MaxBytesReader] gets an error wrapping [*http.MaxBytesError].
// The body is read once.
func Decode(r *http.Request) (*Message, error) {
	h := r.Header
	if _, ok := h[headerCEType]; ok {
		return decodeEventarc(r)
	}
	if _, ok := h[headerMessageID]; ok {
		return decodeUnwrapped(r)
	}
	if ct := h.Get("Content-Type"); strings.HasPrefix(ct, "application/cloudevents") {
		return nil, malformed("structured-mode CloudEvents are not supported; use binary mode")
	}
	return decodeEnvelope(r, FormWrapped)
}

// wireEnvelope is the wrapped push body. Pub/Sub writes some fields in both
// spellings; each pair is read into two fields and the camelCase one wins.
type wireEnvelope struct {
	Message              *wireMessage `json:"message"`
	Subscription         string       `json:"subscription"`
	DeliveryAttempt      int          `json:"deliveryAttempt"`
	DeliveryAttemptSnake int          `json:"delivery_attempt"`
}

// wireMessage is the envelope's message. encoding/json base64-decodes Data
// once, straight into a slice of the decoded size (when datasplice.go has
// not already). The snake_case fields are kept as raw JSON and turned into
// strings only when the camelCase one is absent, as Pub/Sub sends both.
type wireMessage struct {
	Data             []byte            `json:"data"`
	Attributes       map[string]string `json:"attributes"`
	MessageID        string            `json:"messageId"`
	MessageIDSnake   jsonText          `json:"message_id"`
	PublishTime      string            `json:"publishTime"`
	PublishTimeSnake jsonText          `json:"publish_time"`
	OrderingKey      string            `json:"orderingKey"`
	OrderingKeySnake jsonText          `json:"ordering_key"`
}

// jsonText is a JSON value left undecoded. It aliases the body passed to
// json.Unmarshal, which Decode owns and no longer changes by then.
type jsonText []byte

// UnmarshalJSON keeps the value's text without copying it.
func (t *jsonText) UnmarshalJSON(b []byte) error {
	*t = b
	return nil
}

// or returns s if it is not empty, else the string t holds ("" for none or
// null); field names t in the error if t is not a string.
func (t jsonText) or(s, field string) (string, error) {
	if s != "" || len(t) == 0 || string(t) == "null" {
		return s, nil
	}
	if t[0] == '"' && bytes.IndexByte(t, '\\') < 0 {
		return string(t[1 : len(t)-1]), nil
	}
	var unquoted string // declared here: it escapes, and only this path pays
	if err := json.Unmarshal(t, &unquoted); err != nil {
		return "", malformed("message." + field + " has the wrong type")
	}
	return unquoted, nil
}

func decodeEnvelope(r *http.Request, form Form) (*Message, error) {
	bp := envelopeBufs.Get().(*[]byte)
	body, err := readBodyInto(r, (*bp)[:0])
	if err != nil {
		envelopeBufs.Put(bp)
		return nil, err
	}
	m, err := parseEnvelope(body, form)
	// Nothing parseEnvelope returns aliases body (every string is copied,
	// the data decoded into its own slice; TestDecodeDoesNotAliasBody), so
	// the buffer serves the next delivery.
	if cap(body) <= maxPooledBody {
		*bp = body
		envelopeBufs.Put(bp)
	}
	return m, err
}

// envelopeBufs recycles the bodies of wrapped deliveries, which are read
// whole and dropped once decoded, up to maxPooledBody each.
var envelopeBufs = sync.Pool{New: func() any { b := make([]byte, 0, 4096); return &b }}

const maxPooledBody = 64 << 10

// parseEnvelope decodes a wrapped envelope: in one walk when it is as
// Pub/Sub writes it (parseEnvelopeFast; with or without data, and refusing
// data that is not base64 there), else with encoding/json, taking the data
// out of the body first when findData can (see datasplice.go).
// (When the one walk fails, the body with its data cut out fails it too:
// the data string it takes is the one findData takes.) It may modify body.
func parseEnvelope(body []byte, form Form) (*Message, error) {
	var fast wireEnvelope
	var wm wireMessage
	if raw, hasMessage, ok := parseEnvelopeFast(body, &fast, &wm); ok {
		msg := &wm
		if !hasMessage {
			msg = nil
		}
		if raw == nil { // a message without data, or no message
			return envelopeMessage(&fast, msg, form, nil)
		}
		data, err := decodeData(raw)
		if err != nil {
			// The rest of the body is valid JSON of the right types (the
			// walk took it), so encoding/json would fail on the data alone.
			return nil, jsonError(err)
		}
		return envelopeMessage(&fast, msg, form, data)
	}
	start, end, ok := findData(body)
	if !ok {
		return parseEnvelopeJSON(body, form, nil, nil)
	}
	data, dataErr := decodeData(body[start:end])
	rest := append(body[:start], body[end:]...) // leaves "data":""
	return parseEnvelopeJSON(rest, form, data, dataErr)
}

// parseEnvelopeJSON decodes a wrapped envelope with encoding/json. When data
// is non-nil or dataErr set, they stand for the message's data, which the
// caller cut out of body.
func parseEnvelopeJSON(body []byte, form Form, data []byte, dataErr error) (*Message, error) {
	var env wireEnvelope
	if err := json.Unmarshal(body, &env); err != nil {
		return nil, jsonError(err)
	}
	if dataErr != nil {
		return nil, jsonError(dataErr)
	}
	return envelopeMessage(&env, env.Message, form, data)
}

// envelopeMessage checks a decoded envelope and its message wm (nil when
// absent) and makes the Message. data, when not nil, is the message's data,
// which the caller cut out of the body.
func envelopeMessage(env *wireEnvelope, wm *wireMessage, form Form, data []byte) (*Message, error) {
	if wm == nil {
		return nil, malformed("no message")
	}
	if data != nil {
		wm.Data = data
	}
	m := &Message{
		Data:            wm.Data,
		Attributes:      wm.Attributes,
		Subscription:    env.Subscription,
		DeliveryAttempt: env.DeliveryAttempt,
		Form:            form,
	}
	if m.DeliveryAttempt == 0 {
		m.DeliveryAttempt = env.DeliveryAttemptSnake
	}
	var err error
	if m.ID, err = wm.MessageIDSnake.or(wm.MessageID, "message_id"); err != nil {
		return nil, err
	}
	if err := checkID(m.ID); err != nil {
		return nil, err
	}
	if m.OrderingKey, err = wm.OrderingKeySnake.or(wm.OrderingKey, "ordering_key"); err != nil {
		return nil, err
	}
	if m.DeliveryAttempt < 0 {
		return nil, malformed("deliveryAttempt is negative")
	}
	pt, err := wm.PublishTimeSnake.or(wm.PublishTime, "publish_time")
	if err != nil {
		return nil, err
	}
	if pt != "" {
		t, err := time.Parse(time.RFC3339Nano, pt)
		if err != nil {
			return nil, malformed("message.publishTime is not an RFC 3339 time")
		}
		m.PublishTime = t
	}
	return m, nil
}

func decodeEventarc(r *http.Request) (*Message, error) {
	h := r.Header
	switch {
	case h.Get(headerCEType) != EventarcType:
		return nil, malformed("ce-type is not " + EventarcType)
	case h.Get(headerCESpecVersion) != "1.0":
		return nil, malformed("ce-specversion is not 1.0")
	case h.Get(headerCEID) == "":
		return nil, malformed("no ce-id header")
	case h.Get(headerCESource) == "":
		return nil, malformed("no ce-source header")
	}
	return decodeEnvelope(r, FormEventarc)
}

func decodeUnwrapped(r *http.Request) (*Message, error) {
	h := r.Header
	m := &Message{
		ID:           h.Get(headerMessageID),
		Subscription: h.Get(headerSubscription),
		OrderingKey:  h.Get(headerOrderingKey),
		Form:         FormUnwrapped,
	}
	if err := checkID(m.ID); err != nil {
		return nil, err
	}
	if pt := h.Get(headerPublishTime); pt != "" {
		t, err := time.Parse(time.RFC3339Nano, pt)
		if err != nil {
			return nil, malformed("x-goog-pubsub-publish-time is not an RFC 3339 time")
		}
		m.PublishTime = t
	}
	for k, vs := range h {
		name, ok := attributeName(k)
		if !ok || len(vs) == 0 {
			continue
		}
		if m.Attributes == nil {
			m.Attributes = make(map[string]string)
		}
		m.Attributes[name] = vs[0]
	}
	body, err := readBody(r)
	if err != nil {
		return nil, err
	}
	m.Data = body
	return m, nil
}

func checkID(id string) error {
	switch {
	case id == "":
		return malformed("no message ID")
	case len(id) > maxIDLength:
		return malformed("message ID is too long")
	}
	return nil
}

// jsonError turns an encoding/json error into a malformed-delivery reason
// that names the field at fault but never echoes the input.
func jsonError(err error) error {
	var typeErr *json.UnmarshalTypeError
	var b64Err base64.CorruptInputError
	switch {
	case errors.As(err, &b64Err):
		return malformed("message.data is not valid base64")
	case errors.As(err, &typeErr):
		switch f := typeErr.Field; {
		case f == "":
			return malformed("body is not a JSON object")
		case f == "message":
			return malformed("message is not an object")
		case f == "message.data":
			return malformed("message.data is not a base64 string")
		case f == "message.attributes" || strings.HasPrefix(f, "message.attributes."):
			return malformed("message.attributes is not an object of strings")
		default:
			// Field is a path of known JSON names, never a value.
			return malformed(f + " has the wrong type")
		}
	}
	return malformed("body is not JSON")
}

func malformed(reason string) error {
	return fmt.Errorf("%w: %s", ErrMalformed, reason)
}
