package test

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cloudrun-authn/pushgate/authn/mint"
)

// route is one route of the contract's HTTP surface.
type route struct {
	method, path string
	who          string // "anyone", "any principal", "service" or "user"
	ok           int    // the success status
	body         func() string
}

func contractRoutes() []route {
	return []route{
		{"GET", "/healthz", "anyone", 200, nil},
		{"GET", "/whoami", "any principal", 200, nil},
		{"POST", "/pubsub/push", "service", 204, func() string { return envelope("auth-"+randomHex(8), "auth matrix", nil, 1) }},
		{"POST", "/scheduler/auth-matrix", "service", 204, nil},
		{"GET", "/api/events", "user", 200, nil},
		{"POST", "/api/events", "user", 202, func() string { return `{"data":"auth matrix"}` }},
	}
}

// credential is how a caller presents itself.
type credential struct {
	name  string
	kind  string // "none", "bad", "service" or "user"
	token string // the Bearer token ("" none)
	query string // appended to the URL
}

// badTokens are tokens that each break one rule of the contract.
func badTokens(t *testing.T) []credential {
	now := time.Now()
	valid := e2e.serviceToken(t)
	parts := strings.Split(valid, ".")
	unknownKid := &mint.Signer{Key: e2e.google.Key, KID: "no-such-kid"}
	header := `{"alg":"%s","kid":"google-1","typ":"JWT"}`
	payload := `{"iss":"https://accounts.google.com","aud":"` + audience + `","sub":"1","email":"` + pushEmail +
		`","email_verified":true,"iat":` + strconv.FormatInt(now.Unix(), 10) + `,"exp":` + strconv.FormatInt(now.Add(time.Hour).Unix(), 10) + `}`
	removed := parts[0] + "." + parts[1] + ".SIGNATURE_REMOVED_BY_GOOGLE"
	e2e.tokens.add(removed)
	bad := []struct {
		name  string
		token string
	}{
		{"not a JWT", "not-a-jwt"},
		{"two segments", parts[0] + "." + parts[1]},
		{"signature removed by Google", removed},
		{"alg none", e2e.signRaw(t, e2e.google, strings.Replace(header, "%s", "none", 1), payload)},
		{"alg HS256", e2e.signRaw(t, e2e.google, strings.Replace(header, "%s", "HS256", 1), payload)},
		{"google: signed by an unknown key with a known kid", e2e.sign(t, e2e.attacker, serviceClaims())},
		{"google: unknown kid", e2e.sign(t, unknownKid, serviceClaims())},
		{"google: expired", e2e.serviceToken(t, set("iat", now.Add(-3*time.Hour).Unix()), set("exp", now.Add(-2*time.Hour).Unix()))},
		{"google: no exp", e2e.serviceToken(t, set("exp", nil))},
		{"google: issued in the future", e2e.serviceToken(t, set("iat", now.Add(time.Hour).Unix()))},
		{"google: wrong audience", e2e.serviceToken(t, set("aud", "https://other-service.a.run.app"))},
		{"google: email of another project", e2e.serviceToken(t, set("email", "x@other-project.iam.gserviceaccount.com"))},
		{"google: email not verified", e2e.serviceToken(t, set("email_verified", false))},
		{"google: issuer not Google", e2e.serviceToken(t, set("iss", "https://accounts.example.com"))},
		{"clerk: wrong issuer", e2e.userToken(t, set("iss", "https://clerk.other.test"))},
		{"clerk: expired", e2e.userToken(t, set("iat", now.Add(-3*time.Hour).Unix()), set("nbf", now.Add(-3*time.Hour).Unix()), set("exp", now.Add(-2*time.Hour).Unix()))},
		{"clerk: not yet valid", e2e.userToken(t, set("nbf", now.Add(time.Hour).Unix()))},
		{"clerk: no sub", e2e.userToken(t, set("sub", nil))},
		{"clerk: unlisted azp", e2e.userToken(t, set("azp", "https://evil.example"))},
		{"clerk: signed with Google's key", e2e.sign(t, e2e.google, userClaims())},
		{"clerk: signed by an unknown key", e2e.sign(t, &mint.Signer{Key: e2e.attacker.Key, KID: e2e.clerk.KID}, userClaims())},
	}
	e2e.tokens.add("not-a-jwt")
	var out []credential
	for _, b := range bad {
		out = append(out, credential{name: b.name, kind: "bad", token: b.token})
	}
	return out
}

// TestAuthMatrix calls every route of the contract with every kind of
// credential and checks status, WWW-Authenticate and the error body.
func TestAuthMatrix(t *testing.T) {
	s := newStack(t)
	svc := s.start(t)
	service, user := e2e.serviceToken(t), e2e.userToken(t)
	creds := []credential{
		{name: "no token", kind: "none"},
		{name: "user token in the query string", kind: "none", query: "?access_token=" + user + "&token=" + user},
		{name: "service token in the query string", kind: "none", query: "?access_token=" + service},
		{name: "service", kind: "service", token: service},
		{name: "service with a listed email", kind: "service", token: e2e.serviceToken(t, set("email", computeEmail))},
		{name: "service, aud as an array", kind: "service", token: e2e.serviceToken(t, set("aud", []string{"https://x.example", audience}))},
		{name: "user", kind: "user", token: user},
		{name: "user with a listed azp", kind: "user", token: e2e.userToken(t, set("azp", appOrigin))},
	}
	creds = append(creds, badTokens(t)...)

	for _, rt := range contractRoutes() {
		for _, c := range creds {
			t.Run(rt.method+" "+rt.path+"/"+c.name, func(t *testing.T) {
				body := ""
				if rt.body != nil {
					body = rt.body()
				}
				r := send(t, request{method: rt.method, url: svc.url + rt.path + c.query, token: c.token, body: body})
				want, wantAuth := expect(rt, c)
				if r.status != want {
					t.Fatalf("status: got %d, want %d: %.300s", r.status, want, r.body)
				}
				if got := r.header.Get("WWW-Authenticate"); !wantAuth(got) {
					t.Errorf("WWW-Authenticate: got %q", got)
				}
				if want >= 400 {
					if msg, _ := r.object(t)["error"].(string); msg == "" {
						t.Errorf("%d without {\"error\": reason}: %s", want, r.body)
					}
				}
				for _, tok := range []string{c.token, user, service} {
					if tok != "" && echoes(r, tok) {
						t.Errorf("the response echoes a token")
					}
				}
				if rt.path == "/whoami" && want == 200 {
					checkWhoami(t, r, c.kind)
				}
			})
		}
	}
	svc.stopOK(t)
}

// expect returns the status the contract promises for a credential on a
// route, and a check of the WWW-Authenticate header.
func expect(rt route, c credential) (int, func(string) bool) {
	none := func(h string) bool { return h == "" }
	bearer := func(h string) bool {
		return h == "Bearer" || strings.HasPrefix(h, "Bearer ") && !strings.Contains(h, "invalid_token")
	}
	invalid := func(h string) bool {
		return strings.HasPrefix(h, "Bearer ") && strings.Contains(h, `error="invalid_token"`)
	}
	anyHeader := func(string) bool { return true }
	switch {
	case rt.who == "anyone":
		return rt.ok, none
	case c.kind == "none":
		return http.StatusUnauthorized, bearer
	case c.kind == "bad":
		return http.StatusUnauthorized, invalid
	case rt.who == "any principal" || rt.who == c.kind:
		return rt.ok, none
	default:
		return http.StatusForbidden, anyHeader
	}
}

// echoes reports whether the response's body or headers hold the token or
// its signature.
func echoes(r response, tok string) bool {
	sig := tok
	if i := strings.LastIndexByte(tok, '.'); i >= 0 && len(tok)-i > leakWindow {
		sig = tok[i+1:]
	}
	if strings.Contains(string(r.body), tok) || strings.Contains(string(r.body), sig) {
		return true
	}
	for _, vs := range r.header {
		for _, v := range vs {
			if strings.Contains(v, tok) || strings.Contains(v, sig) {
				return true
			}
		}
	}
	return false
}

func checkWhoami(t *testing.T, r response, kind string) {
	t.Helper()
	m := r.object(t)
	switch kind {
	case "service":
		if m["kind"] != "service" || m["issuer"] != "https://accounts.google.com" || m["subject"] == "" {
			t.Errorf("whoami: got %v, want a service from https://accounts.google.com", m)
		}
		if e, _ := m["email"].(string); e != pushEmail && e != computeEmail {
			t.Errorf("whoami email: got %q, want %s or %s", e, pushEmail, computeEmail)
		}
	case "user":
		if m["kind"] != "user" || m["issuer"] != clerkIssuer || m["subject"] != userID {
			t.Errorf("whoami: got %v, want user %s from %s", m, userID, clerkIssuer)
		}
	}
}

// TestSessionCookie: a Clerk token in the __session cookie works on GET;
// on an unsafe method (cross-site request forgery) it needs an azp that is
// listed, and the request's Origin, which browsers send on every POST, must
// be listed too.
func TestSessionCookie(t *testing.T) {
	s := newStack(t)
	svc := s.start(t)
	plain := e2e.userToken(t)
	listed := e2e.userToken(t, set("azp", appOrigin))
	unlisted := e2e.userToken(t, set("azp", "https://evil.example"))
	service := e2e.serviceToken(t)
	const event = `{"data":"cookie post"}`
	tests := []struct {
		name         string
		method, path string
		cookie       string
		origin       string
		body         string
		want         int
	}{
		{"GET events, no azp", "GET", "/api/events", plain, "", "", 200},
		{"GET whoami, no azp", "GET", "/whoami", plain, "", "", 200},
		{"GET events, listed azp", "GET", "/api/events", listed, appOrigin, "", 200},
		{"GET events, unlisted azp", "GET", "/api/events", unlisted, "", "", 401},
		{"POST events, no azp", "POST", "/api/events", plain, appOrigin, event, 401},
		{"POST events, unlisted azp", "POST", "/api/events", unlisted, appOrigin, event, 401},
		{"POST events, listed azp and Origin", "POST", "/api/events", listed, appOrigin, event, 202},
		{"POST events, listed azp, no Origin", "POST", "/api/events", listed, "", event, 401},
		{"POST events, listed azp, other Origin", "POST", "/api/events", listed, "https://evil.example", event, 401},
		{"POST push, Google token in the cookie", "POST", "/pubsub/push", service, appOrigin, envelope("cookie-"+randomHex(4), "x", nil, 1), 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var h map[string]string
			if tt.origin != "" {
				h = map[string]string{"Origin": tt.origin}
			}
			r := send(t, request{method: tt.method, url: svc.url + tt.path, cookie: tt.cookie, header: h, body: tt.body})
			if r.status != tt.want {
				t.Fatalf("got %d, want %d: %.300s", r.status, tt.want, r.body)
			}
			if tt.want == 401 && !strings.Contains(r.header.Get("WWW-Authenticate"), `error="invalid_token"`) {
				t.Errorf("WWW-Authenticate: got %q, want error=\"invalid_token\"", r.header.Get("WWW-Authenticate"))
			}
			if echoes(r, tt.cookie) {
				t.Errorf("the response echoes the cookie's token")
			}
		})
	}
	svc.stopOK(t)
}
