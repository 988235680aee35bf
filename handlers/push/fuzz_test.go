package push

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/go-json-experiment/json/jsontext"
)

// FuzzDecode feeds Decode arbitrary deliveries. form picks the shape
// (form%3: 0 wrapped, 1 unwrapped, 2 Eventarc); id and meta fill the headers
// that shape reads (unwrapped: message ID and publish time; Eventarc: ce-id
// and ce-type); body is the request body. Its seed corpus (testdata/fuzz)
// runs with the ordinary tests. Decode must never panic; it must refuse
// with ErrMalformed and a reason of the closed set (never a piece of the
// input), or return a message with an ID of 1 to maxIDLength bytes in the
// form it came in. An accepted envelope is strict JSON, and an unwrapped
// delivery never takes a credential header for an attribute.
func FuzzDecode(f *testing.F) {
	reasons := decodeReasons()
	f.Fuzz(func(t *testing.T, form uint8, id, meta string, body []byte) {
		r := &http.Request{
			Method:        http.MethodPost,
			Header:        http.Header{},
			Body:          io.NopCloser(bytes.NewReader(body)),
			ContentLength: int64(len(body)),
		}
		for _, name := range credentialHeaders {
			r.Header.Set(name, "Bearer token")
		}
		want := FormWrapped
		switch form % 3 {
		case 1:
			want = FormUnwrapped
			r.Header.Set(headerMessageID, id)
			if meta != "" {
				r.Header.Set(headerPublishTime, meta)
			}
		case 2:
			want = FormEventarc
			r.Header.Set(headerCEType, meta)
			r.Header.Set(headerCEID, id)
			r.Header.Set(headerCESource, "//pubsub.googleapis.com/projects/p/topics/t")
			r.Header.Set(headerCESpecVersion, "1.0")
		}

		m, err := Decode(r)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("Decode() error = %v, want one wrapping ErrMalformed", err)
			}
			if m != nil {
				t.Fatalf("Decode() = %+v with error %v, want nil", m, err)
			}
			if reason := strings.TrimPrefix(err.Error(), ErrMalformed.Error()+": "); !reasons[reason] {
				t.Fatalf("Decode() reason %q is not one of the known reasons", reason)
			}
			return
		}
		if m.ID == "" || len(m.ID) > maxIDLength {
			t.Fatalf("Decode() ID = %q, want 1 to %d bytes", m.ID, maxIDLength)
		}
		if m.Form != want {
			t.Fatalf("Decode() Form = %q, want %q", m.Form, want)
		}
		if m.DeliveryAttempt < 0 {
			t.Fatalf("Decode() DeliveryAttempt = %d, want >= 0", m.DeliveryAttempt)
		}
		switch want {
		case FormUnwrapped:
			for k := range m.Attributes {
				if _, ok := attributeName(http.CanonicalHeaderKey(k)); !ok {
					t.Fatalf("Decode() took the header %s for an attribute", k)
				}
			}
			if m.ID != id || !bytes.Equal(m.Data, body) {
				t.Fatalf("Decode() = ID %q, data %q; want %q, %q", m.ID, m.Data, id, body)
			}
		default:
			if !jsontext.Value(body).IsValid() {
				t.Fatalf("Decode() accepted %q, which is not strict JSON", body)
			}
		}
	})
}

// decodeReasons is every reason Decode may give: fixed texts, and texts
// made of an envelope member's name.
func decodeReasons() map[string]bool {
	reasons := map[string]bool{}
	for _, r := range []string{
		"body is not JSON", "body is not a JSON object", "body repeats a member name",
		"body is not a valid envelope", "no message", "message is not an object",
		"no message ID", "message ID is too long", "deliveryAttempt is negative",
		"message.publishTime is not an RFC 3339 time",
		"message.data is not valid base64", "message.data is not a base64 string",
		"message.attributes is not an object of strings", "message.attributes repeats a key",
		"could not read the body", "no ce-id header", "no ce-source header",
		"ce-type is not " + EventarcType, "ce-specversion is not 1.0",
		"x-goog-pubsub-publish-time is not an RFC 3339 time",
		"structured-mode CloudEvents are not supported; use binary mode",
	} {
		reasons[r] = true
	}
	for _, field := range []string{
		"message", "subscription", "deliveryAttempt", "delivery_attempt", "message.data",
		"message.attributes", "message.messageId", "message.message_id", "message.publishTime",
		"message.publish_time", "message.orderingKey", "message.ordering_key",
	} {
		for _, suffix := range []string{" appears twice", " is not valid JSON", " has the wrong type"} {
			reasons[field+suffix] = true
		}
	}
	return reasons
}
