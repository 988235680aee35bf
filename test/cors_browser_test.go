package test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestCORS: a preflight from an allowed origin gets the CORS headers, with
// Authorization allowed, and needs no token; any other origin gets none.
func TestCORS(t *testing.T) {
	s := newStack(t)
	svc := s.start(t)
	user := e2e.userToken(t)
	preflight := map[string]string{
		"Access-Control-Request-Method":  "POST",
		"Access-Control-Request-Headers": "authorization,content-type",
	}
	tests := []struct {
		name    string
		method  string
		path    string
		origin  string
		token   string
		header  map[string]string
		want    int // 0: any status
		allowed bool
	}{
		{"preflight, allowed origin, events", "OPTIONS", "/api/events", appOrigin, "", preflight, 0, true},
		{"preflight, allowed origin, whoami", "OPTIONS", "/whoami", appOrigin, "", preflight, 0, true},
		{"preflight, other origin", "OPTIONS", "/api/events", "https://evil.example", "", preflight, 0, false},
		{"preflight, origin of another port", "OPTIONS", "/api/events", appOrigin + ":8443", "", preflight, 0, false},
		{"GET, allowed origin", "GET", "/api/events", appOrigin, user, nil, 200, true},
		{"GET, other origin", "GET", "/api/events", "https://evil.example", user, nil, 200, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := map[string]string{"Origin": tt.origin}
			for k, v := range tt.header {
				h[k] = v
			}
			r := send(t, request{method: tt.method, url: svc.url + tt.path, token: tt.token, header: h})
			if tt.method == "OPTIONS" && (r.status == 401 || r.status == 403) {
				t.Fatalf("preflight: got %d; a preflight needs no token", r.status)
			}
			if tt.want != 0 && r.status != tt.want {
				t.Fatalf("got %d, want %d: %.300s", r.status, tt.want, r.body)
			}
			acao := r.header.Get("Access-Control-Allow-Origin")
			if !tt.allowed {
				for k := range r.header {
					if strings.HasPrefix(k, "Access-Control-") {
						t.Errorf("origin %s got CORS header %s: %q", tt.origin, k, r.header.Get(k))
					}
				}
				return
			}
			if acao != tt.origin {
				t.Errorf("Access-Control-Allow-Origin: got %q, want %q", acao, tt.origin)
			}
			if tt.method == "OPTIONS" {
				allowHeaders := strings.ToLower(r.header.Get("Access-Control-Allow-Headers"))
				if !strings.Contains(allowHeaders, "authorization") {
					t.Errorf("Access-Control-Allow-Headers: got %q, want Authorization in it", allowHeaders)
				}
				if !strings.Contains(r.header.Get("Access-Control-Allow-Methods"), "POST") {
					t.Errorf("Access-Control-Allow-Methods: got %q, want POST in it", r.header.Get("Access-Control-Allow-Methods"))
				}
			}
		})
	}
	svc.stopOK(t)
}

// page is the single-page app the browser loads: it calls the service on
// another origin with a Bearer token, as a Clerk frontend does.
const page = `<!doctype html>
<html><head><meta charset="utf-8"><title>pushgate e2e</title></head>
<body>
<script>
async function call(method, url, token, body) {
  const init = {method: method, headers: {"Authorization": "Bearer " + token}};
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  try {
    const r = await fetch(url, init);
    return {status: r.status, body: await r.text(), error: ""};
  } catch (e) {
    return {status: 0, body: "", error: String(e)};
  }
}
async function runChecks(api, token) {
  return {
    get: await call("GET", api + "/api/events", token),
    post: await call("POST", api + "/api/events", token, {data: "from the browser", attributes: {origin: location.origin}}),
  };
}
</script>
</body></html>`

// browserResult is what runChecks returns.
type browserResult struct {
	Get  fetchResult `json:"get"`
	Post fetchResult `json:"post"`
}

type fetchResult struct {
	Status int    `json:"status"`
	Body   string `json:"body"`
	Error  string `json:"error"`
}

// TestBrowserCORS loads a page in headless Chromium from one loopback
// origin that calls the service on another with a Bearer user token: the
// preflight, GET and POST succeed from the allowed origin, and are blocked
// by the browser from an origin that is not allowed (the service never
// sees the GET or POST).
func TestBrowserCORS(t *testing.T) {
	chromium := findChromium(t)
	serve := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write([]byte(page))
	})
	allowedPage, otherPage := httptest.NewServer(serve), httptest.NewServer(serve)
	t.Cleanup(allowedPage.Close)
	t.Cleanup(otherPage.Close)

	s := newStack(t)
	s.env["CORS_ALLOWED_ORIGINS"] = allowedPage.URL
	s.env["CLERK_AUTHORIZED_PARTIES"] = allowedPage.URL
	s.env["ACCESS_LOG"] = "all" // the access lines show which requests reached the service
	svc := s.start(t)
	token := e2e.userToken(t, set("azp", allowedPage.URL)) // as Clerk's frontend SDK mints it

	browser := newBrowser(t, chromium)
	tests := []struct {
		name    string
		page    string
		allowed bool
	}{
		{"other origin", otherPage.URL, false},
		{"allowed origin", allowedPage.URL, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			count := func(prefix string) int {
				return svc.countLogs(func(m map[string]any) bool { return strings.HasPrefix(fmt.Sprint(m["message"]), prefix) })
			}
			options, gets, posts := count("OPTIONS /api/events"), count("GET /api/events"), count("POST /api/events")

			ctx, cancel := context.WithTimeout(browser, waitLimit)
			defer cancel()
			if err := chromedp.Do(ctx, chromedp.Navigate(tt.page+"/")); err != nil {
				t.Fatalf("chromium: navigate: %v", err)
			}
			res, err := chromedp.Run(ctx, chromedp.Evaluate[browserResult](
				fmt.Sprintf("runChecks(%q, %q)", svc.url, token), chromedp.EvalAwaitPromise))
			if err != nil {
				t.Fatalf("chromium: evaluate: %v", err)
			}
			if count("OPTIONS /api/events") == options {
				t.Errorf("the service saw no preflight")
			}
			if !tt.allowed {
				if res.Get.Error == "" || res.Post.Error == "" {
					t.Errorf("from %s: got GET %d %q, POST %d %q; want both blocked by the browser",
						tt.page, res.Get.Status, res.Get.Error, res.Post.Status, res.Post.Error)
				}
				if g, p := count("GET /api/events")-gets, count("POST /api/events")-posts; g != 0 || p != 0 {
					t.Errorf("the service got %d GET and %d POST from a blocked origin, want none", g, p)
				}
				return
			}
			if res.Get.Status != http.StatusOK || !strings.Contains(res.Get.Body, `"events"`) {
				t.Errorf("GET /api/events from the browser: got %d %q %.200s, want 200 with events", res.Get.Status, res.Get.Error, res.Get.Body)
			}
			if res.Post.Status != http.StatusAccepted || !strings.Contains(res.Post.Body, `"messageId"`) {
				t.Errorf("POST /api/events from the browser: got %d %q %.200s, want 202 with a messageId", res.Post.Status, res.Post.Error, res.Post.Body)
			}
		})
	}
	svc.stopOK(t)
}

// findChromium returns Debian's chromium. Without it the test fails in CI
// (.ci/run installs it) and skips elsewhere.
func findChromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "/usr/bin/chromium"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("chromium is missing: .ci/run must install Debian's chromium package")
	}
	t.Skip("chromium is not installed (apt-get install chromium); skipping the browser test")
	return ""
}

// newBrowser starts headless Chromium with a fresh profile, and extra
// flags, and returns a context for chromedp; the browser stops when the
// test ends.
func newBrowser(t *testing.T, path string, extra ...chromedp.ExecAllocatorOption) context.Context {
	t.Helper()
	profile, err := os.MkdirTemp("", "pushgate-e2e-chromium-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(profile) }) // after the browser has stopped (cleanups run last first)
	output := &syncBuffer{}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.Flag("headless", true),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(profile),
		chromedp.CombinedOutput(output),
	)
	opts = append(opts, extra...)
	// The browser's whole life is bounded; chromedp ties the browser to
	// the context of the first Run, so that one has no timeout of its own.
	life, cancelLife := context.WithTimeout(context.Background(), 2*waitLimit)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(life, opts...)
	ctx, cancel := chromedp.NewContext(allocCtx)
	t.Cleanup(cancelLife)
	t.Cleanup(cancelAlloc)
	t.Cleanup(cancel)
	if err := chromedp.Do(ctx); err != nil { // starts the browser
		t.Fatalf("start chromium: %v\n%.2000s", err, output.String())
	}
	return ctx
}
