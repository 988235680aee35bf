package service

import (
	"log/slog"
	"net/http"
	"slices"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/cors"

	"github.com/cloudrun-authn/pushgate/authn"
	"github.com/cloudrun-authn/pushgate/handlers"
	"github.com/cloudrun-authn/pushgate/handlers/push"
	"github.com/cloudrun-authn/pushgate/handlers/scheduler"
)

// Deps is what the server's routes need.
type Deps struct {
	Logger    *slog.Logger
	Auth      *authn.Authenticator
	Events    *handlers.EventLog
	Publisher handlers.Publisher // nil: POST /api/events answers 503
	Store     push.Store         // once-only processing of push deliveries
	// PushTimeout is the push handler's deadline; 0 is push's default.
	PushTimeout        time.Duration
	CORSAllowedOrigins []string
	// AccessLog says which responses get an access line; the zero value,
	// AccessLogErrors, is the contract's default.
	AccessLog AccessLogMode
	Now       func() time.Time
	// WrapPush, when set, wraps the reference push handler.
	WrapPush func(next push.HandlerFunc) push.HandlerFunc
	// Routes, when set, adds routes behind the authenticator.
	Routes func(r chi.Router)
	// DevConsole, set in dev mode only, adds the dev console's routes
	// (GET / and /dev/…), which need no token and guard themselves by
	// origin.
	DevConsole func(r chi.Router)
	// Telemetry records metrics and traces; the zero value records none.
	Telemetry Telemetry
}

// NewServer returns the service's chi router: every route of the contract,
// in one place. It routes as well when mounted under another chi router.
func NewServer(d Deps) http.Handler {
	if d.Now == nil {
		d.Now = time.Now
	}
	r := chi.NewRouter()
	r.Use(RequestID(), Traces)
	r.Use(httpTelemetry(d.Telemetry)...) // none when telemetry is off
	r.Use(AccessLog(d.Logger, d.AccessLog), Recover(d.Logger))
	if len(d.CORSAllowedOrigins) > 0 {
		r.Use(corsHandler(d.CORSAllowedOrigins))
	}
	r.NotFound(func(w http.ResponseWriter, r *http.Request) {
		handlers.WriteError(w, http.StatusNotFound, "not found")
	})
	r.MethodNotAllowed(func(w http.ResponseWriter, r *http.Request) {
		handlers.WriteError(w, http.StatusMethodNotAllowed, "method not allowed")
	})

	r.Get("/healthz", handlers.Healthz())
	if d.DevConsole != nil {
		d.DevConsole(r)
	}

	pushHandler := handlers.RecordPush(d.Events, d.Now)
	if d.WrapPush != nil {
		pushHandler = d.WrapPush(pushHandler)
	}

	r.Group(func(r chi.Router) {
		r.Use(d.Auth.Middleware)

		r.With(authn.RequireAny()).Get("/whoami", handlers.Whoami())

		r.With(authn.RequireService(), BodyLimit(d.Logger, PushBodyLimit)).
			Method(http.MethodPost, "/pubsub/push", push.NewHandler(
				pushHandler,
				push.Options{Store: d.Store, Timeout: d.PushTimeout, Logger: d.Logger, Now: d.Now,
					MeterProvider: d.Telemetry.MeterProvider, TracerProvider: d.Telemetry.TracerProvider},
			))

		r.With(authn.RequireService(), BodyLimit(d.Logger, DefaultBodyLimit)).
			Method(http.MethodPost, "/scheduler/{job}", scheduler.NewHandler(
				handlers.RecordSchedule(d.Events, d.Now),
				scheduler.Options{Logger: d.Logger, Timeout: schedulerTimeout},
			))

		r.Route("/api/events", func(r chi.Router) {
			r.Use(authn.RequireUser(), BodyLimit(d.Logger, DefaultBodyLimit))
			r.Get("/", handlers.ListEvents(d.Events))
			r.Post("/", handlers.PublishEvent(d.Publisher, d.Logger))
		})

		if d.Routes != nil {
			d.Routes(r)
		}
	})
	return r
}

// corsHandler lets the listed browser origins call the service with a
// Bearer token. Preflights from them are answered without a token; other
// origins get no CORS headers.
func corsHandler(origins []string) func(http.Handler) http.Handler {
	anyOrigin := slices.Contains(origins, "*")
	return cors.Handler(cors.Options{
		AllowedOrigins:   origins,
		AllowedMethods:   []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete},
		AllowedHeaders:   []string{"Authorization", "Content-Type", "X-Request-Id"},
		ExposedHeaders:   []string{"X-Request-Id", "WWW-Authenticate", "Retry-After"},
		AllowCredentials: !anyOrigin, // cookies only ever go to listed origins
		MaxAge:           600,
	})
}

// schedulerTimeout bounds a scheduler handler below the server's
// WriteTimeout, so that its answer still reaches Cloud Scheduler.
const schedulerTimeout = writeTimeout - 10*time.Second
