package service

import (
	"context"
	"net/http"
)

// requestMeta is what the front middleware learn about a request and every
// log line of it names: its ID (RequestID) and its trace (Traces), and the
// access log's view of the response (AccessLog). The meta is itself the
// request's context from there on, so that a request gets one copy of
// *http.Request and one allocation for all of them rather than one each.
// A context kept past the request keeps the meta alive, but not the
// server's response: AccessLog lets go of it when the request ends.
type requestMeta struct {
	// Context is the parent: the meta is the request's context node
	// itself (see Value), so it needs no context.WithValue of its own.
	context.Context

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
// the next handler, and nothing changes it after but AccessLog's release
// of the response writer.
func withMeta(r *http.Request) (*http.Request, *requestMeta) {
	if m := metaFrom(r.Context()); m != nil {
		return r, m
	}
	m := &requestMeta{}
	m.Context = r.Context()
	return r.WithContext(m), m
}

// Value answers for the meta, and otherwise as the parent does.
func (m *requestMeta) Value(key any) any {
	if _, ok := key.(requestMetaKey); ok {
		return m
	}
	return m.Context.Value(key)
}
