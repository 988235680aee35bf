package service

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/cloudrun-authn/pushgate/handlers/push"
)

// TestServerRouteContext: NewServer's routing is chi's: URL parameters and
// the route pattern in a handler, each request its own context (one after
// another, and many at once), the request ID alongside, and, with the
// service mounted under a parent chi router, the parent's prefix.
func TestServerRouteContext(t *testing.T) {
	t.Parallel()
	s := newBenchServer(t, 0, func(d *Deps) {
		d.Routes = func(r chi.Router) {
			r.Get("/items/{id}", func(w http.ResponseWriter, r *http.Request) {
				_, _ = io.WriteString(w, chi.URLParam(r, "id")+" "+chi.RouteContext(r.Context()).RoutePattern()+" "+
					RequestIDFrom(r.Context()))
			})
		}
	})
	tok := s.googleToken(t)
	// get may run off the test's goroutine, so it reports with Errorf.
	get := func(t *testing.T, h http.Handler, path, id string) string {
		t.Helper()
		req := httptest.NewRequest(http.MethodGet, path, nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("X-Request-Id", id)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			t.Errorf("GET %s: %d %s", path, rec.Code, rec.Body)
		}
		return rec.Body.String()
	}

	t.Run("top level", func(t *testing.T) {
		for _, id := range []string{"a", "b", "c"} {
			if got, want := get(t, s.handler, "/items/"+id, "req-"+id), id+" /items/{id} req-"+id; got != want {
				t.Errorf("got %q, want %q", got, want)
			}
		}
	})

	t.Run("at once", func(t *testing.T) {
		var wg sync.WaitGroup
		for i := range 32 {
			id := fmt.Sprintf("n%d", i)
			wg.Go(func() {
				if got, want := get(t, s.handler, "/items/"+id, "req-"+id), id+" /items/{id} req-"+id; got != want {
					t.Errorf("got %q, want %q", got, want)
				}
			})
		}
		wg.Wait()
	})

	t.Run("mounted", func(t *testing.T) {
		parent := chi.NewRouter()
		parent.Mount("/svc", s.handler)
		if got, want := get(t, parent, "/svc/items/x", "req-x"), "x /svc/items/{id} req-x"; got != want {
			t.Errorf("got %q, want %q", got, want)
		}
		req := httptest.NewRequest(http.MethodGet, "/svc/healthz", nil)
		rec := httptest.NewRecorder()
		parent.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			t.Errorf("GET /svc/healthz: %d", rec.Code)
		}
		req = httptest.NewRequest(http.MethodGet, "/svc/no-such-route", nil)
		rec = httptest.NewRecorder()
		parent.ServeHTTP(rec, req)
		if rec.Code != http.StatusNotFound {
			t.Errorf("GET /svc/no-such-route: %d, want 404", rec.Code)
		}
	})
}

// TestServerLogsEachRefusalOnce: through the whole router, under each
// ACCESS_LOG value, every refusal and failure is logged once with its
// reason, by the part that refused; the access log adds its line only
// where the mode says; nothing else logs the request, and every line
// carries the request's trace.
func TestServerLogsEachRefusalOnce(t *testing.T) {
	t.Parallel()
	envelope := func(id string, attrs string) []byte {
		return fmt.Appendf(nil, `{"message":{"data":"aGk=","messageId":%q,"attributes":{%s}},"subscription":"projects/%s/subscriptions/s"}`,
			id, attrs, testProject)
	}
	type request struct {
		name, method, path, token string
		body                      []byte
		contentLength             int64 // 0: the body's
		status                    int
		reason                    string // the message of the reason line; "": none
	}
	for _, mode := range []AccessLogMode{AccessLogErrors, AccessLogAll, AccessLogOff} {
		t.Run(mode.String(), func(t *testing.T) {
			t.Parallel()
			var buf syncBuffer
			s := newBenchServer(t, 0, func(d *Deps) {
				d.Logger = NewLogger(&buf, testProject, slog.LevelInfo)
				d.AccessLog = mode
				d.WrapPush = func(next push.HandlerFunc) push.HandlerFunc {
					return func(ctx context.Context, m *push.Message) error {
						if m.Attributes["fail"] == "true" {
							return errors.New("injected failure")
						}
						return next(ctx, m)
					}
				}
			})
			google, clerk := s.googleToken(t), s.clerkToken(t, "user_1", time.Minute)
			for _, rq := range []request{
				{"push acknowledged", "POST", "/pubsub/push", google, envelope("m-1", ""), 0, 204, ""},
				{"whoami", "GET", "/whoami", google, nil, 0, 200, ""},
				{"no token", "GET", "/whoami", "", nil, 0, 401, "authn: request refused"},
				{"wrong kind", "POST", "/pubsub/push", clerk, envelope("m-2", ""), 0, 403, "authn: request refused by policy"},
				{"malformed delivery", "POST", "/pubsub/push", google, []byte(`{"message":`), 0, 400, "malformed push delivery"},
				{"body over the limit", "POST", "/pubsub/push", google, envelope("m-3", ""), PushBodyLimit + 1, 413, "request body over the limit"},
				{"handler failure", "POST", "/pubsub/push", google, envelope("m-4", `"fail":"true"`), 0, 500, "message processing failed; Pub/Sub will redeliver"},
			} {
				t.Run(rq.name, func(t *testing.T) {
					id := fmt.Sprintf("%s-%d", mode, rq.status)
					req := httptest.NewRequest(rq.method, rq.path, bytes.NewReader(rq.body))
					req.Header.Set("X-Request-Id", id)
					req.Header.Set("Traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
					if rq.token != "" {
						req.Header.Set("Authorization", "Bearer "+rq.token)
					}
					if rq.contentLength != 0 {
						req.ContentLength = rq.contentLength
					}
					before := len(buf.String())
					rec := httptest.NewRecorder()
					s.handler.ServeHTTP(rec, req)
					if rec.Code != rq.status {
						t.Fatalf("got %d %s, want %d", rec.Code, rec.Body, rq.status)
					}
					var access, reasons int
					for _, l := range logLines(t, bytes.NewBufferString(buf.String()[before:])) {
						if l[traceField] == nil {
							t.Errorf("a line of the request without its trace: %v", l)
						}
						switch {
						case l["httpRequest"] != nil:
							access++
							if l["requestId"] != id {
								t.Errorf("access line's requestId %v, want %s", l["requestId"], id)
							}
						case l["message"] == rq.reason:
							reasons++
						default:
							t.Errorf("unexpected line %v", l)
						}
					}
					wantAccess := 0
					if mode == AccessLogAll || mode == AccessLogErrors && rq.status >= 400 {
						wantAccess = 1
					}
					wantReasons := 0
					if rq.reason != "" {
						wantReasons = 1
					}
					if access != wantAccess || reasons != wantReasons {
						t.Errorf("got %d access and %d reason lines, want %d and %d", access, reasons, wantAccess, wantReasons)
					}
				})
			}
		})
	}
}
