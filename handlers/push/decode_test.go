package push

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestDecodeForms(t *testing.T) {
	t.Parallel()
	published := time.Date(2025, 3, 1, 12, 0, 0, 123456789, time.UTC)
	eventarcHeaders := map[string]string{
		"Ce-Id":          "9001",
		"Ce-Type":        EventarcType,
		"Ce-Source":      "//pubsub.googleapis.com/projects/p/topics/t",
		"Ce-Specversion": "1.0",
		"Content-Type":   "application/json",
	}
	tests := []struct {
		name   string
		body   string
		header map[string]string
		want   Message
	}{
		{
			name: "wrapped camelCase",
			body: `{"message":{"data":"aGVsbG8=","attributes":{"a":"1","b":"2"},"messageId":"123","publishTime":"2025-03-01T12:00:00.123456789Z","orderingKey":"ok"},"subscription":"projects/p/subscriptions/s","deliveryAttempt":3}`,
			want: Message{ID: "123", Data: []byte("hello"), Attributes: map[string]string{"a": "1", "b": "2"},
				PublishTime: published, OrderingKey: "ok", Subscription: "projects/p/subscriptions/s", DeliveryAttempt: 3, Form: FormWrapped},
		},
		{
			name: "wrapped snake_case only",
			body: `{"message":{"data":"aGVsbG8=","message_id":"124","publish_time":"2025-03-01T12:00:00.123456789Z","ordering_key":"ok"},"subscription":"projects/p/subscriptions/s","delivery_attempt":2}`,
			want: Message{ID: "124", Data: []byte("hello"), PublishTime: published, OrderingKey: "ok",
				Subscription: "projects/p/subscriptions/s", DeliveryAttempt: 2, Form: FormWrapped},
		},
		{
			name: "wrapped as Pub/Sub sends it, both spellings",
			body: `{"message":{"data":"SGVsbG8gQ2xvdWQgUHViL1N1Yg==","attributes":{},"message_id":"153364794594948","messageId":"153364794594948","publish_time":"2017-09-13T10:32:37.328Z","publishTime":"2017-09-13T10:32:37.328Z"},"subscription":"projects/x/subscriptions/push"}`,
			want: Message{ID: "153364794594948", Data: []byte("Hello Cloud Pub/Sub"), Attributes: map[string]string{},
				PublishTime: time.Date(2017, 9, 13, 10, 32, 37, 328000000, time.UTC), Subscription: "projects/x/subscriptions/push", Form: FormWrapped},
		},
		{
			name: "wrapped, camelCase wins over snake_case",
			body: `{"message":{"message_id":"snake","messageId":"camel","ordering_key":"k-snake","orderingKey":"k-camel",` +
				`"publish_time":"2017-09-13T10:32:37Z","publishTime":"2025-03-01T12:00:00.123456789Z"},"delivery_attempt":5,"deliveryAttempt":3}`,
			want: Message{ID: "camel", OrderingKey: "k-camel", PublishTime: published, DeliveryAttempt: 3, Form: FormWrapped},
		},
		{
			name: "wrapped with unknown and other-case members, ignored",
			body: `{"message":{"messageId":"1","MessageId":"2","DATA":"eA==","extra":{"data":"x"}},"Message":{},"extra":[1]}`,
			want: Message{ID: "1", Form: FormWrapped},
		},
		{
			name: "wrapped snake_case with escapes",
			body: `{"message":{"message_id":"1\u00322","ordering_key":"a\"b","publish_time":null}}`,
			want: Message{ID: "122", OrderingKey: `a"b`, Form: FormWrapped},
		},
		{
			name: "wrapped with empty data and no publish time",
			body: `{"message":{"data":"","messageId":"125"}}`,
			want: Message{ID: "125", Data: []byte{}, Form: FormWrapped},
		},
		{
			name: "unwrapped with metadata headers",
			body: `{"status":"Hello there"}`,
			header: map[string]string{
				"X-Goog-Pubsub-Message-Id":        "126",
				"X-Goog-Pubsub-Publish-Time":      "2025-03-01T12:00:00.123456789Z",
				"X-Goog-Pubsub-Subscription-Name": "projects/p/subscriptions/unwrapped",
				"X-Goog-Pubsub-Ordering-Key":      "some-key",
				"Authorization":                   "Bearer not-an-attribute",
				"X-Cloud-Trace-Context":           "105445aa7843bc8bf206b12000100000/1;o=1",
				"Content-Type":                    "application/json",
				"User-Agent":                      "CloudPubSub-Google",
				"eventType":                       "created",
			},
			want: Message{ID: "126", Data: []byte(`{"status":"Hello there"}`), Attributes: map[string]string{"eventtype": "created"},
				PublishTime: published, OrderingKey: "some-key", Subscription: "projects/p/subscriptions/unwrapped", Form: FormUnwrapped},
		},
		{
			name:   "unwrapped with only the message ID",
			body:   "raw bytes \x00\xff",
			header: map[string]string{"X-Goog-Pubsub-Message-Id": "127"},
			want:   Message{ID: "127", Data: []byte("raw bytes \x00\xff"), Form: FormUnwrapped},
		},
		{
			name:   "eventarc binary mode",
			body:   `{"message":{"data":"aGVsbG8=","attributes":{"a":"1"},"messageId":"9001","publishTime":"2025-03-01T12:00:00.123456789Z"},"subscription":"projects/p/subscriptions/eventarc-sub"}`,
			header: eventarcHeaders,
			want: Message{ID: "9001", Data: []byte("hello"), Attributes: map[string]string{"a": "1"},
				PublishTime: published, Subscription: "projects/p/subscriptions/eventarc-sub", Form: FormEventarc},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := Decode(newPushRequest(tt.body, tt.header))
			if err != nil {
				t.Fatalf("Decode() error = %v, want nil", err)
			}
			if !got.PublishTime.Equal(tt.want.PublishTime) {
				t.Errorf("PublishTime = %v, want %v", got.PublishTime, tt.want.PublishTime)
			}
			gotRest, wantRest := *got, tt.want
			gotRest.PublishTime, wantRest.PublishTime = time.Time{}, time.Time{}
			if !reflect.DeepEqual(gotRest, wantRest) {
				t.Errorf("Decode() =\n%+v\nwant\n%+v", gotRest, wantRest)
			}
		})
	}
}

// malformedCases are deliveries Decode must refuse, with the reason it gives.
var malformedCases = []struct {
	name   string
	body   string
	header map[string]string
	reason string
}{
	{name: "not JSON", body: `message=hello`, reason: "body is not JSON"},
	{name: "empty body", body: ``, reason: "body is not JSON"},
	{name: "trailing garbage", body: `{"message":{"messageId":"1"}} x`, reason: "body is not JSON"},
	{name: "empty object", body: `{}`, reason: "no message"},
	{name: "null message", body: `{"message":null}`, reason: "no message"},
	{name: "array body", body: `[{"message":{"messageId":"1"}}]`, reason: "body is not a JSON object"},
	{name: "message not an object", body: `{"message":"hello"}`, reason: "message is not an object"},
	{name: "no message ID", body: `{"message":{"data":"aGVsbG8="}}`, reason: "no message ID"},
	{name: "empty message ID", body: `{"message":{"messageId":"","message_id":""}}`, reason: "no message ID"},
	{name: "message ID not a string", body: `{"message":{"messageId":12}}`, reason: "message.messageId has the wrong type"},
	{name: "snake_case message ID not a string", body: `{"message":{"message_id":12}}`, reason: "message.message_id has the wrong type"},
	{name: "snake_case publish time not a string", body: `{"message":{"message_id":"1","publish_time":true}}`, reason: "message.publish_time has the wrong type"},
	{name: "message ID too long", body: `{"message":{"messageId":"` + strings.Repeat("9", maxIDLength+1) + `"}}`, reason: "message ID is too long"},
	{name: "data not base64", body: `{"message":{"data":"not base64!","messageId":"1"}}`, reason: "message.data is not valid base64"},
	{name: "data a number", body: `{"message":{"data":5,"messageId":"1"}}`, reason: "message.data is not a base64 string"},
	{name: "attributes an array", body: `{"message":{"attributes":["a"],"messageId":"1"}}`, reason: "message.attributes is not an object of strings"},
	{name: "attribute value a number", body: `{"message":{"attributes":{"a":1},"messageId":"1"}}`, reason: "message.attributes is not an object of strings"},
	{name: "bad publish time", body: `{"message":{"messageId":"1","publishTime":"yesterday"}}`, reason: "message.publishTime is not an RFC 3339 time"},
	{name: "delivery attempt a string", body: `{"message":{"messageId":"1"},"deliveryAttempt":"2"}`, reason: "deliveryAttempt has the wrong type"},
	{name: "fractional delivery attempt", body: `{"message":{"messageId":"1"},"deliveryAttempt":1.5}`, reason: "deliveryAttempt has the wrong type"},
	{name: "negative delivery attempt", body: `{"message":{"messageId":"1"},"deliveryAttempt":-1}`, reason: "deliveryAttempt is negative"},
	{name: "snake_case ID of the wrong type beside a camelCase one", body: `{"message":{"messageId":"1","message_id":1}}`, reason: "message.message_id has the wrong type"},
	{name: "repeated message", body: `{"message":{"messageId":"1"},"message":{"messageId":"2"}}`, reason: "message appears twice"},
	{name: "repeated message ID", body: `{"message":{"messageId":"1","messageId":"2"}}`, reason: "message.messageId appears twice"},
	{name: "repeated data", body: `{"message":{"data":"aGk=","messageId":"1","data":"eA=="}}`, reason: "message.data appears twice"},
	{name: "repeated attribute key", body: `{"message":{"attributes":{"secret-key":"1","secret-key":"2"},"messageId":"1"}}`, reason: "message.attributes repeats a key"},
	{name: "repeated unknown member", body: `{"message":{"messageId":"1"},"secret":1,"secret":2}`, reason: "body repeats a member name"},
	{name: "invalid UTF-8 in the ID", body: "{\"message\":{\"messageId\":\"1\xff\"}}", reason: "message.messageId is not valid JSON"},
	{name: "invalid UTF-8 in an attribute key", body: "{\"message\":{\"attributes\":{\"\xff\":\"v\"},\"messageId\":\"1\"}}", reason: "message.attributes is not valid JSON"},
	{name: "invalid UTF-8 in an unknown member", body: "{\"message\":{\"messageId\":\"1\"},\"x\":\"\xff\"}", reason: "body is not JSON"},
	{name: "lone surrogate in the ordering key", body: `{"message":{"messageId":"1","orderingKey":"\ud800"}}`, reason: "message.orderingKey is not valid JSON"},
	{name: "leading zero in the delivery attempt", body: `{"message":{"messageId":"1"},"deliveryAttempt":01}`, reason: "body is not JSON"},
	{
		name: "structured CloudEvent", body: `{"specversion":"1.0","data":{}}`,
		header: map[string]string{"Content-Type": "application/cloudevents+json"},
		reason: "structured-mode CloudEvents are not supported; use binary mode",
	},
	{
		name: "wrong ce-type", body: `{"message":{"messageId":"1"}}`,
		header: map[string]string{"Ce-Type": "google.cloud.storage.object.v1.finalized", "Ce-Id": "1", "Ce-Source": "s", "Ce-Specversion": "1.0"},
		reason: "ce-type is not " + EventarcType,
	},
	{
		name: "empty ce-type", body: `{"message":{"messageId":"1"}}`,
		header: map[string]string{"Ce-Type": "", "Ce-Id": "1", "Ce-Source": "s", "Ce-Specversion": "1.0"},
		reason: "ce-type is not " + EventarcType,
	},
	{
		name: "eventarc without ce-id", body: `{"message":{"messageId":"1"}}`,
		header: map[string]string{"Ce-Type": EventarcType, "Ce-Source": "s", "Ce-Specversion": "1.0"},
		reason: "no ce-id header",
	},
	{
		name: "eventarc with a bad envelope", body: `{"message":{}}`,
		header: map[string]string{"Ce-Type": EventarcType, "Ce-Id": "1", "Ce-Source": "s", "Ce-Specversion": "1.0"},
		reason: "no message ID",
	},
	{
		name: "unwrapped with empty message ID", body: `hello`,
		header: map[string]string{"X-Goog-Pubsub-Message-Id": ""},
		reason: "no message ID",
	},
	{
		name: "unwrapped with bad publish time", body: `hello`,
		header: map[string]string{"X-Goog-Pubsub-Message-Id": "1", "X-Goog-Pubsub-Publish-Time": "1700000000"},
		reason: "x-goog-pubsub-publish-time is not an RFC 3339 time",
	},
}

func TestDecodeMalformed(t *testing.T) {
	t.Parallel()
	for _, tt := range malformedCases {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m, err := Decode(newPushRequest(tt.body, tt.header))
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("Decode() = %+v, %v; want an error wrapping ErrMalformed", m, err)
			}
			if m != nil {
				t.Errorf("Decode() message = %+v, want nil", m)
			}
			if got, want := err.Error(), "push: malformed delivery: "+tt.reason; got != want {
				t.Errorf("error = %q, want %q", got, want)
			}
		})
	}
}

// TestDecodeDataBase64 pins which base64 the envelope's data may be: the
// standard alphabet with its padding, as Pub/Sub writes it, and nothing
// else (json v2's default, RFC 4648 strictly; encoding/json v1 also took
// escaped line breaks, which base64.StdEncoding skips).
// Non-zero bits in the last quantum are accepted, as RFC 4648 allows.
func TestDecodeDataBase64(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		data string // the JSON string's contents
		want string // the decoded data; "" with ok false below
		ok   bool
	}{
		{name: "padded", data: "aGk=", want: "hi", ok: true},
		{name: "no padding needed", data: "aGVs", want: "hel", ok: true},
		{name: "two padding characters", data: "aA==", want: "h", ok: true},
		{name: "empty", data: "", want: "", ok: true},
		{name: "non-zero trailing bits", data: "aGl=", want: "hi", ok: true},
		{name: "unpadded", data: "aGk"},
		{name: "URL-safe alphabet", data: "_-8="},
		{name: "escaped line feed", data: `aG\nk=`},
		{name: "escaped CR LF at the end", data: `aGk=\r\n`},
		{name: "space", data: "aG k="},
		{name: "padding inside", data: "aA==aGk="},
		{name: "padding only", data: "===="},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m, err := Decode(newPushRequest(`{"message":{"data":"`+tt.data+`","messageId":"1"}}`, nil))
			if !tt.ok {
				if got, want := fmt.Sprint(err), "push: malformed delivery: message.data is not valid base64"; got != want {
					t.Fatalf("Decode() = %+v, %v; want error %q", m, err, want)
				}
				return
			}
			if err != nil {
				t.Fatalf("Decode() error = %v, want nil", err)
			}
			if string(m.Data) != tt.want {
				t.Errorf("Data = %q, want %q", m.Data, tt.want)
			}
		})
	}
}

// TestDecodeReasonNeverEchoesInput: a refused body's reason names the
// envelope's members, never the body's own names or values.
func TestDecodeReasonNeverEchoesInput(t *testing.T) {
	t.Parallel()
	const secret = "s3cr3t"
	bodies := map[string]string{
		"repeated attribute":        `{"message":{"attributes":{"` + secret + `":"1","` + secret + `":"2"},"messageId":"1"}}`,
		"attribute of a wrong type": `{"message":{"attributes":{"` + secret + `":{}},"messageId":"1"}}`,
		"repeated unknown member":   `{"` + secret + `":1,"` + secret + `":2,"message":{"messageId":"1"}}`,
		"bad base64":                `{"message":{"data":"` + secret + `!","messageId":"1"}}`,
		"bad time":                  `{"message":{"messageId":"1","publishTime":"` + secret + `"}}`,
		"bad member name":           `{"message":{"messageId":"1"},"` + secret + "\xff" + `":1}`,
	}
	for name, body := range bodies {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			_, err := Decode(newPushRequest(body, nil))
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("Decode() error = %v, want ErrMalformed", err)
			}
			if strings.Contains(err.Error(), secret) {
				t.Errorf("error %q echoes the input", err)
			}
		})
	}
}

func TestDecodeBodyOverLimit(t *testing.T) {
	t.Parallel()
	r := newPushRequest(wrappedBody("1", strings.Repeat("x", 1000)), nil)
	r.Body = http.MaxBytesReader(nil, r.Body, 100)
	_, err := Decode(r)
	var tooBig *http.MaxBytesError
	if !errors.As(err, &tooBig) {
		t.Fatalf("Decode() error = %v, want a *http.MaxBytesError", err)
	}
	if errors.Is(err, ErrMalformed) {
		t.Errorf("Decode() error %v wraps ErrMalformed; an oversized body is not malformed", err)
	}
}

func TestMessageLogValueHasNoData(t *testing.T) {
	t.Parallel()
	m := &Message{ID: "1", Data: []byte("secret-data"), Attributes: map[string]string{"k": "secret-attr"},
		Subscription: "projects/p/subscriptions/s", DeliveryAttempt: 2, Form: FormWrapped}
	got := m.LogValue().String()
	for _, secret := range []string{"secret-data", "secret-attr"} {
		if strings.Contains(got, secret) {
			t.Errorf("LogValue() = %s, contains %q", got, secret)
		}
	}
	for _, want := range []string{"id=1", "subscription=projects/p/subscriptions/s", "attempt=2", "form=wrapped"} {
		if !strings.Contains(got, want) {
			t.Errorf("LogValue() = %s, want it to contain %q", got, want)
		}
	}
}

// chunkReader returns its data a few bytes per Read, and EOF only after.
type chunkReader struct {
	data  []byte
	chunk int
}

func (c *chunkReader) Read(p []byte) (int, error) {
	if len(c.data) == 0 {
		return 0, io.EOF
	}
	n := copy(p[:min(len(p), c.chunk)], c.data)
	c.data = c.data[n:]
	return n, nil
}

func TestReadBody(t *testing.T) {
	t.Parallel()
	body := strings.Repeat("0123456789", 200)
	tests := []struct {
		name          string
		contentLength int64
	}{
		{name: "exact length", contentLength: int64(len(body))},
		{name: "unknown length", contentLength: -1},
		{name: "length understated", contentLength: 10},
		{name: "length overstated", contentLength: int64(len(body)) * 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := newPushRequest("", nil)
			r.Body = io.NopCloser(&chunkReader{data: []byte(body), chunk: 7})
			r.ContentLength = tt.contentLength
			got, err := readBody(r)
			if err != nil {
				t.Fatalf("readBody() error = %v", err)
			}
			if string(got) != body {
				t.Errorf("readBody() = %d bytes, want the %d-byte body", len(got), len(body))
			}
		})
	}
}
