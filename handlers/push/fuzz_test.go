package push

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"reflect"
	"testing"
)

// FuzzDecode feeds Decode arbitrary deliveries. form picks the shape
// (form%3: 0 wrapped, 1 unwrapped, 2 Eventarc); id and meta fill the headers
// that shape reads (unwrapped: message ID and publish time; Eventarc: ce-id
// and ce-type); body is the request body. Decode must never panic, must
// refuse with ErrMalformed or return a message with an ID, and must never
// take credentials for attributes.
func FuzzDecode(f *testing.F) {
	f.Fuzz(func(t *testing.T, form uint8, id, meta string, body []byte) {
		r := &http.Request{
			Method:        http.MethodPost,
			Header:        http.Header{"Authorization": {"Bearer token"}},
			Body:          io.NopCloser(bytes.NewReader(body)),
			ContentLength: int64(len(body)),
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
		if want == FormWrapped {
			sameAsJSON(t, body, m, err)
		}
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("Decode() error = %v, want one wrapping ErrMalformed", err)
			}
			if m != nil {
				t.Fatalf("Decode() = %+v with error %v, want nil", m, err)
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
		if _, ok := m.Attributes["authorization"]; ok && want == FormUnwrapped {
			t.Fatal("Decode() took the Authorization header for an attribute")
		}
		if want == FormUnwrapped && (m.ID != id || !bytes.Equal(m.Data, body)) {
			t.Fatalf("Decode() = ID %q, data %q; want %q, %q", m.ID, m.Data, id, body)
		}
	})
}

// sameAsJSON fails the test unless Decode's result for a wrapped body is
// the one encoding/json alone gives.
func sameAsJSON(t *testing.T, body []byte, got *Message, gotErr error) {
	t.Helper()
	want, wantErr := parseEnvelopeJSON(bytes.Clone(body), FormWrapped, nil, nil)
	if (gotErr == nil) != (wantErr == nil) {
		t.Fatalf("Decode() error = %v; encoding/json alone: %v", gotErr, wantErr)
	}
	if gotErr == nil && !reflect.DeepEqual(got, want) {
		t.Fatalf("Decode() = %+v; encoding/json alone: %+v", got, want)
	}
}
