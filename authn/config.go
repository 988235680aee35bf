package authn

import (
	"log/slog"
	"net/http"
	"time"

	"go.opentelemetry.io/otel/metric"
)

// Defaults applied by New.
const (
	// DefaultClockSkew is the leeway applied to exp, nbf and iat.
	DefaultClockSkew = 30 * time.Second
	// NoClockSkew, as Config.ClockSkew, applies no leeway at all (the zero
	// value means the default).
	NoClockSkew time.Duration = -1
	// DefaultTokenCacheSize bounds the verified-token cache.
	DefaultTokenCacheSize = 10000
	// DefaultGoogleCertsURL is Google's JWKS of OIDC ID token signing keys.
	DefaultGoogleCertsURL = "https://www.googleapis.com/oauth2/v3/certs"
	// DefaultClerkAPIURL is Clerk's Backend API.
	DefaultClerkAPIURL = "https://api.clerk.com"
	// MaxTokenBytes is the largest token accepted; longer ones are refused
	// before any parsing.
	MaxTokenBytes = 16 << 10
	// SessionCookie is the cookie Clerk keeps a same-origin session token in.
	SessionCookie = "__session"
)

// Config configures an Authenticator. The zero value of every field but
// Google, Clerk and Providers has a sensible default; at least one
// provider is needed.
type Config struct {
	// Google turns on service (Google OIDC ID token) authentication. Nil: off.
	Google *GoogleConfig
	// Clerk turns on user (Clerk session token) authentication. Nil: off.
	Clerk *ClerkConfig
	// Providers are OpenID Connect providers of users (AUTH_OIDC_PROVIDERS).
	Providers []OIDCProvider
	// GatewayServiceAccounts are the emails of the service accounts of API
	// gateways in front of the service (AUTH_GATEWAY_SERVICE_ACCOUNTS): a
	// Google token of one of them may carry the caller's token in
	// X-Forwarded-Authorization. Needs Google.
	GatewayServiceAccounts []string
	// ClockSkew is the leeway applied to exp, nbf and iat. 0 → 30s;
	// NoClockSkew → none.
	ClockSkew time.Duration
	// TokenCacheSize bounds the number of verified tokens remembered by
	// their SHA-256. 0 → 10000; negative → no cache (every request pays
	// for a full verification).
	TokenCacheSize int
	// HTTPClient fetches key sets. Nil → a client with a 10 s timeout.
	HTTPClient *http.Client
	// Logger receives one line per refusal and key fetch problem. Nil → discard.
	Logger *slog.Logger
	// MeterProvider receives the pushgate.auth.decisions,
	// pushgate.keys.fetches and pushgate.token_cache.lookups counters.
	// Nil → none are recorded.
	MeterProvider metric.MeterProvider
	// Now is the clock. Nil → time.Now.
	Now func() time.Time
}

// GoogleConfig holds the Google rules of the contract.
type GoogleConfig struct {
	// Audiences: a token's aud (string, or an array with a member) must
	// equal one of them. Required.
	Audiences []string
	// ProjectID: a token's email must end with
	// "@<ProjectID>.iam.gserviceaccount.com", or be in AllowedEmails. Required.
	ProjectID string
	// AllowedEmails are exact emails accepted besides the project's service accounts.
	AllowedEmails []string
	// CertsURL is the JWKS of Google's signing keys. "" → DefaultGoogleCertsURL.
	CertsURL string
	// Keys, when set, replaces the key set at CertsURL (dev mode's local
	// keys, tests). Escape hatch: production leaves it nil.
	Keys *KeySet
}

// ClerkConfig holds the Clerk rules of the contract. Its LogValue and
// String redact SecretKey, so the config may be logged.
type ClerkConfig struct {
	// Issuer is the exact iss of the instance's session tokens (its Frontend
	// API URL, see IssuerFromPublishableKey). Required.
	Issuer string
	// JWTKeyPEM is Clerk's PEM public key (CLERK_JWT_KEY): verification with
	// no network call. Takes precedence over SecretKey.
	JWTKeyPEM string
	// SecretKey authenticates the JWKS fetch from ${APIURL}/v1/jwks. Secret.
	SecretKey string
	// APIURL is Clerk's Backend API base URL. "" → DefaultClerkAPIURL.
	APIURL string
	// AuthorizedParties are the origins accepted in azp. A token whose azp
	// is present and not listed is refused; a __session cookie token on
	// POST, PUT, PATCH or DELETE must carry a listed azp.
	AuthorizedParties []string
	// Keys, when set, replaces JWTKeyPEM and the JWKS (dev mode, tests).
	Keys *KeySet
}

// LogValue implements slog.LogValuer, redacting the secret key.
func (c ClerkConfig) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("issuer", c.Issuer),
		slog.String("api_url", c.APIURL),
		slog.Bool("jwt_key_set", c.JWTKeyPEM != ""),
		slog.Any("secret_key", Secret(c.SecretKey)),
		slog.Any("authorized_parties", c.AuthorizedParties),
		slog.Bool("keys_override", c.Keys != nil),
	)
}

// String implements fmt.Stringer, redacting the secret key.
func (c ClerkConfig) String() string {
	return "ClerkConfig{Issuer:" + c.Issuer + " APIURL:" + c.APIURL +
		" SecretKey:" + Secret(c.SecretKey).String() + "}"
}

// GoString implements fmt.GoStringer, redacting the secret key.
func (c ClerkConfig) GoString() string { return c.String() }

// Secret is a string that never prints: its String, GoString and LogValue
// show only whether it is set.
type Secret string

const redacted = "[REDACTED]"

// String implements fmt.Stringer.
func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return redacted
}

// GoString implements fmt.GoStringer.
func (s Secret) GoString() string { return s.String() }

// LogValue implements slog.LogValuer.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.String()) }
