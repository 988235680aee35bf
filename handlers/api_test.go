package handlers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/cloudrun-authn/pushgate/authn"
	"github.com/cloudrun-authn/pushgate/handlers/push"
	"github.com/cloudrun-authn/pushgate/handlers/scheduler"
)

// fakePublisher records what it publishes.
type fakePublisher struct {
	data  []string
	attrs []map[string]string
	err   error
}

func (f *fakePublisher) Publish(ctx context.Context, data []byte, attrs map[string]string) (string, error) {
	if f.err != nil {
		return "", f.err
	}
	f.data = append(f.data, string(data))
	f.attrs = append(f.attrs, attrs)
	return fmt.Sprint(len(f.data)), nil
}

var discard = slog.New(slog.DiscardHandler)

func TestPublishEvent(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		contentType string
		body        string
		pubErr      error
		wantStatus  int
		wantData    string
	}{
		{"json", "application/json", `{"data":"hello","attributes":{"k":"v"}}`, nil, 202, "hello"},
		{"text", "text/plain; charset=utf-8", `hello text`, nil, 202, "hello text"},
		{"not json", "application/json", `hello`, nil, 400, ""},
		{"unknown field", "application/json", `{"data":"x","bogus":1}`, nil, 400, ""},
		{"two objects", "application/json", `{"data":"x"}{"data":"y"}`, nil, 400, ""},
		{"empty event", "application/json", `{}`, nil, 400, ""},
		{"empty text", "text/plain", ``, nil, 400, ""},
		{"empty attribute key", "application/json", `{"data":"x","attributes":{"":"v"}}`, nil, 400, ""},
		{"publish fails", "application/json", `{"data":"x"}`, errors.New("rpc error: unavailable"), 503, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			pub := &fakePublisher{err: tt.pubErr}
			req := httptest.NewRequest("POST", "/api/events", strings.NewReader(tt.body))
			req.Header.Set("Content-Type", tt.contentType)
			rec := httptest.NewRecorder()
			PublishEvent(pub, discard).ServeHTTP(rec, req)
			if rec.Code != tt.wantStatus {
				t.Fatalf("status: got %d, want %d (%s)", rec.Code, tt.wantStatus, rec.Body)
			}
			var body map[string]string
			if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
				t.Fatalf("body is not JSON: %q", rec.Body)
			}
			if tt.wantStatus == 202 {
				if body["messageId"] != "1" || len(pub.data) != 1 || pub.data[0] != tt.wantData {
					t.Errorf("got body %v, published %q; want messageId 1 and %q", body, pub.data, tt.wantData)
				}
				return
			}
			if body["error"] == "" || len(pub.data) != 0 {
				t.Errorf("got body %v, published %q; want an error and nothing published", body, pub.data)
			}
			if strings.Contains(body["error"], "rpc error") {
				t.Errorf("internal error leaked to the client: %q", body["error"])
			}
		})
	}
}

func TestPublishEventWithoutTopic(t *testing.T) {
	t.Parallel()
	rec := httptest.NewRecorder()
	PublishEvent(nil, discard).ServeHTTP(rec, httptest.NewRequest("POST", "/api/events", strings.NewReader(`{"data":"x"}`)))
	if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") == "" {
		t.Errorf("got %d Retry-After=%q, want 503 with Retry-After", rec.Code, rec.Header().Get("Retry-After"))
	}
}

func TestPublishEventTooLarge(t *testing.T) {
	t.Parallel()
	pub := &fakePublisher{}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, 16)
		PublishEvent(pub, discard).ServeHTTP(w, r)
	})
	for _, ct := range []string{"application/json", "text/plain"} {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest("POST", "/api/events", strings.NewReader(`{"data":"`+strings.Repeat("x", 100)+`"}`))
		req.Header.Set("Content-Type", ct)
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusRequestEntityTooLarge {
			t.Errorf("%s: got %d, want 413", ct, rec.Code)
		}
	}
}

func TestRecordPushThenList(t *testing.T) {
	t.Parallel()
	l := NewEventLog(10)
	now := func() time.Time { return time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC) }
	pt := time.Date(2026, 11, 23, 11, 59, 0, 0, time.UTC)
	err := RecordPush(l, now)(context.Background(), &push.Message{ID: "42", Data: []byte("hi"), Attributes: map[string]string{"a": "b"}, PublishTime: pt})
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	ListEvents(l).ServeHTTP(rec, httptest.NewRequest("GET", "/api/events", nil))
	want := `{"events":[{"id":"42","source":"pubsub","data":"hi","attributes":{"a":"b"},"publishTime":"2026-11-23T11:59:00Z","receivedAt":"2026-11-23T12:00:00Z"}]}`
	if got := strings.TrimSpace(rec.Body.String()); got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

// RecordPush copies the data: a wrapper that scrubs m.Data once the
// handler has returned leaves the event as it was.
func TestRecordPushCopiesData(t *testing.T) {
	t.Parallel()
	l := NewEventLog(4)
	next := RecordPush(l, time.Now)
	scrubbing := func(ctx context.Context, m *push.Message) error {
		defer clear(m.Data)
		return next(ctx, m)
	}
	if err := scrubbing(context.Background(), &push.Message{ID: "1", Data: []byte("payload")}); err != nil {
		t.Fatal(err)
	}
	if got := l.List()[0].Data; got != "payload" {
		t.Errorf("event data = %q, want payload", got)
	}
}

// A scheduler call becomes an event listed in the contract's shape:
// source "scheduler", the job, the body as data, the schedule time.
func TestRecordScheduleThenList(t *testing.T) {
	t.Parallel()
	l := NewEventLog(10)
	now := func() time.Time { return time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC) }
	st := time.Date(2026, 11, 23, 11, 59, 0, 0, time.UTC)
	if err := RecordSchedule(l, now)(context.Background(), &scheduler.Call{Job: "nightly", Body: []byte("payload"), ScheduleTime: st}); err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	ListEvents(l).ServeHTTP(rec, httptest.NewRequest("GET", "/api/events", nil))
	var got struct {
		Events []map[string]any `json:"events"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil || len(got.Events) != 1 {
		t.Fatalf("body %s: %v", rec.Body, err)
	}
	e := got.Events[0]
	id, _ := e["id"].(string)
	if !strings.HasPrefix(id, "sched-") || e["source"] != "scheduler" || e["job"] != "nightly" || e["data"] != "payload" ||
		e["publishTime"] != "2026-11-23T11:59:00Z" || e["receivedAt"] != "2026-11-23T12:00:00Z" {
		t.Errorf("event %v", e)
	}
}

func TestWhoami(t *testing.T) {
	t.Parallel()
	rec := httptest.NewRecorder()
	Whoami().ServeHTTP(rec, httptest.NewRequest("GET", "/whoami", nil))
	if rec.Code != http.StatusUnauthorized {
		t.Errorf("without a principal: got %d, want 401", rec.Code)
	}
	for _, tt := range []struct {
		name string
		p    authn.Principal
		want string
	}{
		{"service", authn.Principal{Kind: authn.KindService, Subject: "1234", Issuer: "https://accounts.google.com", Email: "push@p.iam.gserviceaccount.com"},
			`{"kind":"service","subject":"1234","issuer":"https://accounts.google.com","email":"push@p.iam.gserviceaccount.com"}`},
		{"Clerk user with an organization", authn.Principal{Kind: authn.KindUser, Provider: authn.ProviderClerk, Subject: "user_1", Issuer: "https://clerk.acme.example", OrgID: "org_1", OrgRole: "org:admin"},
			`{"kind":"user","subject":"user_1","issuer":"https://clerk.acme.example","provider":"clerk","orgId":"org_1","orgRole":"org:admin"}`},
		{"OpenID Connect user via a gateway", authn.Principal{Kind: authn.KindUser, Provider: "okta", Subject: "00u1", Issuer: "https://acme.okta.com", Email: "ada@acme.com", Via: "gw@p.iam.gserviceaccount.com"},
			`{"kind":"user","subject":"00u1","issuer":"https://acme.okta.com","email":"ada@acme.com","emailVerified":false,"provider":"okta","via":"gw@p.iam.gserviceaccount.com"}`},
		{"OpenID Connect user, email verified", authn.Principal{Kind: authn.KindUser, Provider: "auth0", Subject: "a|1", Issuer: "https://acme.auth0.com/", Email: "ada@acme.com", EmailVerified: true},
			`{"kind":"user","subject":"a|1","issuer":"https://acme.auth0.com/","email":"ada@acme.com","emailVerified":true,"provider":"auth0"}`},
	} {
		req := httptest.NewRequest("GET", "/whoami", nil)
		req = req.WithContext(authn.ContextWithPrincipal(req.Context(), tt.p))
		rec = httptest.NewRecorder()
		Whoami().ServeHTTP(rec, req)
		body, _ := io.ReadAll(rec.Body)
		if got := strings.TrimSpace(string(body)); got != tt.want {
			t.Errorf("%s: got  %s\nwant %s", tt.name, got, tt.want)
		}
		for header, want := range map[string]string{"Content-Type": "application/json", "X-Content-Type-Options": "nosniff"} {
			if got := rec.Header().Get(header); got != want {
				t.Errorf("%s: %s = %q, want %q", tt.name, header, got, want)
			}
		}
	}
}

func TestRecordScheduleDistinctIDs(t *testing.T) {
	t.Parallel()
	l := NewEventLog(10)
	h := RecordSchedule(l, time.Now)
	for range 2 {
		if err := h(context.Background(), &scheduler.Call{Job: "nightly", Body: []byte("b")}); err != nil {
			t.Fatal(err)
		}
	}
	got := l.List()
	if len(got) != 2 || got[0].ID == got[1].ID || got[0].Job != "nightly" || got[0].Source != SourceScheduler {
		t.Errorf("got %+v, want two scheduler events for nightly with distinct IDs", got)
	}
}
