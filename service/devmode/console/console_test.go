package console

import (
	"bufio"
	"encoding/json"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/cloudrun-authn/pushgate/authn"
	"github.com/cloudrun-authn/pushgate/service/devmode"
	"github.com/cloudrun-authn/pushgate/service/dispatch"
)

// devAuthenticator is dev mode's authenticator for users, as the service
// builds it: the dev Clerk key, the dev issuer, the console's origin as
// authorized party. Its refusals are logged through f's teed logger.
func devAuthenticator(t *testing.T, f *fixture) *authn.Authenticator {
	t.Helper()
	a, err := authn.New(authn.Config{Logger: f.logger, Clerk: &authn.ClerkConfig{
		Issuer: devmode.ClerkIssuer, Keys: f.keys.ClerkKeySet(), AuthorizedParties: []string{testOrigin},
	}})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// TestTokenIsTheBrowserFrontendsToken: the page's token is accepted as a
// Clerk frontend's session token is: as a Bearer token, and in the
// __session cookie on a POST from the console's origin (its azp is that
// origin), while the same cookie POST from another origin is refused.
func TestTokenIsTheBrowserFrontendsToken(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	w := f.serve("POST", testHost, PathToken, browserPOST)
	var got tokenResponse
	if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil || w.Code != http.StatusOK {
		t.Fatalf("POST /dev/token: %d %.200s", w.Code, w.Body)
	}
	if got.Subject != User || got.AZP != testOrigin || time.Until(got.ExpiresAt) < 59*time.Minute {
		t.Errorf("token for %q, azp %q, expires %v; want %s, %s, in an hour", got.Subject, got.AZP, got.ExpiresAt, User, testOrigin)
	}

	auth := devAuthenticator(t, f)
	api := chi.NewRouter()
	api.Use(auth.Middleware)
	api.With(authn.RequireUser()).Post("/api/events", func(w http.ResponseWriter, r *http.Request) {
		p, _ := authn.PrincipalFrom(r.Context())
		_, _ = w.Write([]byte(p.Subject))
	})
	tests := []struct {
		name   string
		header map[string]string
		cookie bool
		want   int
	}{
		{"Bearer", map[string]string{"Authorization": "Bearer " + got.Token}, false, 200},
		{"cookie from the console", map[string]string{"Origin": testOrigin}, true, 200},
		{"cookie from another origin", map[string]string{"Origin": "https://evil.example"}, true, 401},
		{"cookie without an Origin", nil, true, 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("POST", testOrigin+"/api/events", nil)
			for k, v := range tt.header {
				r.Header.Set(k, v)
			}
			if tt.cookie {
				r.AddCookie(&http.Cookie{Name: authn.SessionCookie, Value: got.Token})
			}
			w := httptest.NewRecorder()
			api.ServeHTTP(w, r)
			if w.Code != tt.want || (tt.want == 200 && w.Body.String() != User) {
				t.Errorf("got %d %q, want %d", w.Code, w.Body, tt.want)
			}
		})
	}
}

// TestTeeKeepsAuthnRefusals: what the authenticator logs of a refusal is
// kept, with the rule's reason, and nothing else is; the log still gets
// every line.
func TestTeeKeepsAuthnRefusals(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	auth := devAuthenticator(t, f)
	h := auth.Middleware(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	r := httptest.NewRequest("GET", testOrigin+"/whoami", nil)
	r.Header.Set("Authorization", "Bearer not.a.token")
	h.ServeHTTP(httptest.NewRecorder(), r)
	f.logger.Info("GET /whoami 401") // an access line: not a refusal

	got := f.refusals.List()
	if len(got) != 1 {
		t.Fatalf("kept %d refusals %+v, want 1", len(got), got)
	}
	if f := got[0].Fields; got[0].Message != "authn: request refused" || f["reason"] != "malformed token" ||
		f["status"] != int64(401) || f["path"] != "/whoami" || f["source"] != "authorization" {
		t.Errorf("kept %+v, want the refusal of GET /whoami with its reason and source", got[0])
	}
	if n := strings.Count(f.logs.String(), "\n"); n != 2 {
		t.Errorf("the log got %d lines, want 2:\n%s", n, f.logs)
	}
}

// TestStreamFollowsChanges: the stream sends the activity at once, again
// after a delivery is reported, and ends when the console is closed.
func TestStreamFollowsChanges(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	srv := httptest.NewServer(f.router)
	defer srv.Close()
	req, _ := http.NewRequestWithContext(t.Context(), "GET", srv.URL+PathStream, nil)
	req.Host = testHost
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); resp.StatusCode != 200 || ct != "text/event-stream" {
		t.Fatalf("got %d %s, want 200 text/event-stream", resp.StatusCode, ct)
	}
	events := make(chan Activity, 10)
	go func() {
		defer close(events)
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			if data, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
				var a Activity
				if err := json.Unmarshal([]byte(data), &a); err != nil {
					t.Errorf("event is not an Activity: %v: %.200s", err, data)
				}
				events <- a
			}
		}
	}()
	next := func() (Activity, bool) {
		select {
		case a, ok := <-events:
			return a, ok
		case <-time.After(10 * time.Second):
			t.Fatal("no event within 10 s")
			return Activity{}, false
		}
	}
	if a, ok := next(); !ok || len(a.Deliveries) != 0 {
		t.Fatalf("first event %+v, want no deliveries yet", a)
	}
	f.deliveries.Add(dispatch.Delivery{MessageID: "m1", Attempt: 1, Status: 204, Result: dispatch.ResultAcked})
	if a, ok := next(); !ok || len(a.Deliveries) != 1 || a.Deliveries[0].MessageID != "m1" {
		t.Fatalf("event after a delivery: %+v, want m1", a)
	}
	f.console.Close()
	if a, ok := next(); ok {
		t.Fatalf("an event after Close: %+v, want the stream to end", a)
	}
}

func TestRecentKeepsTheNewest(t *testing.T) {
	t.Parallel()
	r := NewRecent[int](3)
	changed := r.Changed()
	if got := r.List(); len(got) != 0 {
		t.Errorf("new: %v, want empty", got)
	}
	for i := 1; i <= 5; i++ {
		r.Add(i)
	}
	select {
	case <-changed:
	default:
		t.Error("Changed() was not closed by Add")
	}
	if got := r.List(); len(got) != 3 || got[0] != 5 || got[1] != 4 || got[2] != 3 {
		t.Errorf("List() = %v, want [5 4 3]", got)
	}
	if got := NewRecent[int](0); len(got.ring) != 1 {
		t.Errorf("NewRecent(0) keeps %d, want 1", len(got.ring))
	}
}

// TestAssetsAreSelfContained: the page loads nothing from another origin
// (no CDN, no font service) and writes no HTML from data.
func TestAssetsAreSelfContained(t *testing.T) {
	t.Parallel()
	external := regexp.MustCompile(`(?i)(https?:)?//[a-z0-9.-]+\.[a-z]{2,}|@import|url\(`)
	err := fs.WalkDir(assets, "assets", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(assets, path)
		if err != nil {
			return err
		}
		if m := external.Find(b); m != nil {
			t.Errorf("%s refers to something outside the page: %q", path, m)
		}
		if strings.Contains(string(b), "innerHTML") || strings.Contains(string(b), "document.write") {
			t.Errorf("%s writes HTML; use textContent", path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
