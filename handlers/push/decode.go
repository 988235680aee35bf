package push

import (
	"cmp"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
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
// fields may be spelt in camelCase (messageId) or snake_case (message_id);
// where both are given the camelCase one wins. The envelope is read strictly
// (see decodeEnvelope): a repeated member name, invalid UTF-8 or data that
// is not padded standard base64 is refused.
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

// wireEnvelope is the wrapped push body, which is also an Eventarc
// binary-mode body. Pub/Sub writes some fields in both spellings; each pair
// is read into two fields and the camelCase one wins when it is set.
type wireEnvelope struct {
	Message              *wireMessage `json:"message"`
	Subscription         string       `json:"subscription"`
	DeliveryAttempt      int          `json:"deliveryAttempt"`
	DeliveryAttemptSnake int          `json:"delivery_attempt"`
}

// wireMessage is the envelope's message. Data is base64 in the JSON text;
// the JSON library decodes it (see decodeEnvelope).
type wireMessage struct {
	Data             []byte            `json:"data"`
	Attributes       map[string]string `json:"attributes"`
	MessageID        string            `json:"messageId"`
	MessageIDSnake   string            `json:"message_id"`
	PublishTime      string            `json:"publishTime"`
	PublishTimeSnake string            `json:"publish_time"`
	OrderingKey      string            `json:"orderingKey"`
	OrderingKeySnake string            `json:"ordering_key"`
}

// decodeEnvelope reads a wrapped envelope with the Go team's json v2
// (github.com/go-json-experiment/json) at its defaults, which are strict: a
// member name given twice (in any object, the attributes included), invalid
// UTF-8 and anything after the envelope are refused, and names match
// exactly (case included), so that "MessageId" is an unknown member,
// ignored like every unknown member. Data must be base64 in the standard
// alphabet with its padding and nothing else (RFC 4648, as Pub/Sub writes
// it): unpadded text and line breaks are refused.
func decodeEnvelope(r *http.Request, form Form) (*Message, error) {
	body, err := readBody(r)
	if err != nil {
		return nil, err
	}
	var env wireEnvelope
	if err := json.Unmarshal(body, &env); err != nil {
		return nil, envelopeError(err)
	}
	return env.message(form)
}

// message checks the decoded envelope and makes its Message.
func (env *wireEnvelope) message(form Form) (*Message, error) {
	wm := env.Message
	if wm == nil {
		return nil, malformed("no message")
	}
	m := &Message{
		ID:              cmp.Or(wm.MessageID, wm.MessageIDSnake),
		Data:            wm.Data,
		Attributes:      wm.Attributes,
		OrderingKey:     cmp.Or(wm.OrderingKey, wm.OrderingKeySnake),
		Subscription:    env.Subscription,
		DeliveryAttempt: cmp.Or(env.DeliveryAttempt, env.DeliveryAttemptSnake),
		Form:            form,
	}
	if err := checkID(m.ID); err != nil {
		return nil, err
	}
	if m.DeliveryAttempt < 0 {
		return nil, malformed("deliveryAttempt is negative")
	}
	if pt := cmp.Or(wm.PublishTime, wm.PublishTimeSnake); pt != "" {
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

// envelopeError turns the JSON library's error into a malformed-delivery
// reason that names the member at fault but never echoes the input: the
// error's JSON pointer is only ever compared with the envelope's own
// member names (see envelopeField).
func envelopeError(err error) error {
	var syntaxErr *jsontext.SyntacticError
	var typeErr *json.SemanticError
	switch {
	case errors.As(err, &syntaxErr):
		field := envelopeField(syntaxErr.JSONPointer)
		switch repeated := errors.Is(syntaxErr.Err, jsontext.ErrDuplicateName); {
		case repeated && field == fieldAttributes:
			return malformed("message.attributes repeats a key")
		case repeated && field != "":
			return malformed(field + " appears twice")
		case repeated:
			return malformed("body repeats a member name")
		case field != "":
			return malformed(field + " is not valid JSON")
		}
		return malformed("body is not JSON")
	case errors.As(err, &typeErr):
		field := envelopeField(typeErr.JSONPointer)
		switch {
		case typeErr.JSONPointer == "":
			return malformed("body is not a JSON object")
		case field == "message":
			return malformed("message is not an object")
		case field == "message.data" && typeErr.JSONKind == '"':
			return malformed("message.data is not valid base64")
		case field == "message.data":
			return malformed("message.data is not a base64 string")
		case field == fieldAttributes:
			return malformed("message.attributes is not an object of strings")
		case field != "":
			return malformed(field + " has the wrong type")
		}
	}
	return malformed("body is not a valid envelope")
}

// fieldAttributes is the attributes' name in reasons; every error inside
// the attributes object is the attributes' error.
const fieldAttributes = "message.attributes"

// envelopeField names the envelope member a JSON pointer points to, in
// dotted form ("message.messageId"), or returns "" for the body itself and
// for any member the envelope does not define.
func envelopeField(p jsontext.Pointer) string {
	if jsontext.Pointer("/message/attributes").Contains(p) {
		return fieldAttributes
	}
	switch p {
	case "/message", "/subscription", "/deliveryAttempt", "/delivery_attempt",
		"/message/data", "/message/messageId", "/message/message_id",
		"/message/publishTime", "/message/publish_time",
		"/message/orderingKey", "/message/ordering_key":
		return strings.ReplaceAll(string(p[1:]), "/", ".")
	}
	return ""
}

func malformed(reason string) error {
	return fmt.Errorf("%w: %s", ErrMalformed, reason)
}
