// Command faultsvc is the reference service with faults injected into its
// push handler, for the end-to-end tests in package test. It is built on the
// framework exactly as a user's program would be: service.RunWith with a
// WrapPush option around the reference handler.
//
// Its environment is the reference service's (see the contract) plus:
//
//	FAULT_RATE            fraction (0..1) of first delivery attempts
//	                      (deliveryAttempt 1) that fail with an error, so
//	                      that the handler answers 500 and Pub/Sub delivers
//	                      the message again. Default 0.
//	FAULT_PROCESSED_FILE  when set, the ID of every message processed with
//	                      success is appended to this file, one per line,
//	                      so that a test can count processing per ID across
//	                      restarts.
//	FAULT_HOLD_FIFO       when set, a message with the attribute hold=true
//	                      is held until a byte (or EOF) is read from this
//	                      named pipe: a request in flight for as long as the
//	                      test wants, e.g. across a SIGTERM.
//
// And, whatever the environment, a message with the attribute
// poison=true fails with a push.Permanent error (acknowledged as poison),
// and one with fail=true fails with an error (500, delivered again).
//
// Every line it writes is a JSON log line, like the service's own.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"strconv"
	"sync"

	"github.com/cloudrun-authn/pushgate/handlers/push"
	"github.com/cloudrun-authn/pushgate/service"
)

func main() {
	service.RouteLibraryLogs(os.Stderr)
	if err := run(context.Background(), os.Args, os.Getenv, os.Stdout, os.Stderr); err != nil {
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	logger := service.NewLogger(stdout, "", slog.LevelInfo).With("component", "faultsvc")
	f, err := newFaults(getenv)
	if err != nil {
		service.NewLogger(stderr, "", slog.LevelInfo).Error("faultsvc: " + err.Error())
		return err
	}
	defer f.close()
	f.logger = logger
	return service.RunWith(ctx, service.Options{WrapPush: f.wrap}, args, getenv, stdout, stderr)
}

// faults is the fault injection around the reference push handler.
type faults struct {
	rate   float64
	hold   string // path of the named pipe that releases held messages
	logger *slog.Logger

	mu        sync.Mutex
	processed *os.File // nil: not recorded
}

func newFaults(getenv func(string) string) (*faults, error) {
	f := &faults{hold: getenv("FAULT_HOLD_FIFO")}
	if v := getenv("FAULT_RATE"); v != "" {
		rate, err := strconv.ParseFloat(v, 64)
		if err != nil || rate < 0 || rate > 1 {
			return nil, fmt.Errorf("FAULT_RATE: %q is not a fraction between 0 and 1", v)
		}
		f.rate = rate
	}
	if path := getenv("FAULT_PROCESSED_FILE"); path != "" {
		file, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
		if err != nil {
			return nil, fmt.Errorf("FAULT_PROCESSED_FILE: %w", err)
		}
		f.processed = file
	}
	return f, nil
}

func (f *faults) close() {
	if f.processed != nil {
		_ = f.processed.Close()
	}
}

// errInjected is the failure faultsvc injects; errPoison the permanent one.
var (
	errInjected = errors.New("faultsvc: injected failure")
	errPoison   = errors.New("faultsvc: poison message")
)

// wrap is the service.Options.WrapPush hook.
func (f *faults) wrap(next push.HandlerFunc) push.HandlerFunc {
	return func(ctx context.Context, m *push.Message) error {
		if f.hold != "" && m.Attributes["hold"] == "true" {
			if err := f.holdUntilReleased(ctx, m); err != nil {
				return err
			}
		}
		switch {
		case m.Attributes["poison"] == "true":
			return push.Permanent(errPoison)
		case m.Attributes["fail"] == "true":
			return errInjected
		}
		if m.DeliveryAttempt == 1 && f.rate > 0 && rand.Float64() < f.rate {
			f.logger.WarnContext(ctx, "fault injected", "messageId", m.ID, "attempt", m.DeliveryAttempt)
			return errInjected
		}
		if err := next(ctx, m); err != nil {
			return err
		}
		return f.record(m.ID)
	}
}

// record appends id to the processed file. A failure to record fails the
// delivery, so that it is retried rather than counted as lost.
func (f *faults) record(id string) error {
	if f.processed == nil {
		return nil
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, err := f.processed.WriteString(id + "\n"); err != nil {
		return fmt.Errorf("faultsvc: record %s: %w", id, err)
	}
	return nil
}

// holdUntilReleased blocks until the test writes to (or closes) the named
// pipe, or ctx ends.
func (f *faults) holdUntilReleased(ctx context.Context, m *push.Message) error {
	f.logger.InfoContext(ctx, "holding message", "messageId", m.ID)
	released := make(chan error, 1)
	go func() {
		fifo, err := os.Open(f.hold) // blocks until the test opens it for writing
		if err != nil {
			released <- err
			return
		}
		defer fifo.Close()
		_, err = fifo.Read(make([]byte, 1))
		if errors.Is(err, io.EOF) {
			err = nil
		}
		released <- err
	}()
	select {
	case err := <-released:
		if err != nil {
			return fmt.Errorf("faultsvc: hold: %w", err)
		}
		f.logger.InfoContext(ctx, "released message", "messageId", m.ID)
		return nil
	case <-ctx.Done():
		return fmt.Errorf("faultsvc: hold: %w", ctx.Err())
	}
}
