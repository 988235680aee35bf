package service

import (
	"log/slog"
	"net/http"

	"github.com/cloudrun-authn/pushgate/handlers"
)

// Body limits. Pub/Sub's largest message is 10 MB; in a wrapped envelope its
// data is base64 (4/3 larger) beside up to 100 attributes, so 16 MiB holds
// any real delivery. Other routes take small JSON bodies.
const (
	PushBodyLimit    = 16 << 20
	DefaultBodyLimit = 1 << 20
)

// BodyLimit refuses bodies over n bytes with 413: at once when
// Content-Length says so (logging the refusal to logger), else when a
// handler reads past n (handlers answer 413 on *http.MaxBytesError and log
// it themselves).
func BodyLimit(logger *slog.Logger, n int64) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.ContentLength > n {
				logger.LogAttrs(r.Context(), slog.LevelWarn, "request body over the limit",
					slog.Int64("contentLength", r.ContentLength), slog.Int64("limit", n))
				w.Header().Set("Connection", "close")
				handlers.WriteError(w, http.StatusRequestEntityTooLarge, "body too large")
				return
			}
			if r.Body != nil && r.Body != http.NoBody {
				r.Body = http.MaxBytesReader(w, r.Body, n)
			}
			next.ServeHTTP(w, r)
		})
	}
}
