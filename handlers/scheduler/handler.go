package scheduler

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/cloudrun-authn/pushgate/handlers/httperror"

	"github.com/go-chi/chi/v5"
)

// HandlerFunc runs one call. Returning nil answers 204; an error answers 500,
// so that Cloud Scheduler or Cloud Tasks retries per its retry policy. ctx
// carries the request's values and ends after Options.Timeout.
type HandlerFunc func(ctx context.Context, c *Call) error

const (
	// DefaultTimeout is the handler's deadline when Options.Timeout is 0:
	// just under Cloud Scheduler's default attempt deadline of 3 minutes, so
	// that a slow job ends in a logged 500 rather than a Scheduler timeout.
	// (Cloud Tasks' default dispatch deadline is 10 minutes; Cloud Run's
	// default request timeout is 5.) Set it to match your job's deadline.
	DefaultTimeout = 170 * time.Second
	// DefaultMaxBody is the largest body read when Options.MaxBody is 0.
	DefaultMaxBody = 1 << 20
	// DefaultJobParam is the chi URL parameter that names the job when
	// Options.JobParam is "".
	DefaultJobParam = "job"
)

// Options configures NewHandler. The zero value is usable.
type Options struct {
	// JobParam names the chi URL parameter that gives the job when no
	// X-CloudScheduler-JobName header is sent; "" → DefaultJobParam.
	JobParam string
	// MaxBody caps the body; a larger one gets 413. 0 → DefaultMaxBody.
	MaxBody int64
	// Timeout is the deadline of the HandlerFunc's context; 0 → DefaultTimeout.
	Timeout time.Duration
	// Logger receives the handler's logs; nil → discard. Calls pass the
	// request's context, so a trace-aware slog.Handler can add the trace.
	Logger *slog.Logger
}

// NewHandler returns an http.Handler that parses each request into a Call
// and runs fn with it: 204 when fn returns nil, 500 when it returns an
// error (its text goes to the log, never to the caller), 400 when a Cloud
// Scheduler or Cloud Tasks header does not parse, and 413 for a body over
// Options.MaxBody. Register it on a route with the job parameter, such as
// POST /scheduler/{job}. A panic in fn is left to the service's recovery
// middleware.
func NewHandler(fn HandlerFunc, opts Options) http.Handler {
	if opts.JobParam == "" {
		opts.JobParam = DefaultJobParam
	}
	if opts.MaxBody <= 0 {
		opts.MaxBody = DefaultMaxBody
	}
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	return &handler{fn: fn, opts: opts}
}

type handler struct {
	fn   HandlerFunc
	opts Options
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	log := h.opts.Logger
	c, err := parseCall(r.Header, chi.URLParam(r, h.opts.JobParam))
	if err != nil {
		reason := strings.TrimPrefix(err.Error(), "scheduler: ")
		log.LogAttrs(ctx, slog.LevelWarn, "scheduled call refused", slog.String("reason", reason))
		httperror.Write(w, http.StatusBadRequest, reason)
		return
	}
	if c.Body, err = readBody(r, h.opts.MaxBody); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			log.LogAttrs(ctx, slog.LevelWarn, "scheduled call over the body limit", slog.Any("call", c), slog.Int64("limit", tooBig.Limit))
			httperror.Write(w, http.StatusRequestEntityTooLarge, "body too large")
			return
		}
		log.LogAttrs(ctx, slog.LevelWarn, "could not read a scheduled call's body", slog.Any("call", c), slog.String("error", err.Error()))
		httperror.Write(w, http.StatusBadRequest, "could not read the body")
		return
	}

	if err := h.call(ctx, c); err != nil {
		log.LogAttrs(ctx, slog.LevelError, "scheduled call failed", slog.Any("call", c), slog.String("error", err.Error()))
		httperror.Write(w, http.StatusInternalServerError, "job failed")
		return
	}
	log.LogAttrs(ctx, slog.LevelInfo, "scheduled call done", slog.Any("call", c))
	w.WriteHeader(http.StatusNoContent)
}

func (h *handler) call(ctx context.Context, c *Call) error {
	ctx, cancel := context.WithTimeout(ctx, h.opts.Timeout)
	defer cancel()
	return h.fn(ctx, c)
}

// readBody reads at most limit bytes; more is an *http.MaxBytesError.
func readBody(r *http.Request, limit int64) ([]byte, error) {
	if r.Body == nil || r.Body == http.NoBody {
		return nil, nil
	}
	body, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, limit))
	if err != nil {
		return nil, err
	}
	if len(body) == 0 {
		return nil, nil
	}
	return body, nil
}
