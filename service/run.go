package service

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/cloudrun-authn/pushgate/authn"
	"github.com/cloudrun-authn/pushgate/handlers"
	"github.com/cloudrun-authn/pushgate/handlers/push"
	"github.com/cloudrun-authn/pushgate/service/devmode"
)

// Server timeouts: a slow client cannot hold a connection open by trickling
// headers or a body, and idle keep-alive connections (Pub/Sub and browsers
// reuse them) are closed after two minutes.
const (
	readHeaderTimeout = 10 * time.Second
	readTimeout       = 60 * time.Second // a 16 MiB push body at 2 Mbit/s
	writeTimeout      = 60 * time.Second
	idleTimeout       = 120 * time.Second
	// An unwrapped push carries each attribute as a header: up to 100 of
	// 256-byte keys and 1 KiB values. Tokens are at most 16 KiB.
	maxHeaderBytes = 256 << 10

	// ShutdownGrace is how long in-flight requests get after SIGTERM. Cloud
	// Run kills the instance 10 s after SIGTERM.
	ShutdownGrace = 8 * time.Second
)

// Run is the whole program: `pushgate` serves, `pushgate token user|service`
// mints a dev-mode token. It returns when ctx ends or on SIGTERM/SIGINT,
// after draining in-flight requests. Every line it writes while serving is
// one JSON object, except in dev mode with a terminal on stderr, where it
// writes readable text lines there instead (see serviceLogger).
func Run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	return RunWith(ctx, Options{}, args, getenv, stdout, stderr)
}

// Options adapt the reference service for a program built on the framework.
// The zero value is the reference service.
type Options struct {
	// WrapPush wraps the reference push handler (which records events), e.g.
	// to add processing of your own or to inject faults in tests.
	WrapPush func(next push.HandlerFunc) push.HandlerFunc
	// Routes adds routes of your own behind the authenticator: every request
	// that reaches them carries a verified principal. Give each route a
	// policy (authn.RequireService, RequireUser or RequireAny).
	Routes func(r chi.Router)
	// Stdin is where `explain` reads its token. Nil → os.Stdin.
	Stdin io.Reader
}

// RunWith is Run with options.
func RunWith(ctx context.Context, opts Options, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) > 1 {
		switch args[1] {
		case "token":
			err := devmode.TokenCommand(args[2:], getenv, stdout, stderr)
			switch {
			case errors.Is(err, flag.ErrHelp):
				return nil
			case err != nil && !errors.Is(err, devmode.ErrUsage):
				fmt.Fprintln(stderr, err) // usage errors were explained already
			}
			return err
		case "explain":
			stdin := opts.Stdin
			if stdin == nil {
				stdin = os.Stdin
			}
			return explainCommand(ctx, args[2:], getenv, stdin, stdout, stderr)
		case "help", "-h", "--help", "-help":
			fmt.Fprint(stdout, usage)
			return nil
		default:
			fmt.Fprint(stderr, usage)
			return fmt.Errorf("service: unknown command %q", args[1])
		}
	}
	ctx, stop := signal.NotifyContext(ctx, syscall.SIGTERM, os.Interrupt)
	defer stop()

	errLog := NewLogger(stderr, "", slog.LevelInfo)
	cfg, err := LoadConfig(getenv)
	if err != nil {
		var ce *ConfigError
		if errors.As(err, &ce) {
			for _, p := range ce.Problems {
				errLog.Error("configuration: " + p)
			}
		} else {
			errLog.Error("configuration", "error", err)
		}
		return err
	}
	project := cfg.Project
	if cfg.DevMode() && project == "" {
		project = devmode.Project
	}
	logger := serviceLogger(cfg, project, getenv, stdout, stderr)
	if err := serve(ctx, cfg, opts, logger); err != nil {
		logger.Error("service stopped with an error", "error", err)
		return err
	}
	return nil
}

const usage = `usage:
  pushgate                       serve (dev mode when no auth provider is configured)
  pushgate explain [flags]       judge the token on standard input as the service would
  pushgate token user [flags]    print a dev-mode user token (valid one hour)
  pushgate token service [flags] print a dev-mode service token (valid one hour)
`

// serve listens, serves until ctx ends, then drains.
func serve(ctx context.Context, cfg Config, opts Options, logger *slog.Logger) error {
	host := ""
	if cfg.DevMode() {
		host = "127.0.0.1" // dev mode never binds a non-loopback address
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(host, cfg.Port))
	if err != nil {
		return fmt.Errorf("service: listen: %w", err)
	}
	defer ln.Close()
	port := fmt.Sprint(ln.Addr().(*net.TCPAddr).Port)

	// bgCtx outlives the signal: background work stops when serve returns,
	// not the moment SIGTERM arrives.
	bgCtx, cancelBg := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelBg()

	tel, err := startTelemetry(ctx, cfg, port, logger)
	if err != nil {
		return err
	}
	defer tel.flush(ctx, logger) // last: after the server and the publisher

	deps := Deps{
		Logger:             logger,
		Events:             handlers.NewEventLog(0),
		CORSAllowedOrigins: cfg.CORSAllowedOrigins,
		AccessLog:          cfg.AccessLog,
		Now:                time.Now,
		WrapPush:           opts.WrapPush,
		Routes:             opts.Routes,
		Telemetry:          tel.Telemetry,
	}
	var dev *devStack
	authCfg := authConfig(cfg, logger)
	authCfg.MeterProvider = tel.MeterProvider
	if cfg.DevMode() {
		dev, err = startDev(bgCtx, cfg, port, logger, &authCfg)
		if err != nil {
			return err
		}
		defer dev.Close()
		deps.Publisher = dev.publisher
		deps.DevConsole = dev.console.Routes
	} else if cfg.PubSubTopic != "" {
		p := NewPublisher(cfg.Project, cfg.PubSubTopic, cfg.PubSubEmulatorHost, tel.TracerProvider != nil)
		p.Warm(bgCtx)
		defer func() {
			if err := p.Stop(); err != nil {
				logger.Warn("stopping the publisher", "error", err)
			}
		}()
		deps.Publisher = p
	}

	warnUnused(cfg, logger)
	auth, err := authn.New(authCfg)
	if err != nil {
		return fmt.Errorf("service: authenticator: %w", err)
	}
	auth.Start(bgCtx)
	deps.Auth = auth

	store, closeStore, err := dedupStore(bgCtx, cfg, logger)
	if err != nil {
		return err
	}
	defer closeStore()
	deps.Store = store

	srv := &http.Server{
		Handler:           NewServer(deps),
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return bgCtx },
	}
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()

	logger.Info("listening", "addr", ln.Addr().String(), "google", authCfg.Google != nil, "clerk", authCfg.Clerk != nil,
		"oidcProviders", providerNames(cfg.OIDCProviders), "gateways", len(cfg.GatewayServiceAccounts), "devMode", cfg.DevMode(), "publishing", deps.Publisher != nil, "dedup", storeName(cfg), "accessLog", cfg.AccessLog.String())
	if dev != nil {
		dev.StartPushLoop(bgCtx, "http://"+ln.Addr().String()+"/pubsub/push")
	}

	select {
	case err := <-serveErr:
		return fmt.Errorf("service: serve: %w", err)
	case <-ctx.Done():
	}
	logger.Info("shutting down", "grace", ShutdownGrace.String())
	if dev != nil {
		dev.StopPushLoop() // no new deliveries to ourselves while draining
	}
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), ShutdownGrace)
	defer cancel()
	err = srv.Shutdown(shutdownCtx)
	if err != nil {
		_ = srv.Close()
		err = fmt.Errorf("service: shutdown: %w", err)
	}
	if e := <-serveErr; !errors.Is(e, http.ErrServerClosed) {
		err = errors.Join(err, fmt.Errorf("service: serve: %w", e))
	}
	logger.Info("stopped")
	return err
}

// warnUnused says which settings are accepted but have no effect, so that an
// operator is not misled.
func warnUnused(cfg Config, logger *slog.Logger) {
	if cfg.ClerkOn() && cfg.ClerkJWTKey != "" && cfg.ClerkSecretKey != "" {
		logger.Warn("CLERK_JWT_KEY is set, so Clerk tokens are verified with it and CLERK_SECRET_KEY/CLERK_API_URL are not used for keys")
	}
	if cfg.ClerkOn() && len(cfg.ClerkAuthorizedParties) == 0 {
		logger.Warn("CLERK_AUTHORIZED_PARTIES is empty: Clerk tokens from a browser carry an azp and will be refused; list your frontend origins")
	}
	if cfg.DevMode() && cfg.PubSubEmulatorHost != "" {
		logger.Warn("PUBSUB_EMULATOR_HOST is ignored in dev mode, which runs its own in-process Pub/Sub")
	}
}

// authConfig turns the configuration into the authenticator's.
func authConfig(cfg Config, logger *slog.Logger) authn.Config {
	ac := authn.Config{ClockSkew: cfg.ClockSkew, Logger: logger}
	if cfg.ClockSkew == 0 {
		ac.ClockSkew = authn.NoClockSkew // AUTH_CLOCK_SKEW=0s means none, not the default
	}
	if cfg.GoogleOn() {
		ac.Google = &authn.GoogleConfig{
			Audiences:     cfg.GoogleAudiences,
			ProjectID:     cfg.Project,
			AllowedEmails: cfg.GoogleAllowedEmails,
			CertsURL:      cfg.GoogleCertsURL,
		}
	}
	ac.Providers = cfg.OIDCProviders
	ac.GatewayServiceAccounts = cfg.GatewayServiceAccounts
	if cfg.ClerkOn() {
		ac.Clerk = &authn.ClerkConfig{
			Issuer:            cfg.ClerkIssuer,
			JWTKeyPEM:         cfg.ClerkJWTKey,
			SecretKey:         string(cfg.ClerkSecretKey),
			APIURL:            cfg.ClerkAPIURL,
			AuthorizedParties: cfg.ClerkAuthorizedParties,
		}
	}
	return ac
}

// providerNames lists the OpenID Connect providers by name, for the log.
func providerNames(providers []authn.OIDCProvider) []string {
	names := make([]string, len(providers))
	for i, p := range providers {
		names[i] = p.Name
	}
	return names
}

// dedupStore returns the once-only store: Redis when DEDUP_REDIS_URL is set,
// else in memory.
func dedupStore(ctx context.Context, cfg Config, logger *slog.Logger) (push.Store, func(), error) {
	if cfg.DedupRedisURL == "" {
		return push.NewMemoryStore(push.DefaultMemoryStoreSize, push.DefaultRetention, nil), func() {}, nil
	}
	return redisDedupStore(ctx, cfg, logger)
}

func storeName(cfg Config) string {
	if cfg.DedupRedisURL != "" {
		return "redis"
	}
	return "memory"
}
