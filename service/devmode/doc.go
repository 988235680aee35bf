// Package devmode holds the reusable parts of pushgate's dev mode: the mode
// `go run .` falls into when no auth provider is configured and the process is
// not on Cloud Run (K_SERVICE unset).
//
// Dev mode gives a working service with no cloud account:
//
//   - local RSA signing keys kept on disk ([KeyDir], [LoadOrCreateKeys]), one
//     standing in for Google's token keys and one for a Clerk instance's;
//   - tokens of the production shapes minted with them ([Keys.ServiceToken],
//     [Keys.UserToken]) and the `token` subcommand that prints one
//     ([TokenCommand]);
//   - an in-process Pub/Sub fake with a topic and a pull subscription for the
//     push loop ([StartPubSub]);
//   - the start-up how-to ([HowTo]).
//
// Dev tokens are verified by the same authn code and rules as production
// tokens (issuer, audience, email, azp, expiry); only the key source differs:
// the service installs [Keys.GoogleKeySet] and [Keys.ClerkKeySet] as the
// Keys override of authn.GoogleConfig and authn.ClerkConfig.
//
// Safety: the dev keys are trusted only through those static key sets, and
// only the dev-mode branch of the service's start-up installs them. Production
// configuration (any provider configured, or K_SERVICE set) never reads the
// key directory and never uses these key sets, so a token minted here is
// rejected by a deployed service: its kid names no Google or Clerk key, and
// its issuer ([ClerkIssuer]) or audience ([Audience]) is not the deployed one.
// The private keys never leave the key directory: [Keys] redacts itself in
// logs, and [TokenCommand] prints only the token it was asked for.
package devmode

import "time"

// Dev-mode names and defaults, shared by the dev-mode wiring of the service,
// the push loop and the tests.
const (
	// Project is the dev-mode Google Cloud project ID: service principals'
	// emails must end with "@local-dev.iam.gserviceaccount.com".
	Project = "local-dev"
	// PushServiceAccount is the service account whose tokens the dev push
	// loop sends, like a push subscription's OIDC service account.
	PushServiceAccount = "pubsub-push@local-dev.iam.gserviceaccount.com"
	// ClerkIssuer is the iss of dev user tokens, standing in for a Clerk
	// instance's Frontend API URL.
	ClerkIssuer = "https://clerk.pushgate.localhost"
	// Topic is the ID of the dev topic that POST /api/events publishes to.
	Topic = "events"
	// Subscription is the ID of the dev pull subscription the push loop
	// reads from.
	Subscription = "events-push"
	// DefaultPort is the port used when PORT is unset, as in production.
	DefaultPort = "8080"
	// TokenTTL is how long tokens printed by the token subcommand live.
	TokenTTL = time.Hour
)

// Audience returns the dev-mode audience of service tokens for a service
// listening on port: its URL "http://127.0.0.1:<port>". As in production, the
// service's own URL is the audience.
func Audience(port string) string {
	return "http://127.0.0.1:" + port
}
