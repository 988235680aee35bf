// Command orders is a service built on pushgate, the way your own would be:
// the reference service (its /whoami, /pubsub/push, /scheduler/{job} and
// /api/events) plus three routes of its own, each behind the same
// authenticator and a policy:
//
//	POST /orders/push      Pub/Sub pushes orders here (a push subscription of its own)
//	POST /orders/nightly   Cloud Scheduler asks for the nightly report
//	GET  /orders           admins of the active organization list the orders
//
// Run it in dev mode and call it with dev tokens:
//
//	cd examples/orders && go run .
//	curl -sS --oauth2-bearer $(go run . token user --org org_acme --role admin) http://127.0.0.1:8080/orders
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"sync"

	"github.com/go-chi/chi/v5"

	"github.com/cloudrun-authn/pushgate/authn"
	"github.com/cloudrun-authn/pushgate/handlers/push"
	"github.com/cloudrun-authn/pushgate/handlers/scheduler"
	"github.com/cloudrun-authn/pushgate/service"
)

// Order is what the publisher puts, as JSON, in each message's data.
type Order struct {
	ID  string `json:"id"`
	Qty int    `json:"qty"`
}

func main() {
	service.RouteLibraryLogs(os.Stderr)
	if err := run(context.Background(), os.Args, os.Getenv, os.Stdout, os.Stderr); err != nil {
		os.Exit(service.ExitCode(err)) // explain's 2 and 3 too
	}
}

func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	shop := &shop{log: slog.Default(), orders: []Order{}}
	return service.RunWith(ctx, service.Options{Routes: shop.routes}, args, getenv, stdout, stderr)
}

// shop keeps the orders in memory; a real one would use a database.
type shop struct {
	log    *slog.Logger
	mu     sync.Mutex
	orders []Order
}

// routes adds the shop's routes. Every request reaching them carries a
// verified principal; each route's policy says which kind may call it.
func (s *shop) routes(r chi.Router) {
	r.With(authn.RequireService(), service.BodyLimit(s.log, service.PushBodyLimit)).
		Method(http.MethodPost, "/orders/push", push.NewHandler(push.JSON(s.receive), push.Options{Logger: s.log}))
	r.With(authn.RequireService()).
		Method(http.MethodPost, "/orders/nightly", scheduler.NewHandler(s.report, scheduler.Options{Logger: s.log}))
	r.With(authn.RequireUser(authn.WithOrgRole("admin"))).Get("/orders", s.list)
}

// receive handles one pushed order, once per message ID. An error makes
// Pub/Sub deliver the message again; push.Permanent acknowledges it.
func (s *shop) receive(ctx context.Context, m *push.Message, o Order) error {
	if o.ID == "" || o.Qty <= 0 {
		return push.Permanent(fmt.Errorf("order %q of %d: not an order", o.ID, o.Qty))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.orders = append(s.orders, o)
	return nil
}

// report is the scheduler job: Cloud Scheduler retries it on an error.
func (s *shop) report(ctx context.Context, c *scheduler.Call) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.log.InfoContext(ctx, "nightly report", "job", c.Job, "orders", len(s.orders))
	return nil
}

// list answers the orders to an organization admin.
func (s *shop) list(w http.ResponseWriter, r *http.Request) {
	p, _ := authn.PrincipalFrom(r.Context()) // RequireUser made sure there is one
	s.mu.Lock()
	defer s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"org": p.OrgID, "orders": s.orders})
}
