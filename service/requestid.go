package service

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"strconv"
	"sync/atomic"
)

// RequestIDFrom returns the request's ID, or "" outside a request.
func RequestIDFrom(ctx context.Context) string {
	if m := metaFrom(ctx); m != nil {
		return m.id
	}
	return ""
}

// RequestID gives every request an ID: the caller's X-Request-Id when it is
// short and plain, else a new one. The ID is echoed in X-Request-Id and
// carried in the context for logs.
func RequestID() func(http.Handler) http.Handler {
	var b [6]byte
	_, _ = rand.Read(b[:])
	prefix := hex.EncodeToString(b[:]) + "-"
	var seq atomic.Uint64
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			id := r.Header.Get("X-Request-Id")
			if !plainID(id) {
				var buf [48]byte // one allocation for the ID instead of two
				id = string(strconv.AppendUint(append(buf[:0], prefix...), seq.Add(1), 10))
			}
			r, m := withMeta(r)
			if m.id != "" {
				// A request served on a context that already has an ID (a
				// sub-request on its caller's context) is a request of its
				// own: its ID, writer and header go in a meta of its own,
				// and the caller's stay the caller's. It keeps the caller's
				// trace unless it carries one (Traces, after this).
				caller := m
				r, m = newMeta(r)
				m.trace, m.traced = caller.trace, caller.traced
			}
			m.id = id
			// Canonical already, so Set would only check again; the
			// value's slice is the meta's own, not an allocation.
			value := m.idHeader[:]
			value[0] = id
			w.Header()["X-Request-Id"] = value
			next.ServeHTTP(w, r)
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
