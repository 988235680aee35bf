package console

import (
	"log/slog"
	"net/http"
	"net/url"
	"strings"

	"github.com/cloudrun-authn/pushgate/handlers/httperror"
)

// RefusedMessage is the message of the log line of each request the
// console refuses; TeeRefusals keeps those too.
const RefusedMessage = "devconsole: request refused"

// originGuard admits a request to the console only when it comes from the
// console's own page, whose origin is origin ("http://127.0.0.1:<port>"):
//
//   - Host must be the origin's host exactly. A page of another site whose
//     name an attacker re-points at 127.0.0.1 (DNS rebinding) is
//     same-origin with itself, not with us, and its browser sends its own
//     name in Host; so does any other name for this machine.
//   - Origin, when sent, must be the origin exactly. Browsers send it on
//     every cross-origin request and on every POST, so a script of another
//     site (or of a rebinding one) is refused before anything is done, even
//     where the browser would hide the answer anyway.
//   - Sec-Fetch-Site, when sent, must be same-origin, or none (the person
//     typed the address).
//   - needOrigin (the token endpoint): Origin must be present. A browser
//     always sends it on a POST; a request without one is no page's, and
//     people at a shell have `go run . token user`.
//
// Everything else gets 403 and one log line naming the rule. The listener
// is on 127.0.0.1 only, so no other machine gets this far.
func originGuard(origin string, needOrigin bool, logger *slog.Logger) func(http.Handler) http.Handler {
	host := strings.TrimPrefix(origin, "http://")
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if reason := foreign(r, origin, host, needOrigin); reason != "" {
				logger.LogAttrs(r.Context(), slog.LevelWarn, RefusedMessage,
					slog.String("reason", reason), slog.Int("status", http.StatusForbidden),
					slog.String("method", r.Method), slog.String("path", clip(r.URL.Path)),
					slog.String("host", clip(r.Host)), slog.String("origin", clip(r.Header.Get("Origin"))))
				writeError(w, http.StatusForbidden, reason)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

// foreign returns why r is not from the console's own page, or "".
func foreign(r *http.Request, origin, host string, needOrigin bool) string {
	if r.Host != host {
		return "host is not " + host + " (the dev console answers its own address only)"
	}
	o, sent := r.Header["Origin"]
	switch {
	case sent && (len(o) != 1 || o[0] != origin):
		return "origin is not " + origin
	case !sent && needOrigin:
		return "no Origin header; the token endpoint serves the dev console's page only (use `go run . token user` at a shell)"
	}
	if site := r.Header.Get("Sec-Fetch-Site"); site != "" && site != "same-origin" && (site != "none" || needOrigin) {
		return "Sec-Fetch-Site is " + clip(site)
	}
	return ""
}

// localhostRedirect sends a person who typed localhost to the console's
// own origin, the one its tokens name as authorized party; nothing else is
// redirected.
func localhostRedirect(origin string, next http.Handler) http.Handler {
	u, _ := url.Parse(origin)
	alias := "localhost:" + u.Port()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Host == alias && r.Method == http.MethodGet && r.URL.Path == "/" && r.Header.Get("Origin") == "" {
			http.Redirect(w, r, origin+"/", http.StatusTemporaryRedirect)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// clip bounds a value copied into a log line or an answer and drops
// control characters: Host and Origin are the caller's to write.
func clip(s string) string {
	const max = 200
	if len(s) > max {
		s = strings.ToValidUTF8(s[:max], "") + "…"
	}
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, s)
}

// writeError answers {"error": reason} as the service's other errors do
// (httperror.Write), with the console's private headers.
func writeError(w http.ResponseWriter, status int, reason string) {
	noStore(w.Header())
	httperror.Write(w, status, reason)
}

// noStore sets the headers every console answer carries: not cached, not
// sniffed, not framed, not readable by another site's page (even
// no-cors, e.g. from a <script> tag).
func noStore(h http.Header) {
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Cross-Origin-Resource-Policy", "same-origin")
	h.Set("Referrer-Policy", "no-referrer")
}
