package dispatch

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"maps"
	"slices"
	"sync/atomic"
	"testing"
	"time"
)

func TestWrappedEnvelope(t *testing.T) {
	t.Parallel()
	ps := newPubsub(t)
	ep := newEndpoint(t, always(204))
	tokens := &tokenCounter{}
	const audience = "https://service.example"
	attrs := map[string]string{"a": "1", "Content-Type": "text/plain", "odd <&>": "x\ny"}
	data := "héllo \x00 binary"
	id := ps.srv.PublishOrdered(testTopic, []byte(data), attrs, "key-1")
	r := start(t, ps, Config{Endpoint: ep.srv.URL + "/pubsub/push", Audience: audience, Tokens: tokens.source})
	req := ep.next(t)
	r.stop(t)

	h := req.header
	for name, want := range map[string]string{
		"Content-Type":  "application/json",
		"User-Agent":    UserAgent,
		"Authorization": "Bearer " + testToken(audience),
	} {
		if got := h.Get(name); got != want {
			t.Errorf("header %s = %q, want %q", name, got, want)
		}
	}
	if got := h.Get(HeaderMessageID); got != "" {
		t.Errorf("wrapped delivery has %s: %q", HeaderMessageID, got)
	}
	if got, want := tokens.calls(), []string{audience}; !slices.Equal(got, want) {
		t.Errorf("tokens asked for %v, want %v", got, want)
	}

	// The raw shape: exactly these keys, data in standard base64.
	var raw struct {
		Message         map[string]json.RawMessage `json:"message"`
		Subscription    string                     `json:"subscription"`
		DeliveryAttempt json.Number                `json:"deliveryAttempt"`
	}
	if err := json.Unmarshal(req.body, &raw); err != nil {
		t.Fatalf("decode: %v\n%s", err, req.body)
	}
	keys := slices.Sorted(maps.Keys(raw.Message))
	wantKeys := []string{"attributes", "data", "messageId", "message_id", "orderingKey", "publishTime", "publish_time"}
	if !slices.Equal(keys, wantKeys) {
		t.Errorf("message keys %v, want %v", keys, wantKeys)
	}
	var b64 string
	if err := json.Unmarshal(raw.Message["data"], &b64); err != nil || b64 != base64.StdEncoding.EncodeToString([]byte(data)) {
		t.Errorf("data %s, want standard base64 of %q", raw.Message["data"], data)
	}
	if raw.DeliveryAttempt != "1" {
		t.Errorf("deliveryAttempt %s, want 1", raw.DeliveryAttempt)
	}

	env := decodeEnvelope(t, req.body)
	m := env.Message
	if string(m.Data) != data {
		t.Errorf("data %q, want %q", m.Data, data)
	}
	if !maps.Equal(m.Attributes, attrs) {
		t.Errorf("attributes %v, want %v", m.Attributes, attrs)
	}
	if m.MessageID != id || m.MessageIDSnake != id {
		t.Errorf("messageId %q, message_id %q; want %q", m.MessageID, m.MessageIDSnake, id)
	}
	if m.OrderingKey != "key-1" {
		t.Errorf("orderingKey %q, want key-1", m.OrderingKey)
	}
	if env.Subscription != testSub {
		t.Errorf("subscription %q, want %q", env.Subscription, testSub)
	}
	if m.PublishTime != m.PublishTimeSnake {
		t.Errorf("publishTime %q differs from publish_time %q", m.PublishTime, m.PublishTimeSnake)
	}
	pt, err := time.Parse(time.RFC3339Nano, m.PublishTime)
	if want := ps.message(t, id).PublishTime; err != nil || !pt.Equal(want) {
		t.Errorf("publishTime %q (%v), want %v", m.PublishTime, err, want)
	}
}

func TestWrappedEnvelopeOmitsEmptyOptionalFields(t *testing.T) {
	t.Parallel()
	ps := newPubsub(t)
	ep := newEndpoint(t, always(204))
	ps.publish("", nil)
	r := start(t, ps, Config{Endpoint: ep.srv.URL, Subscription: "projects/other/subscriptions/named"})
	req := ep.next(t)
	r.stop(t)

	var raw struct {
		Message      map[string]json.RawMessage `json:"message"`
		Subscription string                     `json:"subscription"`
	}
	if err := json.Unmarshal(req.body, &raw); err != nil {
		t.Fatalf("decode: %v", err)
	}
	keys := slices.Sorted(maps.Keys(raw.Message))
	if want := []string{"data", "messageId", "message_id", "publishTime", "publish_time"}; !slices.Equal(keys, want) {
		t.Errorf("message keys %v, want %v", keys, want)
	}
	if got := string(raw.Message["data"]); got != `""` {
		t.Errorf("data %s, want \"\"", got)
	}
	if raw.Subscription != "projects/other/subscriptions/named" {
		t.Errorf("subscription %q, want the configured name", raw.Subscription)
	}
	if got := req.header.Get("Authorization"); got != "" {
		t.Errorf("Authorization %q without a token source", got)
	}
}

func TestUnwrapped(t *testing.T) {
	t.Parallel()
	attrs := map[string]string{
		"Content-Type":             "application/json",
		"color":                    "blue",
		"Authorization":            "Bearer forged",
		"Cookie":                   "__session=forged",
		"x-goog-pubsub-message-id": "forged",
		"bad name":                 "skipped",
		"newline":                  "a\r\nInjected: yes",
	}
	tests := []struct {
		name          string
		writeMetadata bool
		want          map[string]string // headers; "" means absent
	}{
		{
			name:          "with metadata",
			writeMetadata: true,
			want: map[string]string{
				"Content-Type":     "application/json",
				"Color":            "blue",
				HeaderOrderingKey:  "key-1",
				HeaderSubscription: testSub,
				"Cookie":           "",
				"Newline":          "",
				"Injected":         "",
			},
		},
		{
			name: "data only",
			want: map[string]string{
				"Content-Type":     "",
				"Color":            "",
				HeaderMessageID:    "",
				HeaderPublishTime:  "",
				HeaderOrderingKey:  "",
				HeaderSubscription: "",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ps := newPubsub(t)
			ep := newEndpoint(t, always(204))
			tokens := &tokenCounter{}
			id := ps.srv.PublishOrdered(testTopic, []byte(`{"raw":true}`), attrs, "key-1")
			r := start(t, ps, Config{
				Endpoint: ep.srv.URL, Tokens: tokens.source,
				Unwrapped: true, WriteMetadata: tt.writeMetadata,
			})
			req := ep.next(t)
			r.stop(t)

			if got := string(req.body); got != `{"raw":true}` {
				t.Errorf("body %q, want the data", got)
			}
			h := req.header
			if got, want := h.Get("Authorization"), "Bearer "+testToken(ep.srv.URL); got != want {
				t.Errorf("Authorization %q, want %q", got, want)
			}
			if got := h.Get("User-Agent"); got != UserAgent {
				t.Errorf("User-Agent %q, want %q", got, UserAgent)
			}
			for name, want := range tt.want {
				if got := h.Get(name); got != want {
					t.Errorf("header %s = %q, want %q", name, got, want)
				}
			}
			if tt.writeMetadata {
				if got := h.Get(HeaderMessageID); got != id {
					t.Errorf("%s = %q, want %q", HeaderMessageID, got, id)
				}
				pt, err := time.Parse(time.RFC3339Nano, h.Get(HeaderPublishTime))
				if want := ps.message(t, id).PublishTime; err != nil || !pt.Equal(want) {
					t.Errorf("%s = %q (%v), want %v", HeaderPublishTime, h.Get(HeaderPublishTime), err, want)
				}
			}
		})
	}
}

func TestCachedTokenSourceMintsOncePerAudience(t *testing.T) {
	t.Parallel()
	ps := newPubsub(t)
	ep := newEndpoint(t, always(204))
	tokens := &tokenCounter{}
	for range 5 {
		ps.publish("m", nil)
	}
	r := start(t, ps, Config{Endpoint: ep.srv.URL, Tokens: CachedTokenSource(tokens.source, time.Hour)})
	for range 5 {
		req := ep.next(t)
		if got, want := req.header.Get("Authorization"), "Bearer "+testToken(ep.srv.URL); got != want {
			t.Errorf("Authorization %q, want %q", got, want)
		}
	}
	r.stop(t)
	if got := len(tokens.calls()); got != 1 {
		t.Errorf("token source called %d times for 5 deliveries, want 1", got)
	}
}

func TestTokenFailureRetriesWithoutDeadLettering(t *testing.T) {
	t.Parallel()
	ps := newPubsub(t)
	ep := newEndpoint(t, always(204))
	var calls atomic.Int64
	failFirst := func(_ context.Context, audience string) (string, error) {
		if calls.Add(1) == 1 {
			return "", errSentinel
		}
		return testToken(audience), nil
	}
	logger, logs := newLogger(t)
	id := ps.publish("m", nil)
	r := start(t, ps, Config{Endpoint: ep.srv.URL, Tokens: failFirst, MaxAttempts: 1, Logger: logger}, (&noWait{}).install)
	req := ep.next(t)
	r.stop(t)

	if got := decodeEnvelope(t, req.body).DeliveryAttempt; got != 2 {
		t.Errorf("deliveryAttempt %d, want 2 (the failed token counts as an attempt)", got)
	}
	if m := ps.message(t, id); m.Acks != 1 {
		t.Errorf("server: acks %d, want 1", m.Acks)
	}
	if got, want := r.d.Stats(), (Stats{Delivered: 1, Acked: 1, Nacked: 1}); got != want {
		t.Errorf("Stats() = %+v, want %+v", got, want)
	}
	if errs := errorLines(t, logs.String()); len(errs) != 0 {
		t.Errorf("ERROR lines for a token failure: %v", errs)
	}
}
