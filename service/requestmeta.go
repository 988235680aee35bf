package service

import (
	"context"
	"net/http"

	"github.com/cloudrun-authn/pushgate/authn"
)

// requestMeta is what the front middleware learn about a request and every
// log line of it names: its ID (RequestID) and its trace (Traces), and the
// access log's view of the response (AccessLog). The meta is itself the
// request's context from there on, so that a request gets one copy of
// *http.Request and one allocation for all of them (and for the
// authenticator's principal) rather than one each. A context kept past the
// request keeps the meta, and through it the response writer, alive.
type requestMeta struct {
	// SlotContext makes the meta the request's context itself: the
	// parent, this value (Value), and the authenticator's place for the
	// principal, so that neither a context value nor authn.Middleware
	// needs a request copy of its own.
	authn.SlotContext

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
// the next handler, and nothing changes it after (but authn.Middleware,
// which fills the principal's slot once).
func withMeta(r *http.Request) (*http.Request, *requestMeta) {
	if m := metaFrom(r.Context()); m != nil {
		return r, m
	}
	m := &requestMeta{}
	m.Context = r.Context()
	return r.WithContext(m), m
}

// Value answers for the meta, and otherwise as its SlotContext does.
func (m *requestMeta) Value(key any) any {
	if _, ok := key.(requestMetaKey); ok {
		return m
	}
	return m.SlotContext.Value(key)
}
