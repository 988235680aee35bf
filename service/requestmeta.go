package service

import (
	"context"
	"net/http"
)

// requestMeta is what the front middleware learn about a request and every
// log line of it names: its ID (RequestID) and its trace (Traces), and the
// access log's view of the response (AccessLog). All live in one context
// value, so that a request gets one copy of *http.Request and one
// allocation for them rather than one each.
type requestMeta struct {
	id     string
	trace  Trace
	traced bool
	// idHeader backs the X-Request-Id response header's value.
	idHeader [1]string
	// w is the response writer AccessLog wraps around the server's.
	w statusWriter
}

type requestMetaKey struct{}

func metaFrom(ctx context.Context) *requestMeta {
	m, _ := ctx.Value(requestMetaKey{}).(*requestMeta)
	return m
}

// withMeta returns r and its requestMeta, adding one to r's context when
// the middleware before had not. The middleware fill it in before calling
// the next handler, and nothing changes it after.
func withMeta(r *http.Request) (*http.Request, *requestMeta) {
	if m := metaFrom(r.Context()); m != nil {
		return r, m
	}
	m := &requestMeta{}
	return r.WithContext(context.WithValue(r.Context(), requestMetaKey{}, m)), m
}
