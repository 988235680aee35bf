package dispatch

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"cloud.google.com/go/pubsub/v2"
)

// Defaults of the Config fields left zero. The backoff defaults are those of
// a Pub/Sub subscription's exponential retry policy, the ack deadline that of
// a subscription created without one.
const (
	DefaultMaxConcurrent = 16
	DefaultAckDeadline   = 10 * time.Second
	DefaultMinBackoff    = 10 * time.Second
	DefaultMaxBackoff    = 600 * time.Second

	// DefaultDeadLetterTimeout bounds one publish to the dead-letter topic.
	DefaultDeadLetterTimeout = 30 * time.Second
)

// UserAgent is the User-Agent of every push request, the one Pub/Sub push
// requests are seen to carry.
const UserAgent = "APIs-Google; (+https://developers.google.com/webmasters/APIs-Google.html)"

// Config configures a Dispatcher. Only Subscriber and Endpoint are required.
type Config struct {
	// Subscriber pulls the messages to deliver: client.Subscriber(id) of a
	// *pubsub.Client connected to pstest, the emulator or Pub/Sub. Its
	// ReceiveSettings are the caller's; MaxOutstandingMessages (default 1000)
	// bounds how many messages are held at once, including those waiting
	// for a retry, and should not be below MaxConcurrent.
	Subscriber *pubsub.Subscriber

	// Subscription is the full subscription name written into deliveries
	// ("projects/p/subscriptions/s"). "" → Subscriber.String().
	Subscription string

	// Endpoint is the absolute http(s) URL every message is POSTed to.
	Endpoint string

	// Audience is the audience the token is asked for. "" → Endpoint, as
	// for a push subscription created without an audience.
	Audience string

	// Tokens gives the bearer token of each request. nil: no Authorization
	// header is sent (for an endpoint without authentication). Wrap a
	// source that mints on every call in CachedTokenSource.
	Tokens TokenSource

	// Unwrapped sends the message data as the body instead of the JSON
	// envelope (payload unwrapping).
	Unwrapped bool

	// WriteMetadata, with Unwrapped, adds the x-goog-pubsub-* metadata
	// headers and one header per attribute. Without it an unwrapped request
	// carries the data only, as with Pub/Sub.
	WriteMetadata bool

	// MaxConcurrent bounds the push requests in flight. 0 → 16.
	MaxConcurrent int

	// AckDeadline is how long one push request may take, token included;
	// past it the attempt fails. 0 → 10s.
	AckDeadline time.Duration

	// MinBackoff and MaxBackoff bound the wait before a failed message is
	// offered again: MinBackoff after the first failed attempt, doubling
	// after each further one, never more than MaxBackoff. 0 → 10s and 600s.
	MinBackoff, MaxBackoff time.Duration

	// MaxAttempts is the number of failed attempts after which a message is
	// dead-lettered: logged at ERROR, published to DeadLetter when one is
	// given, and acknowledged. 0: retried for ever. An attempt that failed
	// before sending (Tokens failed) counts towards the attempt number but
	// never dead-letters: the fault is the dispatcher's, not the message's.
	MaxAttempts int

	// DeadLetter, when not nil, receives each dead-lettered message with its
	// attributes and Pub/Sub's CloudPubSubDeadLetter* attributes added.
	DeadLetter *pubsub.Publisher

	// HTTPClient sends the push requests. nil → a client of its own with
	// keep-alive connections that does not follow redirects (a redirect is
	// not an acknowledgement). The per-request deadline is AckDeadline
	// either way.
	HTTPClient *http.Client

	// Logger receives the dispatcher's logs; tokens are never logged.
	// nil → discard.
	Logger *slog.Logger

	// Report, when not nil, is called once per delivery attempt as it is
	// settled (acknowledged, to be retried, or dead-lettered), from the
	// goroutine that delivered it; it must be safe for concurrent use and
	// must not block.
	Report func(Delivery)
}

// withDefaults returns cfg with its zero fields filled in.
func (cfg Config) withDefaults() Config {
	if cfg.Subscription == "" && cfg.Subscriber != nil {
		cfg.Subscription = cfg.Subscriber.String()
	}
	if cfg.Audience == "" {
		cfg.Audience = cfg.Endpoint
	}
	if cfg.MaxConcurrent == 0 {
		cfg.MaxConcurrent = DefaultMaxConcurrent
	}
	if cfg.AckDeadline == 0 {
		cfg.AckDeadline = DefaultAckDeadline
	}
	if cfg.MinBackoff == 0 {
		cfg.MinBackoff = DefaultMinBackoff
	}
	if cfg.MaxBackoff == 0 {
		cfg.MaxBackoff = max(DefaultMaxBackoff, cfg.MinBackoff)
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return cfg
}

// validate reports every problem of a defaulted cfg at once.
func (cfg Config) validate() error {
	var errs []error
	if cfg.Subscriber == nil {
		errs = append(errs, errors.New("a Subscriber is required"))
	}
	if err := checkEndpoint(cfg.Endpoint); err != nil {
		errs = append(errs, err)
	}
	if cfg.WriteMetadata && !cfg.Unwrapped {
		errs = append(errs, errors.New("WriteMetadata needs Unwrapped"))
	}
	if cfg.MaxConcurrent < 0 {
		errs = append(errs, fmt.Errorf("MaxConcurrent %d is negative", cfg.MaxConcurrent))
	}
	if cfg.AckDeadline < 0 {
		errs = append(errs, fmt.Errorf("AckDeadline %v is negative", cfg.AckDeadline))
	}
	if cfg.MinBackoff < 0 || cfg.MaxBackoff < 0 {
		errs = append(errs, fmt.Errorf("backoff %v..%v is negative", cfg.MinBackoff, cfg.MaxBackoff))
	} else if cfg.MinBackoff > cfg.MaxBackoff {
		errs = append(errs, fmt.Errorf("MinBackoff %v is above MaxBackoff %v", cfg.MinBackoff, cfg.MaxBackoff))
	}
	if cfg.MaxAttempts < 0 {
		errs = append(errs, fmt.Errorf("MaxAttempts %d is negative", cfg.MaxAttempts))
	}
	if len(errs) == 0 {
		return nil
	}
	return fmt.Errorf("dispatch: invalid config: %w", errors.Join(errs...))
}

func checkEndpoint(endpoint string) error {
	if endpoint == "" {
		return errors.New("an Endpoint is required")
	}
	u, err := url.Parse(endpoint)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		// The URL itself is not repeated: it may carry a secret.
		return errors.New("the Endpoint is not an absolute http(s) URL")
	}
	return nil
}

// redactedEndpoint is the endpoint as it may be logged: without user
// information or query, either of which may hold a secret.
func redactedEndpoint(endpoint string) string {
	u, err := url.Parse(endpoint)
	if err != nil {
		return ""
	}
	u.User = nil
	u.RawQuery = ""
	u.Fragment = ""
	return u.String()
}
