package main

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"time"
)

// harness runs servers and measures them.
type harness struct {
	opts      options
	fix       *fixtures
	serverCPU string // "" when not pinned
	work      string
	logf      func(format string, args ...any)
	notes     []string
	idBase    uint64
	// logged and sent count, per server ID, the lines its log got and the
	// requests it was sent in the measured runs (warm-up included).
	logged, sent map[string]int
}

// startTimeout bounds a server's start-up.
const startTimeout = 20 * time.Second

// warmTokens is how many of the distinct tokens the warm-up of a
// distinct-token scenario may use (over and over); the measured run uses
// the others.
const warmTokens = 2000

// coldStart starts srv and returns the time from exec to its first
// /healthz 200.
func (h *harness) coldStart(srv *server) (time.Duration, error) {
	start := time.Now()
	p, err := startServer(srv, h.fix.env(), h.serverCPU, filepath.Join(h.work, srv.fileStem()+".log"))
	if err != nil {
		return 0, err
	}
	ready, err := p.waitHealthy(startTimeout)
	stopErr := p.stop()
	if err := errors.Join(err, stopErr); err != nil {
		return 0, err
	}
	return ready.Sub(start), nil
}

// env is the environment of srv in a measured run: the fixtures' and, for
// the working tree's service, -service-env and -profile's files (named
// after what and round).
func (h *harness) env(srv *server, what string, round int) []string {
	env := h.fix.env()
	if srv.id != serverService {
		return env
	}
	if h.opts.profile != "" {
		base := filepath.Join(h.opts.profile, fmt.Sprintf("%s-%s-%d", srv.id, what, round))
		env = append(env, "PERF_CPUPROFILE="+base+".cpu.pprof", "PERF_HEAPPROFILE="+base+".heap.pprof")
	}
	if h.opts.serviceEnv != "" {
		extra := strings.ReplaceAll(h.opts.serviceEnv, otlpSinkPlaceholder, h.fix.otlp.URL)
		env = append(env, strings.Split(extra, ",")...)
	}
	return env
}

// measure runs one scenario against a fresh srv: warm-up, then the
// measured run, with the server's CPU time and peak RSS.
func (h *harness) measure(srv *server, sc *scenario, round int) (rs runStats, err error) {
	p, err := startServer(srv, h.env(srv, sc.id, round), h.serverCPU, filepath.Join(h.work, srv.fileStem()+".log"))
	if err != nil {
		return rs, err
	}
	defer func() {
		if stopErr := p.stop(); stopErr != nil && err == nil {
			err = stopErr
		}
	}()
	if _, err := p.waitHealthy(startTimeout); err != nil {
		return rs, err
	}
	if round == 1 && srv.verifies {
		if err := h.checkRefusals(p); err != nil {
			return rs, err
		}
	}
	h.idBase += 1 << 40 // message IDs never repeat across runs either
	t := newTarget(p.addr, srv.verifies, h.opts.conns, h.idBase)
	defer t.close()

	timed, warm := *sc, *sc
	if sc.distinct {
		n := min(warmTokens, len(sc.tokens)/10)
		warm.tokens, warm.wrap = sc.tokens[len(sc.tokens)-n:], true
		timed.tokens = sc.tokens[:len(sc.tokens)-n]
	}
	sent := 1 // the /healthz poll that answered
	if h.opts.warmup > 0 {
		res := drive(t, &warm, h.opts.warmup, 0)
		if res.requests == 0 {
			return rs, fmt.Errorf("warm-up: no request succeeded (%d failed; first: %s); server output:\n%s",
				res.errors, res.firstError, p.logTail())
		}
		sent += res.requests + res.errors
		t.tokens.Store(0)
	}
	cpu0, err := cpuTime(p.pid())
	if err != nil {
		return rs, err
	}
	res := drive(t, &timed, h.opts.duration, 0)
	cpu1, err := cpuTime(p.pid())
	if err != nil {
		return rs, err
	}
	peak, err := peakRSS(p.pid())
	if err != nil {
		return rs, err
	}
	if res.requests == 0 {
		return rs, fmt.Errorf("no request succeeded (%d failed; first: %s); server output:\n%s",
			res.errors, res.firstError, p.logTail())
	}
	if res.errors > 0 {
		h.notes = append(h.notes, fmt.Sprintf("%s / %s: %d failed requests, first: %s", sc.id, srv.id, res.errors, res.firstError))
	}
	sent += res.requests + res.errors
	// Each server logs as its own defaults say (ACCESS_LOG is not set):
	// the report says how many lines a request cost each.
	if lines, err := p.logLines(); err == nil {
		h.logged[srv.id] += lines
		h.sent[srv.id] += sent
	}
	return newRunStats(res, cpu1.sub(cpu0), peak), nil
}

// fillTimeout bounds the deliveries that fill the once-only store.
const fillTimeout = 3 * time.Minute

// fillStore starts a fresh srv, sends it n push deliveries (sc) with
// distinct message IDs, no warm-up, and returns its peak RSS (VmHWM) then:
// with n above the once-only store's bound, the store is full and has
// evicted.
func (h *harness) fillStore(srv *server, sc *scenario, n, round int) (peak int64, err error) {
	p, err := startServer(srv, h.env(srv, "store", round), h.serverCPU, filepath.Join(h.work, srv.fileStem()+".log"))
	if err != nil {
		return 0, err
	}
	defer func() {
		if stopErr := p.stop(); stopErr != nil && err == nil {
			err = stopErr
		}
	}()
	if _, err := p.waitHealthy(startTimeout); err != nil {
		return 0, err
	}
	h.idBase += 1 << 40
	t := newTarget(p.addr, srv.verifies, h.opts.conns, h.idBase)
	defer t.close()
	res := drive(t, sc, fillTimeout, int64(n))
	if sent := res.requests + res.errors; sent < n {
		return 0, fmt.Errorf("filling the store: %d of %d deliveries sent in %v", sent, n, fillTimeout)
	}
	if res.errors > 0 {
		h.notes = append(h.notes, fmt.Sprintf("full store / %s: %d of %d deliveries failed, first: %s",
			srv.id, res.errors, n, res.firstError))
	}
	return peakRSS(p.pid())
}

// checkRefusals makes sure a server that should verify tokens does: a
// forged token gets 401, and a user's token on the push route 401 or 403.
// A server that let them through would make every figure meaningless.
func (h *harness) checkRefusals(p *proc) error {
	forged := h.fix.googleToken[:strings.LastIndexByte(h.fix.googleToken, '.')+1] + "c2lnbmF0dXJl"
	checks := []struct {
		method, path, token string
		want                []int
	}{
		{http.MethodGet, "/whoami", forged, []int{http.StatusUnauthorized}},
		{http.MethodGet, "/whoami", "", []int{http.StatusUnauthorized}},
		{http.MethodPost, "/pubsub/push", h.fix.clerkTokens[0], []int{http.StatusUnauthorized, http.StatusForbidden}},
	}
	client := &http.Client{Timeout: 5 * time.Second}
	defer client.CloseIdleConnections()
	for _, c := range checks {
		req, err := http.NewRequest(c.method, "http://"+p.addr+c.path, strings.NewReader("{}"))
		if err != nil {
			return err
		}
		if c.token != "" {
			req.Header.Set("Authorization", "Bearer "+c.token)
		}
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		ok := false
		for _, w := range c.want {
			ok = ok || resp.StatusCode == w
		}
		if !ok {
			return fmt.Errorf("%s: %s %s with a bad or missing credential answered %d, want %v",
				p.srv.id, c.method, c.path, resp.StatusCode, c.want)
		}
	}
	return nil
}
