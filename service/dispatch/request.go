package dispatch

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"cloud.google.com/go/pubsub/v2"
)

// Header names of an unwrapped delivery written with metadata.
const (
	HeaderMessageID    = "X-Goog-Pubsub-Message-Id"
	HeaderPublishTime  = "X-Goog-Pubsub-Publish-Time"
	HeaderSubscription = "X-Goog-Pubsub-Subscription-Name"
	HeaderOrderingKey  = "X-Goog-Pubsub-Ordering-Key"
)

// envelope is the wrapped push body. Pub/Sub writes the message ID and the
// publish time in both camelCase and snake_case; so does the dispatcher.
// deliveryAttempt is always written: the dispatcher always counts attempts,
// as Pub/Sub does for a subscription with a dead-letter policy.
type envelope struct {
	Message         envelopeMessage `json:"message"`
	Subscription    string          `json:"subscription"`
	DeliveryAttempt int             `json:"deliveryAttempt"`
}

type envelopeMessage struct {
	Data             string            `json:"data"` // standard base64
	Attributes       map[string]string `json:"attributes,omitempty"`
	MessageID        string            `json:"messageId"`
	MessageIDSnake   string            `json:"message_id"`
	PublishTime      string            `json:"publishTime"`
	PublishTimeSnake string            `json:"publish_time"`
	OrderingKey      string            `json:"orderingKey,omitempty"`
}

// formatTime is the publish time as Pub/Sub writes it: RFC 3339 in UTC.
func formatTime(t time.Time) string {
	return t.UTC().Format(time.RFC3339Nano)
}

// newRequest builds the push request for m's attempt, without Authorization.
func (d *Dispatcher) newRequest(ctx context.Context, m *pubsub.Message, attempt int) (*http.Request, error) {
	var body []byte
	if d.cfg.Unwrapped {
		body = m.Data
	} else {
		env := envelope{
			Message: envelopeMessage{
				Data:             base64.StdEncoding.EncodeToString(m.Data),
				Attributes:       m.Attributes,
				MessageID:        m.ID,
				MessageIDSnake:   m.ID,
				PublishTime:      formatTime(m.PublishTime),
				PublishTimeSnake: formatTime(m.PublishTime),
				OrderingKey:      m.OrderingKey,
			},
			Subscription:    d.cfg.Subscription,
			DeliveryAttempt: attempt,
		}
		var err error
		if body, err = json.Marshal(env); err != nil {
			return nil, fmt.Errorf("dispatch: encode envelope: %w", err)
		}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.cfg.Endpoint, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("dispatch: new request: %w", err)
	}
	h := req.Header
	h.Set("User-Agent", UserAgent)
	switch {
	case !d.cfg.Unwrapped:
		h.Set("Content-Type", "application/json")
	case d.cfg.WriteMetadata:
		for k, v := range m.Attributes {
			if attributeHeaderAllowed(k, v) {
				h.Set(k, v)
			} else {
				d.log.Debug("dispatch: attribute not written as a header", "message_id", m.ID, "attribute", k)
			}
		}
		h.Set(HeaderSubscription, d.cfg.Subscription)
		h.Set(HeaderMessageID, m.ID)
		h.Set(HeaderPublishTime, formatTime(m.PublishTime))
		if m.OrderingKey != "" {
			h.Set(HeaderOrderingKey, m.OrderingKey)
		}
	}
	return req, nil
}

// reservedHeader reports whether the canonical header name ck may not be set
// from a message attribute: it would replace the dispatcher's credentials or
// identity, or break the HTTP framing.
func reservedHeader(ck string) bool {
	switch ck {
	case "Authorization", "Proxy-Authorization", "Cookie", "Host", "User-Agent",
		"Content-Length", "Transfer-Encoding", "Connection", "Keep-Alive",
		"Upgrade", "Te", "Trailer", "Expect":
		return true
	}
	return strings.HasPrefix(ck, "X-Goog-Pubsub-")
}

// attributeHeaderAllowed reports whether the attribute k=v may be written as
// a header: k is a valid header name that is neither reserved nor one of the
// x-goog-pubsub-* metadata headers, and v holds no control character.
func attributeHeaderAllowed(k, v string) bool {
	if !validHeaderName(k) {
		return false
	}
	ck := http.CanonicalHeaderKey(k)
	if reservedHeader(ck) {
		return false
	}
	for i := 0; i < len(v); i++ {
		if c := v[i]; (c < ' ' && c != '\t') || c == 0x7f {
			return false
		}
	}
	return true
}

// validHeaderName reports whether k is an RFC 9110 token.
func validHeaderName(k string) bool {
	if k == "" {
		return false
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}
