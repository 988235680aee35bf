// Command baseline is the load harness's naive baseline: the service as the
// official samples and the original FastAPI version build it, written the
// way a reasonable Go developer would. It is not a strawman; it is what
// pushgate is measured against.
//
//   - chi router, one slog JSON line per request;
//   - Google ID tokens verified on every request by an idtoken.Validator
//     (signature, aud, exp), then iss, email_verified and the project's
//     service-account email suffix checked by hand;
//   - a token Google refuses is handed to clerk-sdk-go's
//     WithHeaderAuthorization middleware (Clerk's keys fetched from
//     ${CLERK_API_URL}/v1/jwks with CLERK_SECRET_KEY), with
//     AuthorizedPartyMatches(CLERK_AUTHORIZED_PARTIES...);
//   - POST /pubsub/push decodes the envelope with encoding/json,
//     base64-decodes the data, de-duplicates message IDs in a map behind a
//     mutex and keeps the last 1000 events.
//
// It reads the service's environment variables (PORT,
// AUTH_GOOGLE_AUDIENCES, GOOGLE_CLOUD_PROJECT, AUTH_GOOGLE_CERTS_URL,
// CLERK_SECRET_KEY, CLERK_API_URL, CLERK_AUTHORIZED_PARTIES), listens on
// 127.0.0.1 and answers the service's routes with the same status codes.
// AUTH_GOOGLE_CERTS_URL is honoured by rewriting idtoken's fixed Google
// certificate URL in the validator's HTTP client, so that the harness's
// fake key server answers it.
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
)

func main() {
	if err := run(context.Background(), os.Getenv); err != nil {
		fmt.Fprintln(os.Stderr, "baseline:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, getenv func(string) string) error {
	ctx, stop := signal.NotifyContext(ctx, syscall.SIGTERM, os.Interrupt)
	defer stop()

	logger := slog.New(slog.NewJSONHandler(os.Stdout, nil))
	auth, err := newAuth(ctx, getenv)
	if err != nil {
		return err
	}
	app := newApp()

	r := chi.NewRouter()
	r.Use(middleware.Recoverer, accessLog(logger))
	r.Get("/healthz", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	r.Group(func(r chi.Router) {
		r.Use(auth.middleware)
		r.Get("/whoami", whoami)
		r.With(requireKind("service")).Post("/pubsub/push", app.push)
		r.With(requireKind("service")).Post("/scheduler/{job}", app.schedule)
		r.With(requireKind("user")).Get("/api/events", app.listEvents)
		r.With(requireKind("user")).Post("/api/events", func(w http.ResponseWriter, r *http.Request) {
			writeError(w, http.StatusServiceUnavailable, "publishing is not configured")
		})
	})

	port := getenv("PORT")
	if port == "" {
		port = "8080"
	}
	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", port))
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: r, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdownCtx)
	}()
	logger.Info("listening", "addr", ln.Addr().String())
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// accessLog writes one JSON line per request.
func accessLog(logger *slog.Logger) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			start := time.Now()
			ww := middleware.NewWrapResponseWriter(w, r.ProtoMajor)
			next.ServeHTTP(ww, r)
			logger.Info("request",
				"method", r.Method,
				"path", r.URL.Path,
				"status", ww.Status(),
				"bytes", ww.BytesWritten(),
				"remote", r.RemoteAddr,
				"userAgent", r.UserAgent(),
				"latency", time.Since(start).String(),
			)
		})
	}
}

func splitList(s string) []string {
	var out []string
	for _, v := range strings.Split(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}
