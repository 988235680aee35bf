package service

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"strconv"
	"sync/atomic"
)

// requestIDKey is the context key of the request's ID.
type requestIDKey struct{}

// RequestIDFrom returns the request's ID, or "" outside a request.
func RequestIDFrom(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

// RequestID gives every request an ID: the caller's X-Request-Id when it is
// short and plain, else a new one. The ID is echoed in X-Request-Id and
// carried in the context for logs. A request served on a context that
// already has an ID (a sub-request on its caller's context) gets an ID of
// its own; the caller's context keeps the caller's.
func RequestID() func(http.Handler) http.Handler {
	var b [6]byte
	_, _ = rand.Read(b[:])
	prefix := hex.EncodeToString(b[:]) + "-"
	var seq atomic.Uint64
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			id := r.Header.Get("X-Request-Id")
			if !plainID(id) {
				id = prefix + strconv.FormatUint(seq.Add(1), 10)
			}
			w.Header().Set("X-Request-Id", id)
			next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), requestIDKey{}, id)))
		})
	}
}

// plainID accepts 1 to 64 letters, digits, '-', '_' and '.'.
func plainID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}
