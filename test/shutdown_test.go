package test

import (
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// TestGracefulShutdown: a push delivery in flight when SIGTERM arrives
// completes with its status and its message is processed; the service
// stops accepting connections at once, and exits 0 once the delivery is
// answered.
func TestGracefulShutdown(t *testing.T) {
	s := newStack(t)
	dir := t.TempDir()
	fifo := filepath.Join(dir, "hold")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatalf("mkfifo: %v", err)
	}
	processed := filepath.Join(dir, "processed")
	s.env["FAULT_HOLD_FIFO"] = fifo
	s.env["FAULT_PROCESSED_FILE"] = processed
	s.env["ACCESS_LOG"] = "all" // the 204's access line shows when it was answered
	svc := startProc(t, "faultsvc", e2e.faultBin, s.env)

	id := "held-" + randomHex(4)
	token := e2e.serviceToken(t)
	answered := make(chan response, 1)
	go func() {
		r, err := trySend(context.Background(), request{method: "POST", url: svc.url + "/pubsub/push",
			token: token, body: envelope(id, "held across SIGTERM", map[string]string{"hold": "true"}, 1)})
		if err != nil {
			t.Errorf("the held delivery got no answer: %v", err)
		}
		answered <- r
	}()
	if _, ok := svc.waitLog(func(m map[string]any) bool { return m["message"] == "holding message" && m["messageId"] == id }); !ok {
		t.Fatalf("the delivery was never held; output:\n%s", svc.logs.tail(10))
	}

	svc.terminate(t)
	if _, ok := svc.waitLog(func(m map[string]any) bool { return m["message"] == "shutting down" }); !ok {
		t.Fatalf("no \"shutting down\" line after SIGTERM; output:\n%s", svc.logs.tail(10))
	}
	waitRefused(t, svc.url)
	select {
	case r := <-answered:
		t.Fatalf("the held delivery was answered (%d) before it was released", r.status)
	default:
	}

	release(t, fifo)
	select {
	case r := <-answered:
		if r.status != http.StatusNoContent {
			t.Errorf("held delivery: got %d, want 204: %.300s", r.status, r.body)
		}
	case <-time.After(waitLimit):
		t.Fatalf("the held delivery was not answered within %v of its release", waitLimit)
	}
	if code := svc.wait(t); code != 0 {
		t.Errorf("exit status: got %d, want 0; output:\n%s", code, svc.logs.tail(10))
	}
	if n := readProcessed(t, processed)[id]; n != 1 {
		t.Errorf("the held message was processed %d times, want 1", n)
	}

	// The delivery was answered after the shutdown began, and the process
	// said it stopped.
	order := []string{}
	svc.countLogs(func(m map[string]any) bool {
		switch msg := m["message"]; msg {
		case "shutting down", "POST /pubsub/push 204", "stopped":
			order = append(order, msg.(string))
		}
		return false
	})
	want := []string{"shutting down", "POST /pubsub/push 204", "stopped"}
	if len(order) != len(want) || order[0] != want[0] || order[1] != want[1] || order[2] != want[2] {
		t.Errorf("log order: got %q, want %q", order, want)
	}
}

// waitRefused polls with new connections until the service refuses them:
// after SIGTERM it must stop accepting while it drains. A connection that
// the kernel accepted just before the listener closed may end without an
// answer (EOF, reset); polling goes on until one is refused.
func waitRefused(t *testing.T, url string) {
	t.Helper()
	tr := &http.Transport{DisableKeepAlives: true}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	deadline := time.Now().Add(waitLimit)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		resp, err := client.Get(url + "/healthz")
		if errors.Is(err, syscall.ECONNREFUSED) {
			return
		}
		if err == nil {
			resp.Body.Close()
		}
		if time.Now().After(deadline) {
			t.Fatalf("new connections not refused %v after SIGTERM (last: %v)", waitLimit, err)
		}
		<-tick.C
	}
}

// release lets the held delivery go on: faultsvc reads one byte from the
// named pipe.
func release(t *testing.T, fifo string) {
	t.Helper()
	opened := make(chan error, 1)
	go func() {
		f, err := os.OpenFile(fifo, os.O_WRONLY, 0) // waits for faultsvc's reader
		if err == nil {
			_, err = f.Write([]byte{1})
			err = errors.Join(err, f.Close())
		}
		opened <- err
	}()
	select {
	case err := <-opened:
		if err != nil {
			t.Fatalf("release: %v", err)
		}
	case <-time.After(waitLimit):
		t.Fatalf("release: faultsvc never opened the pipe")
	}
}
