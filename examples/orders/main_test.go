package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer is a bytes.Buffer safe for the service's and the test's
// goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// devMode runs the example in dev mode, in-process, on a free port, and
// returns its URL and its environment.
func devMode(t *testing.T) (string, func(string) string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := fmt.Sprint(ln.Addr().(*net.TCPAddr).Port)
	ln.Close()
	vars := map[string]string{"PORT": port, "PUSHGATE_DEV_DIR": t.TempDir()}
	getenv := func(k string) string { return vars[k] }

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	var stdout, stderr syncBuffer
	go func() { done <- run(ctx, []string{"orders"}, getenv, &stdout, &stderr) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("run: %v", err)
		}
	})
	url := "http://127.0.0.1:" + port
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if resp, err := http.Get(url + "/healthz"); err == nil {
			resp.Body.Close()
			return url, getenv
		}
		if time.Now().After(deadline) {
			t.Fatalf("the example never served; output:\n%s%s", stdout.String(), stderr.String())
		}
	}
}

// token runs the example's own `token` command, as `go run . token …` does.
func token(t *testing.T, getenv func(string) string, args ...string) string {
	t.Helper()
	var stdout, stderr bytes.Buffer
	if err := run(context.Background(), append([]string{"orders", "token"}, args...), getenv, &stdout, &stderr); err != nil {
		t.Fatalf("token %v: %v: %s", args, err, stderr.String())
	}
	return strings.TrimSpace(stdout.String())
}

func call(t *testing.T, method, url, token, body string, header map[string]string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// envelope is a wrapped Pub/Sub push body of one message.
func envelope(id, data string) string {
	return fmt.Sprintf(`{"message":{"data":%q,"messageId":%q},"subscription":"projects/local-dev/subscriptions/orders-push"}`,
		base64.StdEncoding.EncodeToString([]byte(data)), id)
}

// TestRoutes calls each of the example's routes in dev mode with the
// tokens its token command prints: the push route takes services' typed
// orders once each, the scheduler job runs, and only an organization admin
// lists the orders.
func TestRoutes(t *testing.T) {
	url, getenv := devMode(t)
	svc := token(t, getenv, "service")
	admin := token(t, getenv, "user", "--org", "org_acme", "--role", "admin")
	member := token(t, getenv, "user", "--org", "org_acme", "--role", "member")
	noOrg := token(t, getenv, "user")
	steps := []struct {
		name, method, path, token, body string
		header                          map[string]string
		want                            int
	}{
		{"an order pushed", "POST", "/orders/push", svc, envelope("m-1", `{"id":"A-1","qty":2}`), nil, 204},
		{"the same message again", "POST", "/orders/push", svc, envelope("m-1", `{"id":"A-1","qty":2}`), nil, 204},
		{"a poison order is acknowledged", "POST", "/orders/push", svc, envelope("m-2", `{"id":"A-2","qty":0}`), nil, 204},
		{"data that is no order", "POST", "/orders/push", svc, envelope("m-3", `not json`), nil, 204},
		{"no delivery at all", "POST", "/orders/push", svc, `{}`, nil, 400},
		{"a user may not push", "POST", "/orders/push", admin, envelope("m-4", `{"id":"A-4","qty":1}`), nil, 403},
		{"no token", "POST", "/orders/push", "", envelope("m-5", `{"id":"A-5","qty":1}`), nil, 401},
		{"the nightly job", "POST", "/orders/nightly", svc, "", map[string]string{"X-CloudScheduler": "true", "X-CloudScheduler-JobName": "nightly"}, 204},
		{"a user may not run the job", "POST", "/orders/nightly", admin, "", nil, 403},
		{"a member may not list", "GET", "/orders", member, "", nil, 403},
		{"a user of no organization may not list", "GET", "/orders", noOrg, "", nil, 403},
		{"a service may not list", "GET", "/orders", svc, "", nil, 403},
		{"the reference service is there too", "GET", "/whoami", admin, "", nil, 200},
	}
	for _, st := range steps {
		if got, body := call(t, st.method, url+st.path, st.token, st.body, st.header); got != st.want {
			t.Errorf("%s: %s %s got %d, want %d: %.200s", st.name, st.method, st.path, got, st.want, body)
		}
	}

	status, body := call(t, "GET", url+"/orders", admin, "", nil)
	var got struct {
		Org    string  `json:"org"`
		Orders []Order `json:"orders"`
	}
	if err := json.Unmarshal([]byte(body), &got); err != nil || status != 200 {
		t.Fatalf("GET /orders as admin: %d %.200s", status, body)
	}
	if got.Org != "org_acme" || len(got.Orders) != 1 || got.Orders[0] != (Order{ID: "A-1", Qty: 2}) {
		t.Errorf("GET /orders as admin: %+v, want org_acme with the one order A-1 x2", got)
	}
}
