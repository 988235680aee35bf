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
	machine machine
	method  method

	scenarios []*scenario
	servers   []*server
	results   map[string]map[string]summary    // scenario ID → server ID → summary
	runs      map[string]map[string][]runStats // scenario ID → server ID → one per round, in order
	coldStart map[string]time.Duration         // server ID → median cold start
	coldRuns  int
	svgPath   string   // as given on the command line, for the image link
	notes     []string // anything the reader must know about this run
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

// goal is one target of issue 7, checked against the figures.
type goal struct {
	what     string
	measured float64
	unit     string // "×", "ms", "MiB"
	limit    float64
	atMost   bool      // the measurement must be <= limit (else >=)
	rounds   []float64 // for a ratio, its value in each round (measured is their median)
}

func (t goal) met() bool {
	if math.IsNaN(t.measured) {
		return false
	}
	if t.atMost {
		return t.measured <= t.limit
	}
	return t.measured >= t.limit
}

func (r *report) get(sc, srv string) summary { return r.results[sc][srv] }

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
	ra, rb := r.runs[sc][a], r.runs[sc][b]
	if len(ra) == 0 || len(ra) != len(rb) {
		return nil
	}
	xs := make([]float64, len(ra))
	for i := range ra {
		xs[i] = ratio(ra[i].rps, rb[i].rps)
	}
	return xs
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

// writeMarkdown prints the report, ready to paste into the README.
func (r *report) writeMarkdown(w io.Writer) {
	p := func(format string, args ...any) { fmt.Fprintf(w, format, args...) }
	p("Measured on %s with\n\n```\n%s\n```\n\n", r.date.UTC().Format("2006-01-02 15:04 MST"), r.command)
	p("Machine: %d CPUs (`nproc`), %s, %s, %s.\n\n", r.machine.nproc, r.machine.cpu, r.machine.kernel, r.machine.goVersion)
	m := r.method
	if m.serverCPU != "" {
		p("Method: every server is pinned to CPU %s (`taskset -c %s`) with `GOMAXPROCS=1`, all three alike, "+
			"so the figures compare work per core; the load generator runs on CPU %s. ", m.serverCPU, m.serverCPU, m.loadCPU)
	} else {
		p("Method: not pinned (fewer than two CPUs or -pin=false): server and load generator share the CPUs; " +
			"every server runs with `GOMAXPROCS=1`. ")
	}
	p("The generator keeps %d HTTP/1.1 keep-alive connections busy on loopback (closed loop: the next request "+
		"leaves as soon as the last is answered), with pre-built requests and tokens minted before timing. "+
		"Each run starts a fresh server, warms it up for %v and measures for %v; runs are interleaved "+
		"(server after server, then the next scenario) over %s, and every figure is the median "+
		"over the rounds. CPU/req is the server's user+system time (`/proc/<pid>/stat`) over the measured "+
		"window divided by the requests answered; peak RSS is its `VmHWM`. The \"vs\" columns are the median over "+
		"the rounds of the ratio of req/s within each round. The service's log (at `ACCESS_LOG`'s "+
		"default, an access line only for a status of 400 or more) and the baseline's access log (one JSON "+
		"line per request) go to a file.\n\n",
		m.conns, m.warmup, m.duration, plural(m.rounds, "round"))

	p("| scenario | server | req/s | p50 | p99 | CPU/req | peak RSS | vs baseline | vs ceiling |\n")
	p("|---|---|--:|--:|--:|--:|--:|--:|--:|\n")
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
			p("| %s | %s | %s%s | %s | %s | %s | %s | %s | %s |\n", title, name,
				thousands(s.rps), r.flags(s), fmtLatency(s.p50), fmtLatency(s.p99), fmtCPU(s.cpuPerReq),
				fmtMiB(s.rss), fmtRatio(r.speedup(sc.id, srv.id, serverBaseline)),
				fmtRatio(r.speedup(sc.id, srv.id, serverCeiling)))
		}
	}
	p("\n| start-up and memory |")
	for _, srv := range r.servers {
		p(" %s |", srv.label)
	}
	p("\n|---|")
	for range r.servers {
		p("--:|")
	}
	p("\n| cold start: exec to the first `/healthz` 200 (median of %d) |", r.coldRuns)
	for _, srv := range r.servers {
		p(" %s |", fmtMillis(r.coldStart[srv.id]))
	}
	p("\n| peak RSS under the push load (`VmHWM`, median of %d) |", m.rounds)
	for _, srv := range r.servers {
		p(" %s |", fmtMiB(r.get(scenarioPush, srv.id).rss))
	}
	p("\n\n| target | measured | per round | |\n|---|--:|--:|---|\n")
	for _, t := range r.goals() {
		verdict := "met"
		switch {
		case math.IsNaN(t.measured):
			verdict = "not measured in this run"
		case !t.met():
			verdict = "**missed**"
		}
		p("| %s | %s | %s | %s |\n", t.what, fmtGoal(t), fmtRounds(t.rounds), verdict)
	}
	if r.svgPath != "" {
		p("\n![Requests per second per scenario: pushgate, naive baseline, bare ceiling](%s)\n", r.svgPath)
	}
	if notes := r.allNotes(); len(notes) > 0 {
		p("\n")
		for _, n := range notes {
			p("- %s\n", n)
		}
	}
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
	if split := r.cpuSplit(); split != "" {
		notes = append(notes, split)
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

// cpuSplit says how each CPU/req divides into user and system time: the
// system part is mostly the kernel reading requests and writing responses
// on loopback, the user part the server's own code and net/http's.
func (r *report) cpuSplit() string {
	var parts []string
	for _, sc := range r.scenarios {
		var srvs []string
		for _, srv := range r.servers {
			s := r.get(sc.id, srv.id)
			if s.runs == 0 || s.userPerReq+s.sysPerReq == 0 {
				continue
			}
			srvs = append(srvs, fmt.Sprintf("%s %s + %s", srv.label, fmtCPU(s.userPerReq), fmtCPU(s.sysPerReq)))
		}
		if len(srvs) > 0 {
			parts = append(parts, sc.id+": "+strings.Join(srvs, ", "))
		}
	}
	if len(parts) == 0 {
		return ""
	}
	return "CPU/req as user + system time (medians over the rounds of each part): " + strings.Join(parts, "; ") + "."
}

func mib(b int64) float64 { return float64(b) / (1 << 20) }

func fmtMiB(b int64) string {
	if b == 0 {
		return "–"
	}
	return strconv.FormatFloat(mib(b), 'f', 1, 64) + " MiB"
}

func fmtRatio(x float64) string {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return "–"
	}
	return strconv.FormatFloat(x, 'f', 2, 64) + "×"
}

// fmtRounds lists a ratio's per-round values, or "–" for none or one.
func fmtRounds(xs []float64) string {
	if len(xs) < 2 {
		return "–"
	}
	parts := make([]string, len(xs))
	for i, x := range xs {
		parts[i] = "–" // a round whose denominator was 0
		if !math.IsNaN(x) && !math.IsInf(x, 0) {
			parts[i] = strconv.FormatFloat(x, 'f', 2, 64)
		}
	}
	return strings.Join(parts, " · ")
}

// fmtGoal prints a target's measurement with as many decimals as it takes
// (two for a ratio, one otherwise, up to four more, else every digit) for
// the figure not to contradict the verdict: 0.698× missing 0.7× prints so,
// not as 0.70×.
func fmtGoal(t goal) string {
	if math.IsNaN(t.measured) || math.IsInf(t.measured, 0) {
		return "–"
	}
	digits := 1
	if t.unit == "×" {
		digits = 2
	}
	agrees := func(s string) bool {
		shown, err := strconv.ParseFloat(s, 64)
		return err == nil && (goal{measured: shown, limit: t.limit, atMost: t.atMost}).met() == t.met()
	}
	s := strconv.FormatFloat(t.measured, 'f', -1, 64) // exact: always agrees
	for extra := range 5 {
		if short := strconv.FormatFloat(t.measured, 'f', digits+extra, 64); agrees(short) {
			s = short
			break
		}
	}
	if t.unit == "×" {
		return s + "×"
	}
	return s + " " + t.unit
}

// fmtLatency prints microseconds below 1 ms, else milliseconds.
func fmtLatency(d time.Duration) string {
	switch {
	case d == 0:
		return "–"
	case d < time.Millisecond:
		return strconv.FormatInt(d.Microseconds(), 10) + " µs"
	}
	return fmtMillis(d)
}

func fmtMillis(d time.Duration) string {
	if d == 0 {
		return "–"
	}
	return strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'f', 2, 64) + " ms"
}

func fmtCPU(d time.Duration) string {
	if d == 0 {
		return "–"
	}
	return strconv.FormatFloat(float64(d)/float64(time.Microsecond), 'f', 1, 64) + " µs"
}

// thousands prints x rounded to a whole number with thin thousands
// separators (a comma, as Markdown renders plainly).
func thousands(x float64) string {
	if math.IsNaN(x) {
		return "–"
	}
	s := strconv.FormatInt(int64(math.Round(x)), 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}
