package service

import (
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/go-chi/chi/v5/middleware"
)

// AccessLog writes one line per request with Cloud Logging's httpRequest
// fields. It logs the path only, never the query string or any header that
// could carry a credential.
func AccessLog(logger *slog.Logger, now func() time.Time) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			start := now()
			ww := middleware.NewWrapResponseWriter(w, r.ProtoMajor)
			defer func() {
				status := ww.Status()
				if status == 0 {
					status = http.StatusOK
				}
				level := slog.LevelInfo
				switch {
				case status >= 500:
					level = slog.LevelError
				case status >= 400:
					level = slog.LevelWarn
				}
				ctx := r.Context()
				if !logger.Enabled(ctx, level) {
					return
				}
				logger.LogAttrs(ctx, level, r.Method+" "+r.URL.Path+" "+strconv.Itoa(status),
					slog.String("requestId", RequestIDFrom(ctx)),
					slog.Group("httpRequest",
						slog.String("requestMethod", r.Method),
						slog.String("requestUrl", r.URL.Path),
						slog.Int("status", status),
						slog.Int64("requestSize", max(r.ContentLength, 0)),
						slog.Int("responseSize", ww.BytesWritten()),
						slog.String("userAgent", r.UserAgent()),
						slog.String("remoteIp", remoteIP(r)),
						slog.String("protocol", r.Proto),
						slog.String("latency", strconv.FormatFloat(now().Sub(start).Seconds(), 'f', 6, 64)+"s"),
					),
				)
			}()
			next.ServeHTTP(ww, r)
		})
	}
}

// remoteIP is the first X-Forwarded-For hop (Cloud Run's front end sets it),
// else the peer address.
func remoteIP(r *http.Request) string {
	if xff := r.Header.Get("X-Forwarded-For"); xff != "" {
		for i := 0; i < len(xff); i++ {
			if xff[i] == ',' {
				return xff[:i]
			}
		}
		return xff
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
