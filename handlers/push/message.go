package push

import (
	"errors"
	"log/slog"
	"time"
)

// Form says in which shape a delivery reached the service.
type Form string

const (
	// FormWrapped is Pub/Sub's default push body: a JSON envelope
	// {"message":{...},"subscription":...} whose data is base64.
	FormWrapped Form = "wrapped"
	// FormUnwrapped is a push subscription with payload unwrapping: the body
	// is the raw message data and the metadata arrives in x-goog-pubsub-*
	// headers (when "write metadata" is on).
	FormUnwrapped Form = "unwrapped"
	// FormEventarc is an Eventarc CloudEvent in binary mode (ce-* headers)
	// whose body is the wrapped envelope.
	FormEventarc Form = "eventarc"
)

// ErrMalformed is wrapped by every error Decode returns for a request that is
// not a valid delivery. The text after its prefix is a short reason that is
// safe to show the caller.
var ErrMalformed = errors.New("push: malformed delivery")

// Message is one Pub/Sub message as delivered to the service. Its strings
// and Data are its own, never views of a buffer that is used again, so a
// handler may keep any of them.
type Message struct {
	// ID is the Pub/Sub message ID; it is never empty. Deliveries of one
	// message share it, so it is the de-duplication key.
	ID string
	// Data is the message payload, already base64-decoded. It may be empty.
	// It is this delivery's own: the push package never writes to it or
	// reuses it once decoded, so a handler may keep it (as long as nothing
	// else around the handler changes it).
	Data []byte
	// Attributes are the message's attributes; nil or empty when there are
	// none.
	// For FormUnwrapped they come from the request's headers (see Decode).
	Attributes map[string]string
	// PublishTime is when Pub/Sub accepted the message; zero if not sent.
	PublishTime time.Time
	// OrderingKey is the message's ordering key, if any.
	OrderingKey string
	// Subscription is the full subscription name
	// (projects/<p>/subscriptions/<s>), if the delivery carries it.
	Subscription string
	// DeliveryAttempt counts deliveries of the message; Pub/Sub sends it
	// only for subscriptions with a dead-letter policy, else it is 0.
	DeliveryAttempt int
	// Form is the shape the delivery arrived in.
	Form Form
}

// LogValue lists the message's metadata for logs: ID, subscription,
// delivery attempt and form. It never includes the data or attributes,
// which may hold personal or secret values.
func (m *Message) LogValue() slog.Value {
	if m == nil {
		return slog.Value{}
	}
	return slog.GroupValue(
		slog.String("id", m.ID),
		slog.String("subscription", m.Subscription),
		slog.Int("attempt", m.DeliveryAttempt),
		slog.String("form", string(m.Form)),
	)
}
