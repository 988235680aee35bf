package service

import (
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/go-chi/chi/v5/middleware"
)

// AccessLogMode says which responses get an access line (ACCESS_LOG).
type AccessLogMode int

const (
	// AccessLogErrors logs each response with status 400 or more. Cloud Run
	// writes a request log entry of its own for every request, so a line
	// per success would only repeat it. It is the zero value.
	AccessLogErrors AccessLogMode = iota
	// AccessLogAll logs every response; dev mode's default.
	AccessLogAll
	// AccessLogOff logs none.
	AccessLogOff
)

// String returns the mode's ACCESS_LOG value.
func (m AccessLogMode) String() string {
	switch m {
	case AccessLogAll:
		return "all"
	case AccessLogOff:
		return "off"
	}
	return "errors"
}

// parseAccessLogMode reads an ACCESS_LOG value.
func parseAccessLogMode(v string) (AccessLogMode, bool) {
	for _, m := range []AccessLogMode{AccessLogErrors, AccessLogAll, AccessLogOff} {
		if v == m.String() {
			return m, true
		}
	}
	return 0, false
}

// AccessLog writes one line with Cloud Logging's httpRequest fields, as the
// request ends, for each response that mode selects. It logs the path only,
// never the query string or a header that could carry a credential.
//
// The handler gets the response writer through chi's
// middleware.WrapResponseWriter, which counts the status and body bytes
// and presents the optional interfaces of the writer beneath
// (http.Flusher, http.Hijacker, io.ReaderFrom for HTTP/1, http.Pusher for
// HTTP/2), and Unwrap for http.ResponseController.
func AccessLog(logger *slog.Logger, mode AccessLogMode) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		if mode == AccessLogOff {
			return next
		}
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			start := time.Now()
			ww := middleware.NewWrapResponseWriter(w, r.ProtoMajor)
			// Deferred, so that a handler aborted with http.ErrAbortHandler
			// is logged too.
			defer func() {
				m := response{code: ww.Status(), written: int64(ww.BytesWritten()), duration: time.Since(start)}
				if m.code == 0 {
					m.code = http.StatusOK // what net/http sends for a handler that wrote nothing
				}
				if mode == AccessLogAll || m.code >= http.StatusBadRequest {
					logAccess(logger, r, m)
				}
			}()
			next.ServeHTTP(ww, r)
		})
	}
}

// response is what an access line says of a response.
type response struct {
	code     int
	written  int64
	duration time.Duration
}

// logAccess writes the access line of r, whose response m describes:
// "GET /path 404", at INFO below 400, WARNING for 4xx and ERROR for 5xx.
func logAccess(logger *slog.Logger, r *http.Request, m response) {
	level := slog.LevelInfo
	switch {
	case m.code >= http.StatusInternalServerError:
		level = slog.LevelError
	case m.code >= http.StatusBadRequest:
		level = slog.LevelWarn
	}
	ctx := r.Context()
	logger.LogAttrs(ctx, level, r.Method+" "+r.URL.Path+" "+strconv.Itoa(m.code),
		slog.String("requestId", RequestIDFrom(ctx)),
		slog.Attr{Key: "httpRequest", Value: slog.GroupValue(
			slog.String("requestMethod", r.Method),
			slog.String("requestUrl", r.URL.Path),
			slog.Int("status", m.code),
			slog.Int64("requestSize", max(r.ContentLength, 0)),
			slog.Int64("responseSize", m.written),
			slog.String("userAgent", r.UserAgent()),
			slog.String("remoteIp", clientIP(r)),
			slog.String("protocol", r.Proto),
			// Cloud Logging's Duration form: seconds and an "s".
			slog.String("latency", strconv.FormatFloat(m.duration.Seconds(), 'f', 6, 64)+"s"),
		)},
	)
}
