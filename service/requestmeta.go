package service

import (
	"context"
	"net/http"

	"github.com/go-chi/chi/v5"
)

// requestMeta is what the front middleware learn about a request and every
// log line of it names: its ID (RequestID) and its trace (Traces), and
// chi's routing context (routeFirst). The meta is itself the request's
// context from there on, so that a request gets one copy of *http.Request
// and one allocation for all of them rather than one each.
type requestMeta struct {
	// Context is the parent: the meta is the request's context node
	// itself (see Value), so it needs no context.WithValue of its own.
	context.Context

	id     string
	trace  Trace
	traced bool
	// idHeader backs the X-Request-Id response header's value.
	idHeader [1]string

	// route is chi's routing context for the request when NewServer's
	// router is the outermost (routed): Value answers chi.RouteCtxKey with
	// it, so chi takes it for a parent router's and neither copies the
	// request nor adds a context value of its own. routePatterns backs its
	// RoutePatterns for the usual one or two router levels.
	route         chi.Context
	routePatterns [2]string
	routed        bool
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
	return newMeta(r)
}

// newMeta gives r a requestMeta of its own, under whatever its context
// already holds (an outer request's meta included, which then stays the
// outer request's).
func newMeta(r *http.Request) (*http.Request, *requestMeta) {
	m := &requestMeta{}
	m.Context = r.Context()
	return r.WithContext(m), m
}

// Value answers for the meta and, once routed, for chi's routing context;
// otherwise as the parent does.
func (m *requestMeta) Value(key any) any {
	if _, ok := key.(requestMetaKey); ok {
		return m
	}
	if m.routed && key == chi.RouteCtxKey {
		return &m.route
	}
	return m.Context.Value(key)
}

// routeFirst makes the request's meta before mux routes it, with mux's
// routing context inside (see requestMeta.route). A request that already
// has a routing context (the service mounted under another chi router)
// keeps it, and mux routes as that router's child, as it always did.
func routeFirst(mux *chi.Mux) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if chi.RouteContext(r.Context()) == nil {
			var m *requestMeta
			r, m = withMeta(r)
			m.routed = true
			m.route.Routes = mux
			m.route.RoutePatterns = m.routePatterns[:0]
		}
		mux.ServeHTTP(w, r)
	})
}
