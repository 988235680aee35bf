package service

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/go-chi/chi/v5"
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
