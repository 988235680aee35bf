package push

import (
	"bytes"
	"fmt"
	"reflect"
	"strconv"
	"testing"
)

// TestParseEnvelopeFast checks which envelopes the fast decoder takes, and
// that what it takes it decodes exactly as encoding/json does.
func TestParseEnvelopeFast(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		body string
		fast bool
	}{
		{"as Pub/Sub sends it", `{"message":{"attributes":{"k":"v","é":"ü"},"data":"aGk=","messageId":"1","message_id":"1",` +
			`"publishTime":"2026-01-15T10:00:00.123Z","publish_time":"2026-01-15T10:00:00.123Z","orderingKey":"o"},` +
			`"subscription":"projects/p/subscriptions/s","deliveryAttempt":3}`, true},
		{"white space everywhere", " {\n \"message\" : { \"data\" : \"aGk=\" , \"message_id\" : \"7\" , \"attributes\" : { } } ,\t\"delivery_attempt\" : 0 } ", true},
		{"repeated attribute key: the last wins", `{"message":{"attributes":{"k":"1","k":"2"},"data":"aGk=","messageId":"1"}}`, true},
		{"more attributes than the parser keeps inline", `{"message":{"attributes":{"a":"1","b":"2","c":"3","d":"4","e":"5",` +
			`"f":"6","g":"7","h":"8","i":"9","j":"10","a":"11","":""},"data":"aGk=","messageId":"1"}}`, true},
		{"empty strings", `{"message":{"attributes":{"":""},"data":"","messageId":"1","orderingKey":""},"subscription":""}`, true},
		{"snake only", `{"message":{"data":"","message_id":"9","publish_time":"2026-01-15T10:00:00Z"}}`, true},
		{"unknown key", `{"message":{"data":"aGk=","messageId":"1","extra":1}}`, false},
		{"look-alike key", `{"message":{"data":"aGk=","MessageId":"1"}}`, false},
		{"repeated key", `{"message":{"data":"aGk=","messageId":"1","messageId":"2"}}`, false},
		{"escape in a string", `{"message":{"data":"aGk=","messageId":"a\u0031"}}`, false},
		{"null attributes", `{"message":{"data":"aGk=","messageId":"1","attributes":null}}`, false},
		{"number attribute", `{"message":{"data":"aGk=","messageId":"1","attributes":{"n":1}}}`, false},
		{"fractional attempt", `{"message":{"data":"aGk=","messageId":"1"},"deliveryAttempt":1.5}`, false},
		{"negative attempt", `{"message":{"data":"aGk=","messageId":"1"},"deliveryAttempt":-1}`, false},
		{"leading zero", `{"message":{"data":"aGk=","messageId":"1"},"deliveryAttempt":01}`, false},
		{"invalid UTF-8", "{\"message\":{\"data\":\"aGk=\",\"messageId\":\"\xff\"}}", false},
		{"trailing bytes", `{"message":{"data":"aGk=","messageId":"1"}} x`, false},
		{"numeric snake ID", `{"message":{"data":"aGk=","message_id":1}}`, false},
		{"CR in the data", "{\"message\":{\"data\":\"aG\rk=\",\"messageId\":\"1\"}}", false},
		{"LF in the data", "{\"message\":{\"data\":\"aG\nk=\",\"messageId\":\"1\"}}", false},
		{"escape in the data", `{"message":{"data":"aG\u006b=","messageId":"1"}}`, false},
		{"data not a string", `{"message":{"data":1,"messageId":"1"}}`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			body := []byte(tt.body)
			start, end, ok := findData(body)
			if !ok {
				if tt.fast {
					t.Fatalf("findData refused the body")
				}
				if _, _, ok := parseEnvelopeFast(body, &wireEnvelope{}, &wireMessage{}); ok {
					t.Fatalf("parseEnvelopeFast took a body findData refused")
				}
				return
			}
			data, err := decodeData(body[start:end])
			if err != nil {
				t.Fatal(err)
			}
			rest := append(bytes.Clone(body[:start]), body[end:]...)
			var env wireEnvelope
			var wm wireMessage
			if _, _, got := parseEnvelopeFast(rest, &env, &wm); got != tt.fast {
				t.Fatalf("parseEnvelopeFast = %v, want %v", got, tt.fast)
			}
			// In one walk, on the whole body, it takes the same bodies,
			// the data where findData found it.
			raw, _, whole := parseEnvelopeFast(body, &wireEnvelope{}, &wireMessage{})
			if whole != tt.fast || (whole && !bytes.Equal(raw, body[start:end])) {
				t.Fatalf("parseEnvelopeFast(whole body) = %q, %v; want %q, %v", raw, whole, body[start:end], tt.fast)
			}
			if !tt.fast {
				return
			}
			got, gotErr := envelopeMessage(&env, &wm, FormWrapped, data)
			want, wantErr := parseEnvelopeJSON([]byte(tt.body), FormWrapped, nil, nil)
			if (gotErr == nil) != (wantErr == nil) || !reflect.DeepEqual(got, want) {
				t.Errorf("fast: %+v, %v\njson: %+v, %v", got, gotErr, want, wantErr)
			}
		})
	}
}

// TestParseEnvelopeStringsOwnTheirBytes checks that nothing the fast
// decoder returns is a view of the body, which the handler reuses for the
// next delivery: every string and attribute survives the body being
// overwritten, whether the attributes fit the parser's inline slots or not.
func TestParseEnvelopeStringsOwnTheirBytes(t *testing.T) {
	t.Parallel()
	for _, attrs := range []int{0, 1, 8, 9, 30} {
		body := envelopeWithAttributes(attrs)
		want, err := parseEnvelopeJSON(bytes.Clone(body), FormWrapped, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		var env wireEnvelope
		var wm wireMessage
		raw, _, ok := parseEnvelopeFast(body, &env, &wm)
		if !ok {
			t.Fatalf("%d attributes: parseEnvelopeFast refused the body", attrs)
		}
		data, err := decodeData(raw)
		if err != nil {
			t.Fatal(err)
		}
		for i := range body {
			body[i] = 'x'
		}
		got, err := envelopeMessage(&env, &wm, FormWrapped, data)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%d attributes, after the body was overwritten:\n got %+v\nwant %+v", attrs, got, want)
		}
	}
}

var (
	sinkMap   map[string]string
	sinkAttrs []rawAttr
)

// TestParseEnvelopeFastAllocations holds the walk to one allocation for
// all its strings, beside those of the attributes map and (past eight
// attributes) their list: an undercounted block would grow, and cost more.
func TestParseEnvelopeFastAllocations(t *testing.T) {
	for _, attrs := range []int{1, 8, 9, 30} {
		body := envelopeWithAttributes(attrs)
		var env wireEnvelope
		var wm wireMessage
		allocs := testing.AllocsPerRun(100, func() {
			env, wm = wireEnvelope{}, wireMessage{}
			if _, _, ok := parseEnvelopeFast(body, &env, &wm); !ok {
				t.Fatal("parseEnvelopeFast refused the body")
			}
		})
		// The block, plus what the map and the list of the attributes past
		// the eighth cost by themselves.
		keys := make([]string, attrs)
		for i := range keys {
			keys[i] = strconv.Itoa(i)
		}
		want := 1 + testing.AllocsPerRun(100, func() {
			m := make(map[string]string, attrs)
			var more []rawAttr
			for i, k := range keys {
				m[k] = ""
				if i >= 8 {
					more = append(more, rawAttr{})
				}
			}
			sinkMap, sinkAttrs = m, more
		})
		if allocs != want {
			t.Errorf("%d attributes: %v allocations, want %v", attrs, allocs, want)
		}
	}
}

// envelopeWithAttributes is a wrapped envelope with every string member and
// n attributes.
func envelopeWithAttributes(n int) []byte {
	var b bytes.Buffer
	b.WriteString(`{"message":{"attributes":{`)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `"key-%d":"value-%d"`, i, i)
	}
	b.WriteString(`},"data":"aGk=","messageId":"id-1","publishTime":"2026-01-15T10:00:00.123Z",` +
		`"orderingKey":"order-1"},"subscription":"projects/p/subscriptions/s"}`)
	return b.Bytes()
}
