package test

import (
	"bytes"
	"context"
	"fmt"
	"image/png"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// rebindHost is a name that headless Chromium resolves to 127.0.0.1, as an
// attacker's name does after DNS rebinding.
const rebindHost = "rebind.test"

// TestDevConsole loads dev mode's console in headless Chromium and uses it
// as a person would: the dev user's /whoami shows, a published event is
// listed within a second (with the push loop's delivery), an event
// published through the __session cookie is accepted, and a request with a
// bad token is refused with its reason shown, both as the client saw it and
// as the server logged it. A screenshot is written to the test's temporary
// directory, and to $PUSHGATE_E2E_SCREENSHOTS when set, which outlives the
// test (go test -v shows the paths). Then another
// origin's page and a DNS-rebinding one try to get a token, and are refused.
func TestDevConsole(t *testing.T) {
	chromium := findChromium(t)
	env := devEnv(t.TempDir(), freePort(t))
	svc := startProc(t, "pushgate (dev)", e2e.bin, env)
	browser := newBrowser(t, chromium,
		chromedp.WindowSize(1280, 1500),
		chromedp.Flag("host-resolver-rules", "MAP "+rebindHost+" 127.0.0.1"),
		chromedp.Flag("disable-features", "HttpsUpgrades"))
	ctx, cancel := context.WithTimeout(browser, waitLimit)
	defer cancel()

	// waitFor polls a JavaScript predicate in the page.
	waitFor := func(t *testing.T, what, predicate string, within time.Duration) {
		t.Helper()
		pctx, cancel := context.WithTimeout(ctx, within)
		defer cancel()
		if _, err := chromedp.Run(pctx, chromedp.Poll[chromedp.Void](predicate, chromedp.WithPollingInterval(10*time.Millisecond))); err != nil {
			page, _ := chromedp.Run(ctx, chromedp.Evaluate[string]("document.body.innerText"))
			t.Fatalf("%s: not within %v (%v); the page reads:\n%.3000s", what, within, err, page)
		}
	}
	text := func(t *testing.T, sel string) string {
		t.Helper()
		s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
		if err != nil {
			t.Fatalf("text of %s: %v", sel, err)
		}
		return s
	}
	cellWith := func(table, s string) string {
		return fmt.Sprintf("[...document.querySelectorAll('#%s tbody td')].some(td => td.textContent.includes(%q))", table, s)
	}

	t.Run("whoami of the dev user", func(t *testing.T) {
		if err := chromedp.Do(ctx, chromedp.Navigate(svc.url+"/")); err != nil {
			t.Fatalf("navigate: %v", err)
		}
		waitFor(t, "the page is ready", "document.body.dataset.ready === 'true'", 10*time.Second)
		tok, err := chromedp.Run(ctx, chromedp.Evaluate[string]("token"))
		if err != nil || strings.Count(tok, ".") != 2 {
			t.Fatalf("the page holds no token (%v)", err)
		}
		e2e.tokens.add(tok) // the log checks look for it
		who := text(t, "#whoami")
		for _, want := range []string{"200", `"kind": "user"`, `"subject": "` + devUser + `"`, `"issuer": "` + devIssuer + `"`} {
			if !strings.Contains(who, want) {
				t.Errorf("whoami shows %q, want %s in it", who, want)
			}
		}
	})

	t.Run("a published event is listed within a second", func(t *testing.T) {
		data := "from the console " + randomHex(4)
		if err := chromedp.Do(ctx, chromedp.SetValue(chromedp.CSS("#publish-data"), data)); err != nil {
			t.Fatal(err)
		}
		clicked := time.Now()
		if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS("#publish-bearer"))); err != nil {
			t.Fatal(err)
		}
		waitFor(t, "the event is listed", cellWith("events", data), 10*time.Second)
		latency := time.Since(clicked)
		reportFigures(t, fmt.Sprintf("dev console: click on Publish to the event listed on the page: %v", latency.Round(time.Millisecond)))
		if latency > time.Second {
			t.Errorf("the event was listed %v after the click, want within a second", latency)
		}
		result := text(t, "#publish-result")
		id, ok := strings.CutPrefix(result[strings.Index(result, "messageId "):], "messageId ")
		if !strings.Contains(result, "→ 202") || !ok {
			t.Fatalf("publish result %q, want 202 with a messageId", result)
		}
		waitFor(t, "the push loop's delivery is shown", fmt.Sprintf(
			"[...document.querySelectorAll('#deliveries tbody tr')].some(tr => tr.cells[1].textContent === %q && tr.cells[3].textContent === 'acked' && tr.cells[4].textContent === '204')", id),
			5*time.Second)
	})

	t.Run("an event published through the __session cookie", func(t *testing.T) {
		data := "through the cookie " + randomHex(4)
		if err := chromedp.Do(ctx, chromedp.SetValue(chromedp.CSS("#publish-data"), data),
			chromedp.Click(chromedp.CSS("#publish-cookie"))); err != nil {
			t.Fatal(err)
		}
		waitFor(t, "the cookie publish is answered", "document.getElementById('publish-result').textContent.includes('(cookie) →')", 10*time.Second)
		if result := text(t, "#publish-result"); !strings.Contains(result, "→ 202") {
			t.Fatalf("publish through the cookie: %q, want 202", result)
		}
		waitFor(t, "the cookie's event is listed", cellWith("events", data), 10*time.Second)
		// The cookie is what carried the token: the same call with a cookie
		// that holds no token is refused, and the server names the cookie.
		res, err := chromedp.Run(ctx, chromedp.Evaluate[int](
			`api("POST", "/api/events", {cookie: "not-a-token", body: {data: "x"}}).then(r => r.status)`, chromedp.EvalAwaitPromise))
		if err != nil || res != http.StatusUnauthorized {
			t.Errorf("POST with a cookie that holds no token: %d (%v), want 401", res, err)
		}
		waitFor(t, "the cookie's refusal is shown", cellWith("refusals", "cookie"), 5*time.Second)
	})

	t.Run("a bad token is refused, with its reason", func(t *testing.T) {
		if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS("#bad-token"))); err != nil {
			t.Fatal(err)
		}
		waitFor(t, "the client's view of the refusal", "document.getElementById('refuse-result').textContent.includes('→ 401')", 5*time.Second)
		if got := text(t, "#refuse-result"); !strings.Contains(got, "invalid signature") || !strings.Contains(got, `error="invalid_token"`) {
			t.Errorf("refusal shown as %q, want the reason and WWW-Authenticate", got)
		}
		waitFor(t, "the server's view of the refusal", fmt.Sprintf(
			"[...document.querySelectorAll('#refusals tbody tr')].some(tr => tr.cells[1].textContent === 'GET /whoami' && tr.cells[3].textContent === %q)",
			"invalid signature"), 5*time.Second)
	})

	t.Run("screenshot", func(t *testing.T) {
		shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatalf("screenshot: %v", err)
		}
		img, err := png.Decode(bytes.NewReader(shot))
		if err != nil {
			t.Fatalf("the screenshot is not a PNG: %v", err)
		}
		if b := img.Bounds(); len(shot) < 20<<10 || b.Dx() < 1000 || b.Dy() < 800 {
			t.Errorf("screenshot of %d bytes, %dx%d; want a full page (at least 20 KiB, 1000x800)", len(shot), b.Dx(), b.Dy())
		}
		paths := []string{filepath.Join(t.TempDir(), "devconsole.png")}
		if dir := os.Getenv("PUSHGATE_E2E_SCREENSHOTS"); dir != "" {
			paths = append(paths, filepath.Join(dir, "devconsole.png")) // kept after the test
		}
		for _, path := range paths {
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, shot, 0o644); err != nil {
				t.Fatal(err)
			}
			t.Logf("screenshot of the dev console, %dx%d, %d bytes: %s", img.Bounds().Dx(), img.Bounds().Dy(), len(shot), path)
		}
	})

	t.Run("another origin gets no token", func(t *testing.T) {
		other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			fmt.Fprint(w, "<!doctype html><title>another site</title>")
		}))
		defer other.Close()
		if err := chromedp.Do(ctx, chromedp.Navigate(other.URL+"/")); err != nil {
			t.Fatal(err)
		}
		for _, mode := range []string{"cors", "no-cors"} {
			before := consoleRefusals(svc, other.URL)
			got, err := chromedp.Run(ctx, chromedp.Evaluate[string](fmt.Sprintf(
				`fetch(%q, {method: "POST", mode: %q}).then(r => r.type + " " + r.status, e => "blocked")`, svc.url+"/dev/token", mode),
				chromedp.EvalAwaitPromise))
			if err != nil {
				t.Fatal(err)
			}
			if got != "blocked" && got != "opaque 0" {
				t.Errorf("mode %s: the other origin read %q, want nothing", mode, got)
			}
			// The browser hides the answer either way; the service refused
			// the request before minting anything.
			waitConsoleRefusal(t, svc, other.URL, before)
		}
	})

	t.Run("a DNS-rebinding page gets no token", func(t *testing.T) {
		origin := "http://" + rebindHost + ":" + svc.port
		resp, err := chromedp.Run(ctx, chromedp.NavigateResponse(origin+"/"))
		if err != nil {
			t.Fatal(err)
		}
		if resp.Status != http.StatusForbidden {
			t.Errorf("GET / as %s: %d, want 403", origin, resp.Status)
		}
		// A script of that origin is same-origin with its own name, which
		// now points at the service: it can read the answers, and gets 403s.
		for _, call := range []string{`fetch("/dev/token", {method: "POST"})`, `fetch("/dev/activity")`, `fetch("/")`} {
			before := consoleRefusals(svc, origin)
			got, err := chromedp.Run(ctx, chromedp.Evaluate[string](call+`.then(r => r.status + " " + r.headers.get("Content-Type"), e => "blocked " + e)`, chromedp.EvalAwaitPromise))
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(got, "403 application/json") {
				t.Errorf("%s from %s: %q, want 403 with a JSON error", call, origin, got)
			}
			waitConsoleRefusal(t, svc, origin, before)
		}
	})
	svc.stopOK(t)
}

// consoleRefusals counts the console's refusal lines naming host or origin.
func consoleRefusals(svc *proc, hostOrOrigin string) int {
	host := strings.TrimPrefix(hostOrOrigin, "http://")
	return svc.countLogs(func(m map[string]any) bool {
		return m["message"] == "devconsole: request refused" && m["reason"] != "" &&
			(m["origin"] == hostOrOrigin || m["host"] == host)
	})
}

// waitConsoleRefusal waits for one more refusal line than before.
func waitConsoleRefusal(t *testing.T, svc *proc, hostOrOrigin string, before int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for consoleRefusals(svc, hostOrOrigin) <= before {
		if time.Now().After(deadline) {
			t.Fatalf("the service logged no refusal of %s; output:\n%s", hostOrOrigin, svc.logs.tail(10))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestDevConsoleAbsentInProduction: in production configuration the
// console's page and every one of its endpoints answer 404, whatever the
// Host and Origin say.
func TestDevConsoleAbsentInProduction(t *testing.T) {
	svc := newStack(t).start(t)
	self := map[string]string{"Origin": svc.url}
	for _, r := range []request{
		{method: "GET", url: svc.url + "/"},
		{method: "GET", url: svc.url + "/dev/static/console.js"},
		{method: "POST", url: svc.url + "/dev/token", header: self},
		{method: "GET", url: svc.url + "/dev/activity", header: self},
		{method: "GET", url: svc.url + "/dev/activity/stream", header: self},
	} {
		if got := send(t, r); got.status != http.StatusNotFound {
			t.Errorf("%s %s: got %d, want 404: %.200s", r.method, pathOf(r.url), got.status, got.body)
		}
	}
	svc.stopOK(t)
}
