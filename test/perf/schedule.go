package main

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// coldStarts starts every server -cold times, interleaved, and records
// each start and the median of each server in r. One start of each before
// them is not timed: the first exec of a binary just built reads it from
// disk, which would count against whichever server goes first.
func (h *harness) coldStarts(r *report) error {
	if h.opts.cold == 0 {
		return nil
	}
	h.logf("cold starts…")
	for _, srv := range r.servers {
		if _, err := h.coldStart(srv); err != nil {
			return err
		}
	}
	r.coldTimes = map[string][]time.Duration{}
	for i := range h.opts.cold {
		for _, srv := range roundOrder(r.servers, i+1) {
			d, err := h.coldStart(srv)
			if err != nil {
				return err
			}
			r.coldTimes[srv.id] = append(r.coldTimes[srv.id], d)
		}
	}
	width := serverIDWidth(r.servers)
	for _, srv := range r.servers {
		r.coldStart[srv.id] = medianDuration(r.coldTimes[srv.id])
		h.logf("  %-*s %v", width, srv.id, r.coldTimes[srv.id])
	}
	return nil
}

// rounds measures every scenario against every server, round after round,
// and then, in each round, fills the once-only store of every build of the
// service (push: the push scenario) to read its peak RSS. It records the
// runs and their summaries in r.
func (h *harness) rounds(r *report, push *scenario) error {
	o := h.opts
	width := serverIDWidth(r.servers)
	runs := map[string]map[string][]runStats{}
	for round := 1; round <= o.rounds; round++ {
		order := roundOrder(r.servers, round)
		for _, sc := range r.scenarios {
			if runs[sc.id] == nil {
				runs[sc.id] = map[string][]runStats{}
			}
			for _, srv := range order {
				rs, err := h.measure(srv, sc, round)
				if err != nil {
					return fmt.Errorf("round %d, %s, %s: %w", round, sc.id, srv.id, err)
				}
				runs[sc.id][srv.id] = append(runs[sc.id][srv.id], rs)
				h.logf("round %d/%d %-6s %-*s %9s req/s  p50 %-9s p99 %-9s cpu/req %-8s sys %-8s rss %-9s errors %d%s",
					round, o.rounds, sc.id, width, srv.id, thousands(rs.rps), fmtLatency(rs.p50), fmtLatency(rs.p99),
					fmtCPU(rs.cpuPerReq), fmtCPU(rs.sysPerReq), fmtMiB(rs.rss), rs.errors, exhaustedMark(rs.exhausted))
			}
		}
		if o.fullStore == 0 {
			continue
		}
		for _, srv := range order {
			if srv.id != serverService && srv.ref == "" {
				continue // the baseline's map and the ceiling are not the once-only store
			}
			start := time.Now()
			peak, err := h.fillStore(srv, push, o.fullStore, round)
			if err != nil {
				return fmt.Errorf("round %d, full store, %s: %w", round, srv.id, err)
			}
			r.fullStore[srv.id] = append(r.fullStore[srv.id], peak)
			h.logf("round %d/%d store  %-*s %s deliveries in %v, peak rss %s", round, o.rounds, width, srv.id,
				thousands(float64(o.fullStore)), time.Since(start).Round(time.Millisecond), fmtMiB(peak))
		}
	}
	r.runs = runs
	for sc, bySrv := range runs {
		r.results[sc] = map[string]summary{}
		for srv, rs := range bySrv {
			r.results[sc][srv] = summarize(rs)
		}
	}
	return nil
}

// roundOrder is the order in which round (from 1) runs the servers: as
// listed in odd rounds, reversed in even ones, so that no server always
// runs right after the same one.
func roundOrder(servers []*server, round int) []*server {
	order := slices.Clone(servers)
	if round%2 == 0 {
		slices.Reverse(order)
	}
	return order
}

// serverIDWidth is the width of the longest server ID, to align the log lines.
func serverIDWidth(servers []*server) int {
	w := 0
	for _, s := range servers {
		w = max(w, len(s.id))
	}
	return w
}

// logNote says how many log lines each server wrote per request: the
// access log is part of what a request costs, and each build writes the
// one its defaults choose.
func (h *harness) logNote(servers []*server) string {
	var parts []string
	for _, srv := range servers {
		if h.sent[srv.id] > 0 {
			parts = append(parts, fmt.Sprintf("%s %.2f", srv.label, float64(h.logged[srv.id])/float64(h.sent[srv.id])))
		}
	}
	if len(parts) == 0 {
		return ""
	}
	return "Log lines written per request (all measured runs, warm-up included): " + strings.Join(parts, ", ") + "."
}

// pushScenario is the push scenario of all.
func pushScenario(all []*scenario) *scenario {
	for _, sc := range all {
		if sc.id == scenarioPush {
			return sc
		}
	}
	return nil
}
