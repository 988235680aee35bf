package console

import (
	"embed"
	"encoding/json"
	"io/fs"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/cloudrun-authn/pushgate/service/devmode"
	"github.com/cloudrun-authn/pushgate/service/dispatch"
)

// assets are the page, its script and its style sheet: plain files, no
// build step.
//
//go:embed assets
var assets embed.FS

// Paths of the console's endpoints.
const (
	PathPage     = "/"
	PathStatic   = "/dev/static/"
	PathToken    = "/dev/token"
	PathActivity = "/dev/activity"
	PathStream   = "/dev/activity/stream"
)

// User is the subject of the page's tokens, the same as `go run . token
// user` prints by default.
const User = "user_dev"

// pageCSP lets the page load its own script and style and call its own
// origin, and nothing else: no inline script, no other site, no framing.
const pageCSP = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; " +
	"img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// Config is what a Console needs.
type Config struct {
	// Origin is the console's own origin, devmode.Audience of the port the
	// service listens on: "http://127.0.0.1:<port>". Dev mode's Clerk rules
	// list it as an authorized party, so the page's tokens carry it as azp.
	Origin string
	// Keys mint the page's user tokens.
	Keys *devmode.Keys
	// Deliveries are the push loop's recent deliveries (its Config.Report
	// adds to them).
	Deliveries *Recent[dispatch.Delivery]
	// Refusals are the recent refusals (see TeeRefusals).
	Refusals *Recent[Refusal]
	// Stats, when not nil, gives the push loop's counters; false while the
	// push loop is not running.
	Stats func() (dispatch.Stats, bool)
	// Logger receives the console's refusals and errors; nil → discard.
	Logger *slog.Logger
	// Now is the clock of the tokens; nil → time.Now.
	Now func() time.Time
}

// Console is dev mode's page: the Clerk-authenticated frontend of the
// service, played by a small page served by the service itself. Its routes
// answer the console's own page only (see originGuard); mount them in dev
// mode only.
type Console struct {
	cfg       Config
	closing   chan struct{}
	closeOnce sync.Once
}

// New returns a Console.
func New(cfg Config) *Console {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Console{cfg: cfg, closing: make(chan struct{})}
}

// Routes adds the console's routes to r: GET / (the page), GET
// /dev/static/* (its script and style), POST /dev/token (a user token for
// the page), GET /dev/activity (the recent deliveries and refusals, JSON)
// and GET /dev/activity/stream (the same as server-sent events, one at
// each change). None needs a token; each is refused unless it comes from
// the console's own origin.
func (c *Console) Routes(r chi.Router) {
	static, _ := fs.Sub(assets, "assets")
	files := http.StripPrefix(PathStatic, http.FileServerFS(static))
	r.Group(func(r chi.Router) {
		r.Use(func(next http.Handler) http.Handler { return localhostRedirect(c.cfg.Origin, next) })
		r.Use(originGuard(c.cfg.Origin, false, c.cfg.Logger))
		r.Get(PathPage, c.page(static))
		r.Get(PathStatic+"*", func(w http.ResponseWriter, r *http.Request) {
			noStore(w.Header())
			files.ServeHTTP(w, r)
		})
		r.Get(PathActivity, c.activity)
		r.Get(PathStream, c.stream)
	})
	r.With(originGuard(c.cfg.Origin, true, c.cfg.Logger)).Post(PathToken, c.token)
}

// Close ends the streams under way, so that the server can drain. Call it
// before http.Server.Shutdown.
func (c *Console) Close() {
	c.closeOnce.Do(func() { close(c.closing) })
}

// page serves index.html with its content security policy.
func (c *Console) page(static fs.FS) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		body, err := fs.ReadFile(static, "index.html")
		if err != nil {
			c.cfg.Logger.ErrorContext(r.Context(), "devconsole: page", "error", err)
			writeError(w, http.StatusInternalServerError, "internal error")
			return
		}
		h := w.Header()
		noStore(h)
		h.Set("Content-Security-Policy", pageCSP)
		h.Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write(body)
	}
}

// tokenResponse is the body of POST /dev/token.
type tokenResponse struct {
	Token     string    `json:"token"`
	Subject   string    `json:"subject"`
	AZP       string    `json:"azp"`
	ExpiresAt time.Time `json:"expiresAt"`
}

// token mints a user token for the page, as Clerk's frontend SDK would
// hand one to the app: a session token whose azp is the page's origin.
func (c *Console) token(w http.ResponseWriter, r *http.Request) {
	now := c.cfg.Now()
	tok, err := c.cfg.Keys.UserToken(devmode.UserClaims{
		Subject: User, SessionID: "sess_dev", AuthorizedParty: c.cfg.Origin,
	}, now, devmode.TokenTTL)
	if err != nil {
		c.cfg.Logger.ErrorContext(r.Context(), "devconsole: mint a user token", "error", err)
		writeError(w, http.StatusInternalServerError, "internal error")
		return
	}
	writeJSON(w, tokenResponse{Token: tok, Subject: User, AZP: c.cfg.Origin, ExpiresAt: now.Add(devmode.TokenTTL).UTC()})
}

// Activity is the body of GET /dev/activity and of each stream event.
type Activity struct {
	Deliveries []dispatch.Delivery `json:"deliveries"`
	Refusals   []Refusal           `json:"refusals"`
	// PushLoop is the push loop's counters; absent while it is not running.
	PushLoop *dispatch.Stats `json:"pushLoop,omitempty"`
}

func (c *Console) snapshot() Activity {
	a := Activity{Deliveries: c.cfg.Deliveries.List(), Refusals: c.cfg.Refusals.List()}
	if c.cfg.Stats != nil {
		if s, ok := c.cfg.Stats(); ok {
			a.PushLoop = &s
		}
	}
	return a
}

func (c *Console) activity(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, c.snapshot())
}

func writeJSON(w http.ResponseWriter, v any) {
	noStore(w.Header())
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	_ = json.NewEncoder(w).Encode(v)
}
