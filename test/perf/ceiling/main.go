// Command ceiling is the load harness's bare ceiling: net/http answering
// the routes the harness calls with no authentication and as little work as
// a handler can do. No real service can be faster on the same machine, so
// it marks what the HTTP stack and the kernel cost by themselves.
//
// It listens on 127.0.0.1:$PORT and answers:
//
//	GET  /healthz      200 {"status":"ok"}
//	GET  /whoami       200 a fixed JSON body
//	POST /pubsub/push  204 after reading and discarding the body
//
// It is started by test/perf; it is not a sample of how to write a service.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"
)

func main() {
	if err := run(os.Getenv("PORT")); err != nil {
		fmt.Fprintln(os.Stderr, "ceiling:", err)
		os.Exit(1)
	}
}

var (
	healthBody = []byte(`{"status":"ok"}` + "\n")
	whoamiBody = []byte(`{"kind":"service","subject":"100000000000000000001","issuer":"https://accounts.google.com","email":"pubsub-push@perf-project.iam.gserviceaccount.com"}` + "\n")
)

func run(port string) error {
	if port == "" {
		port = "8080"
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", fixed(healthBody))
	mux.HandleFunc("GET /whoami", fixed(whoamiBody))
	mux.HandleFunc("POST /pubsub/push", func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusNoContent)
	})

	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", port))
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	go func() {
		<-ctx.Done()
		shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdownCtx)
	}()
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

func fixed(body []byte) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(body)
	}
}
