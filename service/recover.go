package service

import (
	"errors"
	"log/slog"
	"net/http"
	"runtime/debug"

	"github.com/cloudrun-authn/pushgate/handlers"
)

// Recover turns a panic in a handler into a 500 and an ERROR line with the
// stack; the server lives on. http.ErrAbortHandler is passed through, as
// net/http expects.
func Recover(logger *slog.Logger) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			defer func() {
				v := recover()
				if v == nil {
					return
				}
				if err, ok := v.(error); ok && errors.Is(err, http.ErrAbortHandler) {
					panic(v)
				}
				logger.ErrorContext(r.Context(), "panic serving request",
					"panic", v, "path", r.URL.Path, "stack", string(debug.Stack()))
				if r.Header.Get("Connection") != "Upgrade" {
					handlers.WriteError(w, http.StatusInternalServerError, "internal error")
				}
			}()
			next.ServeHTTP(w, r)
		})
	}
}
