package service

import (
	"bufio"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"
)

// devVars is a dev-mode environment: no provider, keys in a temporary
// directory, any free port.
func devVars(t *testing.T) map[string]string {
	return map[string]string{"PUSHGATE_DEV_DIR": t.TempDir(), "PORT": "0"}
}

// consoleRequest calls a console route as the console's page does.
func consoleRequest(t *testing.T, r *running, method, path string) *http.Response {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, r.base+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Origin", r.base)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

// TestDevConsoleOnlyInDevMode: the console's routes serve in dev mode and
// are absent (404) in production configuration.
func TestDevConsoleOnlyInDevMode(t *testing.T) {
	t.Parallel()
	routes := []struct{ method, path string }{
		{"GET", "/"}, {"GET", "/dev/static/console.js"}, {"POST", "/dev/token"}, {"GET", "/dev/activity"},
	}
	for _, mode := range []string{"dev", "production"} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			vars := devVars(t)
			want := http.StatusOK
			if mode == "production" {
				vars, want = newTestEnv(t).vars, http.StatusNotFound
			}
			r := startRun(t, Options{}, vars)
			for _, rt := range routes {
				if got := consoleRequest(t, r, rt.method, rt.path); got.StatusCode != want {
					t.Errorf("%s %s: got %d, want %d", rt.method, rt.path, got.StatusCode, want)
				}
			}
		})
	}
}

// TestDevConsoleSeesTheService: the console's activity holds the push
// loop's delivery of a published event and the authenticator's refusal of
// a bad token; an open stream does not hold up shutdown.
func TestDevConsoleSeesTheService(t *testing.T) {
	t.Parallel()
	r := startRun(t, Options{}, devVars(t))
	stream := consoleRequest(t, r, "GET", "/dev/activity/stream")
	if stream.StatusCode != http.StatusOK {
		t.Fatalf("stream: %d", stream.StatusCode)
	}
	var tok struct{ Token string }
	if err := json.NewDecoder(consoleRequest(t, r, "POST", "/dev/token").Body).Decode(&tok); err != nil || tok.Token == "" {
		t.Fatalf("no token: %v", err)
	}
	if resp := r.do(t, "POST", "/api/events", tok.Token, `{"data":"seen by the console"}`); resp.StatusCode != http.StatusAccepted {
		t.Fatalf("publish: %d", resp.StatusCode)
	}
	if resp := r.do(t, "GET", "/whoami", tok.Token+"x", ""); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("bad token: %d", resp.StatusCode)
	}

	// Each event of the stream is the whole activity; wait for one with both.
	sc := bufio.NewScanner(stream.Body)
	sc.Buffer(nil, 1<<20)
	var seen bool
	for !seen && sc.Scan() {
		data, ok := strings.CutPrefix(sc.Text(), "data: ")
		if !ok {
			continue
		}
		var a struct {
			Deliveries []struct{ Result string }
			Refusals   []struct{ Fields map[string]any }
		}
		if err := json.Unmarshal([]byte(data), &a); err != nil {
			t.Fatal(err)
		}
		seen = len(a.Deliveries) == 1 && a.Deliveries[0].Result == "acked" &&
			len(a.Refusals) == 1 && a.Refusals[0].Fields["path"] == "/whoami"
	}
	if !seen {
		t.Fatalf("the stream ended without the delivery and the refusal: %v", sc.Err())
	}

	start := time.Now()
	r.cancel()
	if err := <-r.done; err != nil {
		t.Errorf("Run: %v, want nil: the open stream must not hold up shutdown", err)
	}
	r.done <- nil // for the cleanup
	if d := time.Since(start); d > ShutdownGrace/2 {
		t.Errorf("shutdown took %v with a stream open", d)
	}
}
