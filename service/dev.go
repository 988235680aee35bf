package service

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/cloudrun-authn/pushgate/authn"
	"github.com/cloudrun-authn/pushgate/service/devmode"
	"github.com/cloudrun-authn/pushgate/service/dispatch"
)

// Dev mode's push loop: quick retries so a person sees a failing handler
// retried within seconds, dead-lettered (logged) after five attempts.
const (
	devMinBackoff  = time.Second
	devMaxBackoff  = 30 * time.Second
	devMaxAttempts = 5
	devConcurrency = 8
)

// devStack is what dev mode runs beside the server: local keys, an
// in-process Pub/Sub and the push loop that delivers its messages to our own
// /pubsub/push with Google-shaped tokens.
type devStack struct {
	logger    *slog.Logger
	keys      *devmode.Keys
	pubsub    *devmode.PubSub
	publisher *Publisher
	audience  string
	port      string
	devConsole

	mu       sync.Mutex
	disp     *dispatch.Dispatcher // nil until the push loop starts
	stopLoop context.CancelFunc
	loopDone chan struct{}
}

// startDev loads (or creates) the dev keys, points the authenticator at them
// with production's rules, and starts the in-process Pub/Sub.
func startDev(ctx context.Context, cfg Config, port string, logger *slog.Logger, ac *authn.Config) (*devStack, error) {
	keys, err := devmode.LoadOrCreateKeys(cfg.DevKeyDir)
	if err != nil {
		return nil, fmt.Errorf("service: dev mode keys: %w", err)
	}
	d := &devStack{logger: logger, keys: keys, audience: devmode.Audience(port), port: port}
	ac.Logger = d.startConsole(ac.Logger)
	devAuth(cfg, keys, d.audience, ac)
	topic := cfg.PubSubTopic
	if topic == "" {
		topic = devmode.Topic
	}
	ps, err := devmode.StartPubSub(ctx, devmode.Project, topic, devmode.Subscription)
	if err != nil {
		return nil, fmt.Errorf("service: dev mode pubsub: %w", err)
	}
	d.pubsub = ps
	d.publisher = NewPublisherFrom(ps.Publisher())

	logger.Warn("DEV MODE: no auth provider is configured and K_SERVICE is unset, so the service "+
		"serves on 127.0.0.1 only, trusts local signing keys and uses an in-process Pub/Sub. "+
		"Set AUTH_GOOGLE_AUDIENCES, CLERK_* or AUTH_OIDC_PROVIDERS to run in production configuration.",
		"keyDir", cfg.DevKeyDir, "audience", d.audience, "project", devmode.Project,
		"topic", ps.Topic, "subscription", ps.Subscription)
	return d, nil
}

// devAuth points the authenticator at dev mode's local keys, with
// production's rules: Google's for services (audience the local service
// URL), Clerk's for users.
func devAuth(cfg Config, keys *devmode.Keys, audience string, ac *authn.Config) {
	ac.Google = &authn.GoogleConfig{
		Audiences: []string{audience},
		ProjectID: devmode.Project,
		Keys:      keys.GoogleKeySet(),
	}
	ac.Clerk = &authn.ClerkConfig{
		Issuer:            devmode.ClerkIssuer,
		Keys:              keys.ClerkKeySet(),
		AuthorizedParties: append([]string{audience}, cfg.CORSAllowedOrigins...),
	}
}

// StartPushLoop delivers the subscription's messages to endpoint until
// StopPushLoop.
func (d *devStack) StartPushLoop(ctx context.Context, endpoint string) {
	tokens := dispatch.CachedTokenSource(func(ctx context.Context, audience string) (string, error) {
		return d.keys.ServiceToken(audience, devmode.PushServiceAccount, time.Now(), devmode.TokenTTL)
	}, devmode.TokenTTL-5*time.Minute)
	disp, err := dispatch.New(dispatch.Config{
		Subscriber:    d.pubsub.Subscriber(),
		Subscription:  d.pubsub.Subscription,
		Endpoint:      endpoint,
		Audience:      d.audience,
		Tokens:        tokens,
		MaxConcurrent: devConcurrency,
		MinBackoff:    devMinBackoff,
		MaxBackoff:    devMaxBackoff,
		MaxAttempts:   devMaxAttempts,
		Logger:        d.logger.With("component", "push-loop"),
		Report:        d.deliveries.Add,
	})
	if err != nil {
		d.logger.Error("dev mode push loop not started", "error", err)
		return
	}
	loopCtx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	d.mu.Lock()
	d.stopLoop, d.loopDone, d.disp = cancel, done, disp
	d.mu.Unlock()
	go func() {
		defer close(done)
		if err := disp.Run(loopCtx); err != nil {
			d.logger.Error("dev mode push loop stopped", "error", err)
		}
	}()
	for _, line := range devmode.HowTo(d.port) {
		d.logger.Info(line.Command, "howto", line.Step)
	}
}

// StopPushLoop stops the push loop and waits for its deliveries to end. It
// ends the console's streams too, so that the server can drain.
func (d *devStack) StopPushLoop() {
	d.console.Close()
	d.mu.Lock()
	stop, done := d.stopLoop, d.loopDone
	d.stopLoop = nil
	d.mu.Unlock()
	if stop != nil {
		stop()
		<-done
	}
}

// Close stops the push loop and the in-process Pub/Sub.
func (d *devStack) Close() {
	d.StopPushLoop()
	if err := d.pubsub.Close(); err != nil {
		d.logger.Warn("stopping the in-process Pub/Sub", "error", err)
	}
}
