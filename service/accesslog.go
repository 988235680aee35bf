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
				// The line is built with as few allocations as slog allows:
				// message and latency appended into stack buffers, and the
				// httpRequest group made with GroupValue (slog.Group boxes
				// every attribute in an interface first). It is logged on
				// every request, so this is worth a third of its cost.
				var msgBuf [128]byte
				msg := append(msgBuf[:0], r.Method...)
				msg = append(msg, ' ')
				msg = append(msg, r.URL.Path...)
				msg = append(msg, ' ')
				msg = strconv.AppendInt(msg, int64(status), 10)
				var latBuf [32]byte
				latency := strconv.AppendFloat(latBuf[:0], now().Sub(start).Seconds(), 'f', 6, 64)
				latency = append(latency, 's')
				logger.LogAttrs(ctx, level, string(msg),
					slog.String("requestId", RequestIDFrom(ctx)),
					slog.Attr{Key: "httpRequest", Value: slog.GroupValue(
						slog.String("requestMethod", r.Method),
						slog.String("requestUrl", r.URL.Path),
						slog.Int("status", status),
						slog.Int64("requestSize", max(r.ContentLength, 0)),
						slog.Int("responseSize", ww.BytesWritten()),
						slog.String("userAgent", r.UserAgent()),
						slog.String("remoteIp", remoteIP(r)),
						slog.String("protocol", r.Proto),
						slog.String("latency", string(latency)),
					)},
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
