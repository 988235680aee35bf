package test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// newClient is the tests' HTTP client: loopback only, no redirects
// followed, a generous timeout that only turns a hang into a failure.
func newClient(conns int) *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.Proxy = nil
	tr.MaxIdleConnsPerHost = conns
	return &http.Client{
		Transport: tr,
		Timeout:   time.Minute,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}

// request is one call to a service.
type request struct {
	method string
	url    string
	token  string // sent as Authorization: Bearer <token> when set
	cookie string // sent as the __session cookie when set
	header map[string]string
	body   string
}

// response is what came back.
type response struct {
	status int
	header http.Header
	body   []byte
}

// send makes the request with the suite's client; it fails the test when
// no response comes.
func send(t testing.TB, r request) response {
	t.Helper()
	resp, err := trySend(t.Context(), r)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

// trySend makes the request with the suite's client. Unlike send it may be
// called from any goroutine.
func trySend(ctx context.Context, r request) (response, error) {
	req, err := http.NewRequestWithContext(ctx, r.method, r.url, strings.NewReader(r.body))
	if err != nil {
		return response{}, fmt.Errorf("new request: %w", err)
	}
	if r.token != "" {
		req.Header.Set("Authorization", "Bearer "+r.token)
	}
	if r.cookie != "" {
		req.AddCookie(&http.Cookie{Name: "__session", Value: r.cookie})
	}
	if r.body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range r.header {
		req.Header.Set(k, v)
	}
	resp, err := e2e.client.Do(req)
	if err != nil {
		return response{}, fmt.Errorf("%s %s: %w", r.method, pathOf(r.url), redactURL(err))
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return response{}, fmt.Errorf("%s %s: read body: %w", r.method, pathOf(r.url), err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: body}, nil
}

// redactURL drops the URL net/http puts in its errors: a test may put a
// token in the query string.
func redactURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return fmt.Errorf("%s: %w", ue.Op, ue.Err)
	}
	return err
}

// object decodes the body as a JSON object; it fails the test otherwise.
func (r response) object(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("status %d: body is not a JSON object: %.300q", r.status, r.body)
	}
	return m
}

// pathOf strips scheme, host and query (which may hold a token) from a URL
// for messages.
func pathOf(u string) string {
	u, _, _ = strings.Cut(u, "?")
	if i := strings.Index(u, "://"); i >= 0 {
		if j := strings.IndexByte(u[i+3:], '/'); j >= 0 {
			return u[i+3+j:]
		}
	}
	return u
}

// envelope is a wrapped Pub/Sub push body, as Pub/Sub sends it.
func envelope(id, data string, attrs map[string]string, attempt int) string {
	msg := map[string]any{
		"data":         base64.StdEncoding.EncodeToString([]byte(data)),
		"messageId":    id,
		"message_id":   id,
		"publishTime":  time.Now().UTC().Format(time.RFC3339Nano),
		"publish_time": time.Now().UTC().Format(time.RFC3339Nano),
	}
	if len(attrs) > 0 {
		msg["attributes"] = attrs
	}
	b, _ := json.Marshal(map[string]any{
		"message":         msg,
		"subscription":    "projects/" + project + "/subscriptions/" + subscriptionID,
		"deliveryAttempt": attempt,
	})
	return string(b)
}

// event is an event as GET /api/events lists it.
type event struct {
	ID          string            `json:"id"`
	Source      string            `json:"source"`
	Data        string            `json:"data"`
	Attributes  map[string]string `json:"attributes"`
	PublishTime string            `json:"publishTime"`
	ReceivedAt  string            `json:"receivedAt"`
	Job         string            `json:"job"`
}

// listEvents calls GET /api/events with a user token.
func listEvents(t testing.TB, url, token string) []event {
	t.Helper()
	r := send(t, request{method: "GET", url: url + "/api/events", token: token})
	if r.status != http.StatusOK {
		t.Fatalf("GET /api/events: got %d, want 200: %.300s", r.status, r.body)
	}
	var body struct {
		Events []event `json:"events"`
	}
	if err := json.Unmarshal(r.body, &body); err != nil {
		t.Fatalf("GET /api/events: %v: %.300s", err, r.body)
	}
	return body.Events
}

// waitEvent polls GET /api/events until an event for which match is true
// is listed, and returns it.
func waitEvent(t testing.TB, url string, what string, match func(event) bool) event {
	t.Helper()
	token := e2e.userToken(t)
	deadline := time.Now().Add(waitLimit)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		for _, e := range listEvents(t, url, token) {
			if match(e) {
				return e
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no event %s listed within %v", what, waitLimit)
		}
		<-tick.C
	}
}
