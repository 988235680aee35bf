package main

import (
	"bytes"
	"math"
	"strings"
	"testing"
	"time"
)

const refID = serverService + "@main"

// compareReport is a run of the working tree against main alone
// (-bounds=false), two rounds, two cold starts.
func compareReport() *report {
	r := testReport()
	r.method.rounds, r.method.compare = 2, "main"
	r.servers = []*server{
		{id: serverService, label: "pushgate"},
		{id: refID, label: "pushgate @ main", ref: "main", commit: "1f364e4"},
	}
	cpu := func(user, sys time.Duration) runStats {
		return runStats{rps: 1000, cpuPerReq: user + sys, sysPerReq: sys}
	}
	r.runs = map[string]map[string][]runStats{
		// Push: 1.00 and 1.04, median 1.02 > 1.00: missed.
		scenarioPush: {
			serverService: {cpu(30*time.Microsecond, 10*time.Microsecond), cpu(40*time.Microsecond, 12*time.Microsecond)},
			refID:         {cpu(30*time.Microsecond, 10*time.Microsecond), cpu(38*time.Microsecond, 12*time.Microsecond)},
		},
		// /whoami: 1.10 in both rounds: met.
		scenarioWhoami: {
			serverService: {cpu(22*time.Microsecond, 11*time.Microsecond), cpu(22*time.Microsecond, 11*time.Microsecond)},
			refID:         {cpu(20*time.Microsecond, 10*time.Microsecond), cpu(20*time.Microsecond, 10*time.Microsecond)},
		},
		// Clerk: twice the ref's, and exempt.
		scenarioClerk: {
			serverService: {cpu(100*time.Microsecond, 20*time.Microsecond), cpu(100*time.Microsecond, 20*time.Microsecond)},
			refID:         {cpu(50*time.Microsecond, 10*time.Microsecond), cpu(50*time.Microsecond, 10*time.Microsecond)},
		},
	}
	r.results = map[string]map[string]summary{}
	for sc, bySrv := range r.runs {
		r.results[sc] = map[string]summary{}
		for srv, rs := range bySrv {
			r.results[sc][srv] = summarize(rs)
		}
	}
	// Cold starts: 1.25 and 1.0, median 1.125: met, though the ratio of
	// the medians (11 ms / 9 ms) would not be.
	r.coldTimes = map[string][]time.Duration{
		serverService: {10 * time.Millisecond, 12 * time.Millisecond},
		refID:         {8 * time.Millisecond, 12 * time.Millisecond},
	}
	r.coldStart = map[string]time.Duration{serverService: 11 * time.Millisecond, refID: 10 * time.Millisecond}
	r.fullStoreN = 110000
	r.fullStore = map[string][]int64{serverService: {40 << 20, 44 << 20}, refID: {20 << 20, 22 << 20}}
	return r
}

func TestWriteVersus(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	compareReport().writeMarkdown(&buf)
	out := buf.String()
	for _, want := range []string{
		"The working tree (pushgate) against `main` (1f364e4), with the targets of issue 15:",
		"| figure | pushgate | pushgate @ main | ratio | per round | target | |",
		"| server CPU per push delivery, reused Google token | 46.0 µs (35.0 + 11.0) | 45.0 µs (34.0 + 11.0) " +
			"| 1.02× | 1.00 · 1.04 | ≤ 1.00× | **missed** by 0.02× |",
		"| server CPU per `/whoami`, reused Google token | 33.0 µs (22.0 + 11.0) | 30.0 µs (20.0 + 10.0) " +
			"| 1.10× | 1.10 · 1.10 | ≤ 1.15× | met |",
		"| server CPU per `/whoami`, distinct Clerk tokens | 120.0 µs (100.0 + 20.0) | 60.0 µs (50.0 + 10.0) " +
			"| 2.00× | 2.00 · 2.00 | – | exempt: clerk-sdk-go's own cost |",
		"| cold start: exec to the first `/healthz` 200 | 11.00 ms | 10.00 ms | 1.12× | 1.25 · 1.00 | ≤ 1.15× | met |",
		"| peak RSS with the once-only store full (110,000 deliveries, distinct IDs, to a fresh server) " +
			"| 42.0 MiB | 21.0 MiB | 2.00× | 2.00 · 2.00 | < 64 MiB | met |",
		"| peak RSS with the once-only store full (110,000 deliveries, distinct IDs, to a fresh server) " +
			"| 42.0 MiB | 21.0 MiB |\n",
		"Ratios are pushgate / pushgate @ main; \"per round\" lists",
		// Without the baseline and the ceiling: no columns against them.
		"| scenario | server | req/s | p50 | p99 | CPU/req (user + sys) | peak RSS |\n|---|---|--:|--:|--:|--:|--:|\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q\n--- report ---\n%s", want, out)
		}
	}
	for _, unwanted := range []string{"vs baseline", "Issue 7's targets", "\n\n\n"} {
		if strings.Contains(out, unwanted) {
			t.Errorf("report holds %q without the baseline and the ceiling\n%s", unwanted, out)
		}
	}
}

func TestVersusVerdicts(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		edit    func(r *report)
		row     int
		verdict string
	}{
		{"push CPU equal to the ref's is met", func(r *report) {
			r.runs[scenarioPush][serverService] = r.runs[scenarioPush][refID]
		}, 0, "met"},
		{"a store just under 64 MiB is met", func(r *report) {
			r.fullStore[serverService] = []int64{64<<20 - 1<<10, 64<<20 - 1<<10}
		}, 4, "met"},
		{"a store of exactly 64 MiB is not under it", func(r *report) {
			r.fullStore[serverService] = []int64{64 << 20, 64 << 20}
		}, 4, "**missed** (at the limit)"},
		{"no full store measured", func(r *report) {
			r.fullStore = map[string][]int64{}
		}, 4, "not measured in this run"},
		{"no push runs", func(r *report) {
			delete(r.runs, scenarioPush)
			delete(r.results, scenarioPush)
		}, 0, "not measured in this run"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := compareReport()
			tt.edit(r)
			v := r.versusRows(r.compareServer())[tt.row]
			if got := v.check.verdict(); got != tt.verdict {
				t.Errorf("%s: verdict %q (measured %v), want %q", v.what, got, v.check.measured, tt.verdict)
			}
		})
	}
}

func TestGoalMetAndVerdict(t *testing.T) {
	t.Parallel()
	tests := []struct {
		g       goal
		verdict string
	}{
		{goal{measured: 1.15, limit: 1.15, unit: "×", atMost: true}, "met"},
		{goal{measured: 1.1501, limit: 1.15, unit: "×", atMost: true}, "**missed** by 0.0001×"},
		{goal{measured: 64, limit: 64, unit: "MiB", atMost: true, strict: true}, "**missed** (at the limit)"},
		{goal{measured: 70.26, limit: 64, unit: "MiB", atMost: true, strict: true}, "**missed** by 6.3 MiB"},
		{goal{measured: 2, limit: 2, unit: "×", strict: true}, "**missed** (at the limit)"},
		{goal{measured: 2.0004, limit: 2, unit: "×", strict: true}, "met"},
		{goal{measured: 63.96, limit: 64, unit: "MiB", atMost: true, strict: true}, "met"},
		{goal{measured: 0.5, limit: 0.7, unit: "×"}, "**missed** by 0.20×"},
		{goal{measured: math.NaN(), limit: 1, unit: "×", atMost: true}, "not measured in this run"},
	}
	for _, tt := range tests {
		if got := tt.g.verdict(); got != tt.verdict {
			t.Errorf("verdict of %v against %v (atMost %v, strict %v) = %q, want %q",
				tt.g.measured, tt.g.limit, tt.g.atMost, tt.g.strict, got, tt.verdict)
		}
	}
}

func TestRoundOrder(t *testing.T) {
	t.Parallel()
	servers := []*server{{id: "a"}, {id: "b"}, {id: "c"}}
	ids := func(ss []*server) string {
		var b strings.Builder
		for _, s := range ss {
			b.WriteString(s.id)
		}
		return b.String()
	}
	for round, want := range map[int]string{1: "abc", 2: "cba", 3: "abc"} {
		if got := ids(roundOrder(servers, round)); got != want {
			t.Errorf("roundOrder(round %d) = %s, want %s", round, got, want)
		}
	}
	if got := ids(servers); got != "abc" {
		t.Errorf("roundOrder changed its input to %s", got)
	}
}
