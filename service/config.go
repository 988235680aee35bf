package service

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cloudrun-authn/pushgate/authn"
	"github.com/cloudrun-authn/pushgate/service/devmode"
)

// Config is every setting of the service, read once at start-up from the
// environment variables of the contract (see README, "Configuration").
type Config struct {
	Port    string // PORT
	Project string // GOOGLE_CLOUD_PROJECT

	GoogleAudiences     []string // AUTH_GOOGLE_AUDIENCES; non-empty turns Google auth on
	GoogleAllowedEmails []string // AUTH_GOOGLE_ALLOWED_EMAILS
	GoogleCertsURL      string   // AUTH_GOOGLE_CERTS_URL

	ClerkSecretKey         Secret   // CLERK_SECRET_KEY
	ClerkAPIURL            string   // CLERK_API_URL
	ClerkJWTKey            string   // CLERK_JWT_KEY (a public key; not secret)
	ClerkIssuer            string   // CLERK_ISSUER, or derived from CLERK_PUBLISHABLE_KEY
	ClerkPublishableKey    string   // CLERK_PUBLISHABLE_KEY
	ClerkAuthorizedParties []string // CLERK_AUTHORIZED_PARTIES

	ClockSkew time.Duration // AUTH_CLOCK_SKEW

	OIDCProviders          []authn.OIDCProvider // AUTH_OIDC_PROVIDERS
	GatewayServiceAccounts []string             // AUTH_GATEWAY_SERVICE_ACCOUNTS

	PubSubTopic        string   // PUBSUB_TOPIC
	PubSubEmulatorHost string   // PUBSUB_EMULATOR_HOST
	CORSAllowedOrigins []string // CORS_ALLOWED_ORIGINS
	DedupRedisURL      Secret   // DEDUP_REDIS_URL (may carry a password)
	KService           string   // K_SERVICE, set by Cloud Run

	// Telemetry is what the service reads of the OTEL_* variables.
	Telemetry TelemetryConfig

	// AccessLog says which responses get an access line (ACCESS_LOG):
	// errors by default, all in dev mode.
	AccessLog AccessLogMode

	// DevKeyDir holds dev mode's signing keys (PUSHGATE_DEV_DIR, else the
	// user's config directory); set in dev mode only.
	DevKeyDir string
}

// Defaults of the contract.
const (
	DefaultPort           = "8080"
	DefaultGoogleCertsURL = "https://www.googleapis.com/oauth2/v3/certs"
	DefaultClerkAPIURL    = "https://api.clerk.com"
	DefaultClockSkew      = 30 * time.Second
	maxClockSkew          = 10 * time.Minute
)

// Secret is a configuration value that must never reach a log line.
type Secret string

// LogValue redacts the secret for log/slog.
func (s Secret) LogValue() slog.Value {
	if s == "" {
		return slog.StringValue("")
	}
	return slog.StringValue("REDACTED")
}

// String redacts the secret for fmt.
func (s Secret) String() string { return s.LogValue().String() }

// GoString redacts the secret for fmt's %#v.
func (s Secret) GoString() string { return `"` + s.String() + `"` }

// MarshalJSON redacts the secret in JSON.
func (s Secret) MarshalJSON() ([]byte, error) { return json.Marshal(s.String()) }

// GoogleOn reports whether Google (service) authentication is configured.
func (c Config) GoogleOn() bool { return len(c.GoogleAudiences) > 0 }

// ClerkOn reports whether Clerk (user) authentication is configured.
func (c Config) ClerkOn() bool {
	return c.ClerkIssuer != "" && (c.ClerkJWTKey != "" || c.ClerkSecretKey != "")
}

// ProviderOn reports whether any auth provider is configured: Google,
// Clerk or an OpenID Connect provider.
func (c Config) ProviderOn() bool { return c.GoogleOn() || c.ClerkOn() || len(c.OIDCProviders) > 0 }

// DevMode reports whether the service runs in dev mode: no provider
// configured and not on Cloud Run.
func (c Config) DevMode() bool { return !c.ProviderOn() && c.KService == "" }

// ConfigError lists every problem found in the environment, each naming its
// variable.
type ConfigError struct{ Problems []string }

func (e *ConfigError) Error() string {
	return "service: configuration: " + strings.Join(e.Problems, "; ")
}

// LoadConfig reads and validates the configuration through getenv. It
// reports every problem at once in a *ConfigError.
func LoadConfig(getenv func(string) string) (Config, error) {
	var problems []string
	bad := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	get := func(name string) string { return strings.TrimSpace(getenv(name)) }

	c := Config{
		Port:                orDefault(get("PORT"), DefaultPort),
		Project:             get("GOOGLE_CLOUD_PROJECT"),
		GoogleAudiences:     splitList(get("AUTH_GOOGLE_AUDIENCES")),
		GoogleAllowedEmails: splitList(get("AUTH_GOOGLE_ALLOWED_EMAILS")),
		GoogleCertsURL:      orDefault(get("AUTH_GOOGLE_CERTS_URL"), DefaultGoogleCertsURL),
		ClerkSecretKey:      Secret(get("CLERK_SECRET_KEY")),
		ClerkAPIURL:         orDefault(get("CLERK_API_URL"), DefaultClerkAPIURL),
		// A PEM key spans lines; keep it whole. Cloud Run users often pass it
		// with literal \n, which we accept too.
		ClerkJWTKey:            strings.ReplaceAll(strings.TrimSpace(getenv("CLERK_JWT_KEY")), `\n`, "\n"),
		ClerkIssuer:            strings.TrimSuffix(get("CLERK_ISSUER"), "/"),
		ClerkPublishableKey:    get("CLERK_PUBLISHABLE_KEY"),
		ClerkAuthorizedParties: splitList(get("CLERK_AUTHORIZED_PARTIES")),
		ClockSkew:              DefaultClockSkew,
		PubSubTopic:            get("PUBSUB_TOPIC"),
		PubSubEmulatorHost:     get("PUBSUB_EMULATOR_HOST"),
		CORSAllowedOrigins:     splitList(get("CORS_ALLOWED_ORIGINS")),
		DedupRedisURL:          Secret(get("DEDUP_REDIS_URL")),
		KService:               get("K_SERVICE"),
		GatewayServiceAccounts: splitList(get("AUTH_GATEWAY_SERVICE_ACCOUNTS")),
	}
	var providerProblems []string
	c.OIDCProviders, providerProblems = oidcProviders(get("AUTH_OIDC_PROVIDERS"))
	problems = append(problems, providerProblems...)
	var telemetryProblems []string
	c.Telemetry, telemetryProblems = telemetryConfig(get, c.Port)
	problems = append(problems, telemetryProblems...)

	if n, err := strconv.Atoi(c.Port); err != nil || n < 0 || n > 65535 {
		bad("PORT: %q is not a TCP port (0-65535)", c.Port)
	}
	accessLog := get("ACCESS_LOG")
	if _, ok := parseAccessLogMode(accessLog); accessLog != "" && !ok {
		bad("ACCESS_LOG: %q is not one of errors, all, off", accessLog)
	}
	if v := get("AUTH_CLOCK_SKEW"); v != "" {
		d, err := time.ParseDuration(v)
		switch {
		case err != nil:
			bad("AUTH_CLOCK_SKEW: %q is not a Go duration such as 30s", v)
		case d < 0 || d > maxClockSkew:
			bad("AUTH_CLOCK_SKEW: %s is outside 0s..%s", d, maxClockSkew)
		default:
			c.ClockSkew = d
		}
	}

	// Google: on when audiences are set; then it needs the project.
	if get("AUTH_GOOGLE_AUDIENCES") != "" && len(c.GoogleAudiences) == 0 {
		bad("AUTH_GOOGLE_AUDIENCES: set, but holds no audience")
	}
	googleSet := anySet(getenv, "AUTH_GOOGLE_ALLOWED_EMAILS", "AUTH_GOOGLE_CERTS_URL")
	switch {
	case c.GoogleOn() && c.Project == "":
		bad("GOOGLE_CLOUD_PROJECT: required when AUTH_GOOGLE_AUDIENCES is set (service-account emails must belong to it)")
	case !c.GoogleOn() && googleSet != "":
		bad("%s: set, but Google auth is off; set AUTH_GOOGLE_AUDIENCES (and GOOGLE_CLOUD_PROJECT) to turn it on", googleSet)
	}
	for _, a := range c.GoogleAudiences {
		if strings.ContainsAny(a, " \t") {
			bad("AUTH_GOOGLE_AUDIENCES: %q contains white space", a)
		}
	}
	for _, e := range c.GoogleAllowedEmails {
		if strings.Count(e, "@") != 1 || strings.HasPrefix(e, "@") || strings.HasSuffix(e, "@") {
			bad("AUTH_GOOGLE_ALLOWED_EMAILS: %q is not an email address", e)
		}
	}
	if c.Project != "" && !validProjectID(c.Project) {
		bad("GOOGLE_CLOUD_PROJECT: %q is not a project ID (lower-case letters, digits and hyphens)", c.Project)
	}
	checkURL(&problems, "AUTH_GOOGLE_CERTS_URL", c.GoogleCertsURL)

	// Clerk: on with an issuer and a key source.
	if c.ClerkPublishableKey != "" {
		iss, err := authn.IssuerFromPublishableKey(c.ClerkPublishableKey)
		switch {
		case err != nil:
			bad("CLERK_PUBLISHABLE_KEY: not a Clerk publishable key (pk_test_… or pk_live_…)")
		case c.ClerkIssuer == "":
			c.ClerkIssuer = iss
		case c.ClerkIssuer != iss:
			bad("CLERK_ISSUER: differs from the issuer of CLERK_PUBLISHABLE_KEY (%s); set one of them, or make them agree", iss)
		}
	}
	if c.ClerkIssuer != "" {
		if u, err := url.Parse(c.ClerkIssuer); err != nil || u.Scheme != "https" || u.Host == "" || (u.Path != "" && u.Path != "/") {
			bad("CLERK_ISSUER: not an https origin such as https://clerk.example.com")
		}
	}
	issuerSet := c.ClerkIssuer != "" || c.ClerkPublishableKey != ""
	keySet := c.ClerkJWTKey != "" || c.ClerkSecretKey != ""
	switch {
	case issuerSet && !keySet:
		bad("CLERK_JWT_KEY or CLERK_SECRET_KEY: required when CLERK_ISSUER or CLERK_PUBLISHABLE_KEY is set")
	case keySet && !issuerSet:
		bad("CLERK_ISSUER or CLERK_PUBLISHABLE_KEY: required when CLERK_JWT_KEY or CLERK_SECRET_KEY is set")
	case !issuerSet && !keySet:
		if v := anySet(getenv, "CLERK_AUTHORIZED_PARTIES", "CLERK_API_URL"); v != "" {
			bad("%s: set, but Clerk auth is off; set an issuer (CLERK_ISSUER or CLERK_PUBLISHABLE_KEY) and a key (CLERK_JWT_KEY or CLERK_SECRET_KEY)", v)
		}
	}
	if c.ClerkJWTKey != "" {
		if _, err := authn.ParseRSAPublicKeyPEM(c.ClerkJWTKey); err != nil {
			bad("CLERK_JWT_KEY: not a PEM-encoded RSA public key")
		}
	}
	if c.ClerkSecretKey != "" && !strings.HasPrefix(string(c.ClerkSecretKey), "sk_") {
		bad("CLERK_SECRET_KEY: not a Clerk secret key (sk_test_… or sk_live_…)")
	}
	checkURL(&problems, "CLERK_API_URL", c.ClerkAPIURL)
	for _, o := range c.ClerkAuthorizedParties {
		if !validOrigin(o) {
			bad("CLERK_AUTHORIZED_PARTIES: %q is not an origin such as https://app.example.com", o)
		}
	}

	for _, o := range c.CORSAllowedOrigins {
		if o != "*" && !validOrigin(o) {
			bad("CORS_ALLOWED_ORIGINS: %q is not an origin such as https://app.example.com", o)
		}
	}
	if c.PubSubTopic != "" {
		if strings.Contains(c.PubSubTopic, "/") {
			bad("PUBSUB_TOPIC: %q must be a topic ID, not a path; the project is GOOGLE_CLOUD_PROJECT", c.PubSubTopic)
		}
		if c.Project == "" && !c.DevMode() {
			bad("GOOGLE_CLOUD_PROJECT: required when PUBSUB_TOPIC is set")
		}
	}
	if c.DedupRedisURL != "" {
		// Parsed as the store will parse it, without a network call; the
		// error is not quoted, as it may hold the password.
		if u, err := url.Parse(string(c.DedupRedisURL)); err != nil || (u.Scheme != "redis" && u.Scheme != "rediss") || u.Host == "" {
			bad("DEDUP_REDIS_URL: not a redis:// or rediss:// URL")
		} else if _, err := redis.ParseURL(string(c.DedupRedisURL)); err != nil {
			bad("DEDUP_REDIS_URL: not a usable Redis URL (check the database number and options)")
		}
	}

	problems = append(problems, gatewayProblems(c)...)
	problems = append(problems, devTelemetryProblems(c)...)
	if !c.ProviderOn() && c.KService != "" && len(problems) == 0 {
		bad("AUTH_GOOGLE_AUDIENCES, CLERK_ISSUER or AUTH_OIDC_PROVIDERS: no auth provider is configured and K_SERVICE is set; " +
			"dev mode never runs on Cloud Run, so configure Google, Clerk or an OpenID Connect provider")
	}
	c.AccessLog, _ = parseAccessLogMode(accessLog)
	if accessLog == "" && c.DevMode() {
		c.AccessLog = AccessLogAll // a person watching the terminal sees every request
	}
	if c.DevMode() && len(problems) == 0 {
		dir, err := devmode.KeyDir(getenv)
		if err != nil {
			bad("%s: %v", devmode.DirEnv, err)
		}
		c.DevKeyDir = dir
	}
	if len(problems) > 0 {
		return Config{}, &ConfigError{Problems: problems}
	}
	return c, nil
}

func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

// splitList splits a comma-separated list, dropping empty items.
func splitList(v string) []string {
	var out []string
	for _, item := range strings.Split(v, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}

// anySet returns the first of names that is set, or "".
func anySet(getenv func(string) string, names ...string) string {
	for _, n := range names {
		if strings.TrimSpace(getenv(n)) != "" {
			return n
		}
	}
	return ""
}

// checkURL accepts https URLs, and http ones to a loopback host only (local
// stand-ins in tests): keys fetched, or a secret sent, in the clear could
// be forged or read on the way.
func checkURL(problems *[]string, name, v string) {
	u, err := url.Parse(v)
	switch {
	case err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http"):
		*problems = append(*problems, fmt.Sprintf("%s: %q is not an https URL", name, v))
	case u.Scheme == "http" && !loopbackHost(u.Hostname()):
		*problems = append(*problems, fmt.Sprintf("%s: %q must use https (http only to a loopback address)", name, v))
	}
}

// loopbackHost reports whether host is localhost or a loopback IP.
func loopbackHost(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// validOrigin reports whether o is scheme://host[:port] with nothing after.
func validOrigin(o string) bool {
	u, err := url.Parse(o)
	return err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != "" &&
		u.Path == "" && u.RawQuery == "" && u.Fragment == "" && u.User == nil
}

// validProjectID accepts project IDs, including legacy domain-scoped ones
// such as example.com:my-project.
func validProjectID(p string) bool {
	if len(p) < 6 || len(p) > 63 {
		return false
	}
	for _, r := range p {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '.' || r == ':') {
			return false
		}
	}
	return true
}
