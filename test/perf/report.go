package main

import (
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"
)

// report is everything the harness prints.
type report struct {
	date    time.Time
	command string
	tree    string // the working tree's branch and commit, as describeTree says
	machine machine
	method  method

	scenarios []*scenario
	servers   []*server
	results   map[string]map[string]summary    // scenario ID → server ID → summary
	runs      map[string]map[string][]runStats // scenario ID → server ID → one per round, in order
	coldStart map[string]time.Duration         // server ID → median cold start
	coldTimes map[string][]time.Duration       // server ID → every cold start, in order
	coldRuns  int
	// fullStore is, per server ID, the peak RSS of a fresh server after
	// fullStoreN push deliveries with distinct IDs, one per round in order.
	fullStore  map[string][]int64
	fullStoreN int
	svgPath    string   // as given on the command line, for the image link
	notes      []string // anything the reader must know about this run
}

type machine struct {
	nproc     int
	cpu       string
	kernel    string
	goVersion string
}

type method struct {
	rounds      int
	duration    time.Duration
	warmup      time.Duration
	conns       int
	clerkTokens int
	serverCPU   string // "" when not pinned
	loadCPU     string
	compare     string // git ref of the comparison service, if any
}

// goal is one target, checked against a figure.
type goal struct {
	what     string
	measured float64
	unit     string // "×", "ms", "MiB"
	limit    float64
	atMost   bool      // the measurement must be <= limit (else >=)
	strict   bool      // < (or >) instead
	rounds   []float64 // for a ratio, its value in each round (measured is their median)
}

func (t goal) met() bool {
	switch {
	case math.IsNaN(t.measured):
		return false
	case t.atMost && t.strict:
		return t.measured < t.limit
	case t.atMost:
		return t.measured <= t.limit
	case t.strict:
		return t.measured > t.limit
	}
	return t.measured >= t.limit
}

// verdict is how the report judges t: met, missed by how much, or not
// measured.
func (t goal) verdict() string {
	switch {
	case math.IsNaN(t.measured) || math.IsInf(t.measured, 0):
		return "not measured in this run"
	case t.met():
		return "met"
	}
	by := math.Abs(t.measured - t.limit)
	if by == 0 {
		return "**missed** (at the limit)" // strict: under or over it
	}
	digits := 1
	if t.unit == "×" {
		digits = 2
	}
	for digits < 6 && math.Round(by*math.Pow10(digits)) == 0 {
		digits++ // never "missed by 0.00×"
	}
	s := strconv.FormatFloat(by, 'f', digits, 64)
	if t.unit == "×" {
		return "**missed** by " + s + "×"
	}
	return "**missed** by " + s + " " + t.unit
}

func (r *report) get(sc, srv string) summary { return r.results[sc][srv] }

// has says whether server id is part of this run.
func (r *report) has(id string) bool {
	for _, s := range r.servers {
		if s.id == id {
			return true
		}
	}
	return false
}

// perRound is figure fig of server srv in each round of scenario sc, in
// order.
func (r *report) perRound(sc, srv string, fig func(runStats) float64) []float64 {
	var xs []float64
	for _, rs := range r.runs[sc][srv] {
		xs = append(xs, fig(rs))
	}
	return xs
}

func rps(rs runStats) float64 { return rs.rps }

// speedup is how many times server a's req/s is server b's in scenario sc:
// the median over the rounds of the ratio within each round. The runs of a
// round are adjacent in time, so a ratio within a round cancels most of
// what other load on the machine does to both; with no runs recorded it
// is the ratio of the medians.
func (r *report) speedup(sc, a, b string) float64 {
	if xs := r.roundRatios(sc, a, b); xs != nil {
		return median(xs)
	}
	return ratio(r.get(sc, a).rps, r.get(sc, b).rps)
}

// roundRatios is the ratio of server a's req/s to server b's in each round
// of scenario sc, in order; nil without runs recorded for both.
func (r *report) roundRatios(sc, a, b string) []float64 {
	return pairedRatios(r.perRound(sc, a, rps), r.perRound(sc, b, rps))
}

// ratioGoal is the target that pushgate's req/s in sc be at least limit
// times server b's.
func (r *report) ratioGoal(what, sc, b string, limit float64) goal {
	return goal{what: what, measured: r.speedup(sc, serverService, b), unit: "×", limit: limit,
		rounds: r.roundRatios(sc, serverService, b)}
}

// goals are the targets of issue 7, as measured in this run.
func (r *report) goals() []goal {
	return []goal{
		r.ratioGoal("push, reused Google token: pushgate ≥ 0.7× the ceiling", scenarioPush, serverCeiling, 0.7),
		r.ratioGoal("push, reused Google token: pushgate ≥ 3× the baseline", scenarioPush, serverBaseline, 3),
		r.ratioGoal("/whoami, reused Google token: pushgate ≥ 0.7× the ceiling", scenarioWhoami, serverCeiling, 0.7),
		r.ratioGoal("/whoami, distinct Clerk tokens: pushgate ≥ 2× the baseline", scenarioClerk, serverBaseline, 2),
		{what: "cold start of pushgate ≤ 20 ms",
			measured: float64(r.coldStart[serverService]) / float64(time.Millisecond), unit: "ms", limit: 20, atMost: true},
		{what: "peak RSS of pushgate under the push load ≤ 32 MiB",
			measured: mib(r.get(scenarioPush, serverService).rss), unit: "MiB", limit: 32, atMost: true},
	}
}

// writeMarkdown prints the report, ready to paste into the README: the
// comparison with the ref (when there is one), the figures of every
// scenario and server, start-up and memory, issue 7's targets (when the
// baseline and the ceiling ran) and the notes.
func (r *report) writeMarkdown(w io.Writer) {
	p := func(format string, args ...any) { fmt.Fprintf(w, format, args...) }
	p("Measured on %s, working tree %s, with\n\n```\n%s\n```\n",
		r.date.UTC().Format("2006-01-02 15:04 MST"), r.tree, r.command)
	p("\nMachine: %d CPUs (`nproc`), %s, %s, %s.\n", r.machine.nproc, r.machine.cpu, r.machine.kernel, r.machine.goVersion)
	r.writeMethod(w)
	if ref := r.compareServer(); ref != nil {
		r.writeVersus(w, ref)
	}
	r.writeScenarios(w)
	r.writeStartup(w)
	if r.has(serverBaseline) && r.has(serverCeiling) {
		p("\nIssue 7's targets, against the naive baseline and the bare ceiling:\n")
		p("\n| target | measured | per round | |\n|---|--:|--:|---|\n")
		for _, t := range r.goals() {
			p("| %s | %s | %s | %s |\n", t.what, fmtGoal(t), fmtRounds(t.rounds), t.verdict())
		}
	}
	if r.svgPath != "" {
		p("\n![Requests per second per scenario and server](%s)\n", r.svgPath)
	}
	if notes := r.allNotes(); len(notes) > 0 {
		p("\n")
		for _, n := range notes {
			p("- %s\n", n)
		}
	}
}

func (r *report) writeMethod(w io.Writer) {
	p := func(format string, args ...any) { fmt.Fprintf(w, format, args...) }
	m := r.method
	if m.serverCPU != "" {
		p("\nMethod: each server runs pinned to CPU %s (`taskset -c %s`) with `GOMAXPROCS=1`, the load generator "+
			"on CPU %s. ", m.serverCPU, m.serverCPU, m.loadCPU)
	} else {
		p("\nMethod: not pinned (fewer than two CPUs or -pin=false); every server runs with `GOMAXPROCS=1`. ")
	}
	p("The generator keeps %d HTTP/1.1 keep-alive connections busy on loopback (closed loop, pre-built requests, "+
		"tokens minted before timing). Each run starts a fresh server, warms it up for %v and measures for %v; "+
		"runs are interleaved server by server, the order reversed every other round, over %s. "+
		"Figures are medians over the rounds; CPU/req is the server's user+system time (`/proc/<pid>/stat`) "+
		"per answered request (each part its own median), peak RSS its `VmHWM`. A ratio of two servers is "+
		"the median of the ratios within each round (each cold start), not the ratio of the medians. "+
		"Every server runs with its own defaults (the access log included) and logs to a file.\n",
		m.conns, m.warmup, m.duration, plural(m.rounds, "round"))
}

func (r *report) writeScenarios(w io.Writer) {
	p := func(format string, args ...any) { fmt.Fprintf(w, format, args...) }
	bounds := r.has(serverBaseline) && r.has(serverCeiling)
	p("\n| scenario | server | req/s | p50 | p99 | CPU/req (user + sys) | peak RSS |")
	if bounds {
		p(" vs baseline | vs ceiling |\n|---|---|--:|--:|--:|--:|--:|--:|--:|\n")
	} else {
		p("\n|---|---|--:|--:|--:|--:|--:|\n")
	}
	for _, sc := range r.scenarios {
		for i, srv := range r.servers {
			s := r.get(sc.id, srv.id)
			title, name := "", srv.label
			if i == 0 {
				title = sc.title
			}
			if srv.id == serverService {
				name = "**" + name + "**"
			}
			p("| %s | %s | %s%s | %s | %s | %s | %s |", title, name, thousands(s.rps), r.flags(s),
				fmtLatency(s.p50), fmtLatency(s.p99), fmtCPUSplit(s), fmtMiB(s.rss))
			if bounds {
				p(" %s | %s |", fmtRatio(r.speedup(sc.id, srv.id, serverBaseline)),
					fmtRatio(r.speedup(sc.id, srv.id, serverCeiling)))
			}
			p("\n")
		}
	}
}

func (r *report) writeStartup(w io.Writer) {
	p := func(format string, args ...any) { fmt.Fprintf(w, format, args...) }
	p("\n| start-up and memory |")
	for _, srv := range r.servers {
		p(" %s |", srv.label)
	}
	p("\n|---|")
	for range r.servers {
		p("--:|")
	}
	p("\n| cold start: exec to the first `/healthz` 200 (median of %d, binary in the page cache) |", r.coldRuns)
	for _, srv := range r.servers {
		p(" %s |", fmtMillis(r.coldStart[srv.id]))
	}
	p("\n| peak RSS under the push load |")
	for _, srv := range r.servers {
		p(" %s |", fmtMiB(r.get(scenarioPush, srv.id).rss))
	}
	if r.fullStoreN > 0 {
		p("\n| %s |", r.fullStoreTitle())
		for _, srv := range r.servers {
			p(" %s |", fmtMiB(r.fullStoreRSS(srv.id)))
		}
	}
	p("\n")
}

// fullStoreTitle names the full-store figure.
func (r *report) fullStoreTitle() string {
	return fmt.Sprintf("peak RSS with the once-only store full (%s deliveries, distinct IDs, to a fresh server)",
		thousands(float64(r.fullStoreN)))
}

// fullStoreRSS is the median over the rounds of server id's peak RSS with
// the store full; 0 when not measured.
func (r *report) fullStoreRSS(id string) int64 {
	return int64(median(floats(r.fullStore[id])))
}

// flags marks a cell whose runs were cut short or had errors.
func (r *report) flags(s summary) string {
	var f string
	if s.exhausted > 0 {
		f += "¹"
	}
	if s.errors > 0 {
		f += "²"
	}
	return f
}

func (r *report) allNotes() []string {
	notes := append([]string{}, r.notes...)
	var cut, errs []string
	for _, sc := range r.scenarios {
		for _, srv := range r.servers {
			s := r.get(sc.id, srv.id)
			if s.exhausted > 0 {
				cut = append(cut, fmt.Sprintf("%s / %s in %d of %d runs", sc.id, srv.id, s.exhausted, s.runs))
			}
			if s.errors > 0 {
				errs = append(errs, fmt.Sprintf("%s / %s: %d of %d", sc.id, srv.id, s.errors, s.errors+s.requests))
			}
		}
	}
	if len(cut) > 0 {
		notes = append(notes, fmt.Sprintf("¹ The %s distinct Clerk tokens ran out before the end of the measured "+
			"window (%s); req/s is over the time they lasted.", thousands(float64(r.method.clerkTokens)), strings.Join(cut, ", ")))
	}
	if len(errs) > 0 {
		notes = append(notes, "² Requests that failed (not counted in req/s or latency): "+strings.Join(errs, ", ")+".")
	}
	return notes
}
