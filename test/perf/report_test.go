package main

import (
	"bytes"
	"encoding/xml"
	"io"
	"math"
	"strings"
	"testing"
	"time"
)

func testReport() *report {
	r := &report{
		date:    time.Date(2026, 1, 2, 3, 4, 0, 0, time.UTC),
		command: "go run ./test/perf -rounds 3",
		tree:    "core-perf 1f364e4",
		machine: machine{nproc: 2, cpu: "Test CPU", kernel: "Linux 6.0", goVersion: "go1.26"},
		method: method{rounds: 3, duration: 5 * time.Second, warmup: time.Second, conns: 16, clerkTokens: 40000,
			serverCPU: "0", loadCPU: "1"},
		servers: []*server{
			{id: serverService, label: "pushgate"},
			{id: serverBaseline, label: "naive baseline"},
			{id: serverCeiling, label: "bare ceiling"},
		},
		scenarios: []*scenario{
			{id: scenarioPush, title: "push, reused Google token"},
			{id: scenarioClerk, title: "/whoami, distinct Clerk tokens"},
			{id: scenarioWhoami, title: "/whoami, reused Google token"},
		},
		coldStart: map[string]time.Duration{serverService: 8 * time.Millisecond, serverBaseline: 9 * time.Millisecond,
			serverCeiling: 3 * time.Millisecond},
		coldRuns: 5,
		svgPath:  "docs/perf.svg",
	}
	r.results = map[string]map[string]summary{
		scenarioPush: {
			serverService: {rps: 30000, p50: 500 * time.Microsecond, p99: 2 * time.Millisecond, cpuPerReq: 30 * time.Microsecond,
				userPerReq: 18 * time.Microsecond, sysPerReq: 12 * time.Microsecond, rss: 20 << 20, runs: 3},
			serverBaseline: {rps: 10000, p50: 1500 * time.Microsecond, rss: 40 << 20, runs: 3},
			serverCeiling:  {rps: 40000, rss: 10 << 20, runs: 3},
		},
		scenarioClerk: {
			serverService:  {rps: 9000, exhausted: 2, runs: 3},
			serverBaseline: {rps: 5000, errors: 3, requests: 997, runs: 3},
			serverCeiling:  {rps: 50000, runs: 3},
		},
		scenarioWhoami: {
			serverService:  {rps: 30000, runs: 3},
			serverBaseline: {rps: 12000, runs: 3},
			serverCeiling:  {rps: 50000, runs: 3},
		},
	}
	return r
}

func TestWriteMarkdown(t *testing.T) {
	t.Parallel()
	r := testReport()
	// Per-round runs for the whoami ratio to the ceiling only: its verdict
	// comes from their median, 0.66, not from the medians' ratio (0.60),
	// and they are listed.
	r.runs = map[string]map[string][]runStats{scenarioWhoami: {
		serverService: {{rps: 33000}, {rps: 34000}, {rps: 24000}},
		serverCeiling: {{rps: 50000}, {rps: 50000}, {rps: 50000}},
	}}
	var buf bytes.Buffer
	r.writeMarkdown(&buf)
	out := buf.String()
	for _, want := range []string{
		"Measured on 2026-01-02 03:04 UTC, working tree core-perf 1f364e4, with\n\n```\ngo run ./test/perf -rounds 3\n```\n\n",
		"2 CPUs (`nproc`), Test CPU, Linux 6.0, go1.26",
		"| push, reused Google token | **pushgate** | 30,000 | 500 µs | 2.00 ms | 30.0 µs (18.0 + 12.0) | 20.0 MiB | 3.00× | 0.75× |",
		"|  | naive baseline | 10,000 | 1.50 ms | – | – | 40.0 MiB | 1.00× | 0.25× |",
		"| /whoami, distinct Clerk tokens | **pushgate** | 9,000¹ |",
		"|  | naive baseline | 5,000² |",
		"| cold start: exec to the first `/healthz` 200 (median of 5, binary in the page cache) | 8.00 ms | 9.00 ms | 3.00 ms |",
		"| peak RSS under the push load | 20.0 MiB | 40.0 MiB | 10.0 MiB |\n\n",
		"Issue 7's targets, against the naive baseline and the bare ceiling:",
		"| push, reused Google token: pushgate ≥ 0.7× the ceiling | 0.75× | – | met |",
		"| push, reused Google token: pushgate ≥ 3× the baseline | 3.00× | – | met |",
		"| /whoami, reused Google token: pushgate ≥ 0.7× the ceiling | 0.66× | 0.66 · 0.68 · 0.48 | **missed** by 0.04× |",
		"| /whoami, distinct Clerk tokens: pushgate ≥ 2× the baseline | 1.80× | – | **missed** by 0.20× |",
		"| cold start of pushgate ≤ 20 ms | 8.0 ms | – | met |",
		"| peak RSS of pushgate under the push load ≤ 32 MiB | 20.0 MiB | – | met |",
		"![Requests per second per scenario and server](docs/perf.svg)",
		"clerk / pushgate in 2 of 3 runs",
		"clerk / baseline: 3 of 1000",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q\n--- report ---\n%s", want, out)
		}
	}
	for _, unwanted := range []string{"\n\n\n", "The working tree (pushgate) against", "once-only store full"} {
		if strings.Contains(out, unwanted) {
			t.Errorf("report holds %q, want it not to (no -compare, no -full-store)\n%s", unwanted, out)
		}
	}
}

func TestChartSVG(t *testing.T) {
	t.Parallel()
	r := testReport()
	r.results[scenarioWhoami][serverBaseline] = summary{rps: math.NaN()} // a missing figure draws no bar
	svg := r.chart().svg()

	dec := xml.NewDecoder(bytes.NewReader(svg))
	bars := 0
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("SVG is not well-formed XML: %v\n%s", err, svg)
		}
		if el, ok := tok.(xml.StartElement); ok && el.Name.Local == "rect" {
			for _, a := range el.Attr {
				if a.Name.Local == "class" && a.Value == "bar" {
					bars++
				}
			}
		}
	}
	if bars != 8 {
		t.Errorf("got %d bars, want 8 (3 scenarios × 3 servers, one missing)", bars)
	}
	for _, want := range []string{"pushgate", "naive baseline", "bare ceiling", "/whoami, distinct Clerk tokens", "30k"} {
		if !bytes.Contains(svg, []byte(want)) {
			t.Errorf("SVG lacks %q", want)
		}
	}
}

func TestThousandsAndNiceStep(t *testing.T) {
	t.Parallel()
	for in, want := range map[float64]string{0: "0", 999: "999", 1000: "1,000", 1234567.4: "1,234,567", -4321: "-4,321"} {
		if got := thousands(in); got != want {
			t.Errorf("thousands(%v) = %q, want %q", in, got, want)
		}
	}
	for in, want := range map[float64]float64{0: 1, 3: 5, 12: 20, 9000: 10000, 4100: 5000, 1000: 1000} {
		if got := niceStep(in); got != want {
			t.Errorf("niceStep(%v) = %v, want %v", in, got, want)
		}
	}
}

func TestParseProc(t *testing.T) {
	t.Parallel()
	// Fields 14 and 15 (utime, stime) are 250 and 50 ticks; the command
	// name holds a space and a parenthesis.
	stat := "4242 (my (odd) srv) S 1 4242 4242 0 -1 4194560 1000 0 0 0 250 50 0 0 20 0 8 0 123 456 789"
	got, err := parseStatCPU(stat)
	if want := (cpuUse{user: 2500 * time.Millisecond, sys: 500 * time.Millisecond}); err != nil || got != want {
		t.Errorf("parseStatCPU = %+v, %v, want %+v", got, err, want)
	}
	if got.total() != 3*time.Second || got.sub(cpuUse{user: time.Second, sys: time.Second}) != (cpuUse{user: 1500 * time.Millisecond, sys: -500 * time.Millisecond}) {
		t.Errorf("total, sub of %+v are wrong", got)
	}
	if _, err := parseStatCPU("4242 (x) S 1"); err == nil {
		t.Error("parseStatCPU of a short line: no error")
	}
	status := "Name:\tpushgate\nVmPeak:\t  900000 kB\nVmHWM:\t   20480 kB\nVmRSS:\t   10240 kB\n"
	if got, err := parseStatusKB(status, "VmHWM"); err != nil || got != 20<<20 {
		t.Errorf("parseStatusKB(VmHWM) = %v, %v, want %d", got, err, 20<<20)
	}
	if _, err := parseStatusKB(status, "VmSwap"); err == nil {
		t.Error("parseStatusKB of a missing field: no error")
	}
}

func TestQuoteArgs(t *testing.T) {
	t.Parallel()
	got := strings.Join(quoteArgs([]string{"-rounds", "3", "-svg", "my charts/perf.svg", ""}), " ")
	want := `-rounds 3 -svg 'my charts/perf.svg' ''`
	if got != want {
		t.Errorf("quoteArgs = %s, want %s", got, want)
	}
}

func TestFmtRounds(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		in   []float64
		want string
	}{
		{nil, "–"},
		{[]float64{0.5}, "–"}, // one round: the median says it all
		{[]float64{0.514, 0.6}, "0.51 · 0.60"},
		{[]float64{0.5, math.NaN(), math.Inf(1)}, "0.50 · – · –"}, // a round with no figure to divide by
	} {
		if got := fmtRounds(c.in); got != c.want {
			t.Errorf("fmtRounds(%v) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestSpeedupIsPairedByRound(t *testing.T) {
	t.Parallel()
	r := testReport()
	// Round 2 was disturbed for both servers alike: the ratio within each
	// round stays 3, 3, 3, while the ratio of the medians would be 300/200.
	r.runs = map[string]map[string][]runStats{scenarioPush: {
		serverService:  {{rps: 300}, {rps: 30}, {rps: 600}},
		serverBaseline: {{rps: 100}, {rps: 10}, {rps: 200}},
	}}
	r.results[scenarioPush][serverService] = summary{rps: 300}
	r.results[scenarioPush][serverBaseline] = summary{rps: 100}
	if got := r.speedup(scenarioPush, serverService, serverBaseline); got != 3 {
		t.Errorf("speedup = %v, want 3", got)
	}
	r.runs[scenarioPush][serverService][1].rps = 90  // this round: 9
	r.runs[scenarioPush][serverService][2].rps = 200 // this round: 1
	if got := r.speedup(scenarioPush, serverService, serverBaseline); got != 3 {
		t.Errorf("speedup = %v, want the median 3 of 3, 9, 1", got)
	}
	// Without per-round runs it falls back to the ratio of the medians.
	if got := r.speedup(scenarioWhoami, serverService, serverCeiling); got != 0.6 {
		t.Errorf("speedup without runs = %v, want 0.6", got)
	}
}

// A comparison run's server ID holds its git ref; the files named after it
// (binary, log) must not grow directories from the ref's slashes.
func TestServerFileStem(t *testing.T) {
	t.Parallel()
	for _, ref := range []string{"HEAD", "origin/main", "refs/tags/v1.2"} {
		s := &server{id: serverService + "@" + ref}
		if stem := s.fileStem(); strings.ContainsRune(stem, '/') || !strings.HasPrefix(stem, serverService+"@") {
			t.Errorf("fileStem(%q) = %q", s.id, stem)
		}
	}
}

// TestFmtGoal checks that a target's figure never reads as its own limit
// when the verdict says otherwise.
func TestFmtGoal(t *testing.T) {
	for _, tt := range []struct {
		g    goal
		want string
	}{
		{goal{measured: 0.6984, limit: 0.7, unit: "×"}, "0.698×"},
		{goal{measured: 0.69999, limit: 0.7, unit: "×"}, "0.69999×"},
		{goal{measured: 0.7012, limit: 0.7, unit: "×"}, "0.70×"},
		{goal{measured: 0.49, limit: 0.7, unit: "×"}, "0.49×"},
		{goal{measured: 20.04, limit: 20, unit: "ms", atMost: true}, "20.04 ms"},
		{goal{measured: 19.97, limit: 20, unit: "ms", atMost: true}, "20.0 ms"}, // met, and 20.0 is too
		{goal{measured: 13.65, limit: 20, unit: "ms", atMost: true}, "13.7 ms"},
		{goal{measured: math.NaN(), limit: 20, unit: "ms", atMost: true}, "–"},
		{goal{measured: math.Inf(1), limit: 0.7, unit: "×"}, "–"},
		{goal{measured: 0.6999996, limit: 0.7, unit: "×"}, "0.6999996×"},
		{goal{measured: 20.000001, limit: 20, unit: "ms", atMost: true}, "20.000001 ms"},
	} {
		if got := fmtGoal(tt.g); got != tt.want {
			t.Errorf("fmtGoal(%v of %v) = %q, want %q", tt.g.measured, tt.g.limit, got, tt.want)
		}
	}
}

func TestFmtCPUSplit(t *testing.T) {
	t.Parallel()
	s := summary{cpuPerReq: 37800 * time.Nanosecond, userPerReq: 25700 * time.Nanosecond, sysPerReq: 12100 * time.Nanosecond}
	if got, want := fmtCPUSplit(s), "37.8 µs (25.7 + 12.1)"; got != want {
		t.Errorf("fmtCPUSplit = %q, want %q", got, want)
	}
	if got := fmtCPUSplit(summary{}); got != "–" {
		t.Errorf("fmtCPUSplit of nothing = %q, want –", got)
	}
}
