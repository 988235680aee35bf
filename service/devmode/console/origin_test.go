package console

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestOriginGuard(t *testing.T) {
	t.Parallel()
	const rebound = "rebind.example:" + testPort
	tests := []struct {
		name   string
		method string
		host   string
		path   string
		header map[string]string
		want   int
		reason string // in the 403's error and log line
	}{
		{"the page, typed in", "GET", testHost, "/", map[string]string{"Sec-Fetch-Site": "none"}, 200, ""},
		{"the page, from curl", "GET", testHost, "/", nil, 200, ""},
		{"the page's script", "GET", testHost, "/dev/static/console.js", map[string]string{"Sec-Fetch-Site": "same-origin"}, 200, ""},
		{"activity from the page", "GET", testHost, "/dev/activity", map[string]string{"Sec-Fetch-Site": "same-origin"}, 200, ""},
		{"token from the page", "POST", testHost, "/dev/token", browserPOST, 200, ""},

		{"the page under a rebound name", "GET", rebound, "/", nil, 403, "host is not"},
		{"token from a rebound page", "POST", rebound, "/dev/token", map[string]string{"Origin": "http://" + rebound, "Sec-Fetch-Site": "same-origin"}, 403, "host is not"},
		{"activity from a rebound page", "GET", rebound, "/dev/activity", map[string]string{"Sec-Fetch-Site": "same-origin"}, 403, "host is not"},
		{"another port of this machine", "GET", "127.0.0.1:9999", "/dev/activity", nil, 403, "host is not"},
		{"localhost, not the page", "GET", "localhost:" + testPort, "/dev/activity", nil, 403, "host is not"},
		{"token from another site", "POST", testHost, "/dev/token", map[string]string{"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"}, 403, "origin is not"},
		{"token from another port", "POST", testHost, "/dev/token", map[string]string{"Origin": "http://127.0.0.1:3000", "Sec-Fetch-Site": "same-site"}, 403, "origin is not"},
		{"token from an opaque origin", "POST", testHost, "/dev/token", map[string]string{"Origin": "null"}, 403, "origin is not"},
		{"activity read by another site", "GET", testHost, "/dev/activity", map[string]string{"Origin": "https://evil.example"}, 403, "origin is not"},
		{"stream read by another site", "GET", testHost, "/dev/activity/stream", map[string]string{"Origin": "https://evil.example"}, 403, "origin is not"},
		{"activity embedded by another site", "GET", testHost, "/dev/activity", map[string]string{"Sec-Fetch-Site": "cross-site"}, 403, "Sec-Fetch-Site is cross-site"},
		{"token without an Origin", "POST", testHost, "/dev/token", nil, 403, "no Origin header"},
		{"token from a navigation", "POST", testHost, "/dev/token", map[string]string{"Origin": testOrigin, "Sec-Fetch-Site": "none"}, 403, "Sec-Fetch-Site is none"},
		{"token by GET", "GET", testHost, "/dev/token", browserPOST, 405, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			w := f.serve(tt.method, tt.host, tt.path, tt.header)
			if w.Code != tt.want {
				t.Fatalf("got %d, want %d: %.300s", w.Code, tt.want, w.Body)
			}
			logged := strings.Count(f.logs.String(), RefusedMessage)
			if tt.want != http.StatusForbidden {
				if logged != 0 || len(f.refusals.List()) != 0 {
					t.Errorf("refusal logged %d times for an admitted request:\n%s", logged, f.logs)
				}
				return
			}
			var body struct{ Error string }
			if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil || !strings.Contains(body.Error, tt.reason) {
				t.Errorf("body %q, want an error with %q", w.Body, tt.reason)
			}
			if strings.Contains(w.Body.String(), `"token"`) {
				t.Errorf("a refused request got a token")
			}
			got := f.refusals.List()
			if logged != 1 || len(got) != 1 || !strings.Contains(got[0].Fields["reason"].(string), tt.reason) {
				t.Errorf("logged %d times, kept %+v; want once, with the reason %q", logged, got, tt.reason)
			}
		})
	}
}

func TestLocalhostRedirectsToTheOrigin(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	w := f.serve("GET", "localhost:"+testPort, "/", nil)
	if w.Code != http.StatusTemporaryRedirect || w.Header().Get("Location") != testOrigin+"/" {
		t.Errorf("got %d to %q, want 307 to %s/", w.Code, w.Header().Get("Location"), testOrigin)
	}
}

func TestEveryAnswerIsPrivate(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	answers := map[string]*httptest.ResponseRecorder{
		"page":     f.serve("GET", testHost, "/", nil),
		"script":   f.serve("GET", testHost, "/dev/static/console.js", nil),
		"token":    f.serve("POST", testHost, "/dev/token", browserPOST),
		"activity": f.serve("GET", testHost, "/dev/activity", nil),
		"refused":  f.serve("POST", testHost, "/dev/token", nil),
	}
	want := map[string]string{
		"Cache-Control":                "no-store",
		"X-Content-Type-Options":       "nosniff",
		"X-Frame-Options":              "DENY",
		"Cross-Origin-Resource-Policy": "same-origin",
	}
	for name, w := range answers {
		for k, v := range want {
			if got := w.Header().Get(k); got != v {
				t.Errorf("%s: %s is %q, want %q", name, k, got, v)
			}
		}
	}
	csp := answers["page"].Header().Get("Content-Security-Policy")
	for _, want := range []string{"default-src 'none'", "script-src 'self'", "connect-src 'self'", "frame-ancestors 'none'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("page CSP %q lacks %s", csp, want)
		}
	}
	if strings.Contains(csp, "unsafe") {
		t.Errorf("page CSP %q allows something unsafe", csp)
	}
}
