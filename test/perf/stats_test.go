package main

import (
	"math"
	"testing"
	"time"
)

func TestPercentile(t *testing.T) {
	t.Parallel()
	ms := func(ns ...int) []time.Duration {
		out := make([]time.Duration, len(ns))
		for i, n := range ns {
			out[i] = time.Duration(n) * time.Millisecond
		}
		return out
	}
	hundred := make([]time.Duration, 100)
	for i := range hundred {
		hundred[i] = time.Duration(i+1) * time.Millisecond
	}
	tests := []struct {
		name   string
		sorted []time.Duration
		p      float64
		want   time.Duration
	}{
		{"empty", nil, 50, 0},
		{"one value", ms(7), 99, 7 * time.Millisecond},
		{"median of odd count", ms(1, 2, 3, 4, 5), 50, 3 * time.Millisecond},
		{"median of even count is the lower middle", ms(1, 2, 3, 4), 50, 2 * time.Millisecond},
		{"p99 of 1..100", hundred, 99, 99 * time.Millisecond},
		{"p50 of 1..100", hundred, 50, 50 * time.Millisecond},
		{"p100 is the maximum", hundred, 100, 100 * time.Millisecond},
		{"tiny p is the minimum", hundred, 0.001, 1 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := percentile(tt.sorted, tt.p); got != tt.want {
				t.Errorf("percentile(%v, %v) = %v, want %v", tt.sorted, tt.p, got, tt.want)
			}
		})
	}
}

func TestMedianAndRatio(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		xs   []float64
		want float64
	}{
		{"none", nil, 0},
		{"odd", []float64{3, 1, 2}, 2},
		{"even", []float64{4, 1, 3, 2}, 2.5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			in := append([]float64(nil), tt.xs...)
			if got := median(tt.xs); got != tt.want {
				t.Errorf("median(%v) = %v, want %v", tt.xs, got, tt.want)
			}
			for i := range in {
				if in[i] != tt.xs[i] {
					t.Fatalf("median changed its input: %v, was %v", tt.xs, in)
				}
			}
		})
	}
	if got := ratio(3, 4); got != 0.75 {
		t.Errorf("ratio(3, 4) = %v, want 0.75", got)
	}
	if got := ratio(1, 0); !math.IsNaN(got) {
		t.Errorf("ratio(1, 0) = %v, want NaN", got)
	}
}

func TestNewRunStatsAndSummarize(t *testing.T) {
	t.Parallel()
	lat := []time.Duration{4 * time.Millisecond, 1 * time.Millisecond, 3 * time.Millisecond, 2 * time.Millisecond}
	rs := newRunStats(loadResult{requests: 4, elapsed: 2 * time.Second, latencies: lat},
		cpuUse{user: 30 * time.Millisecond, sys: 10 * time.Millisecond}, 1<<20)
	if rs.rps != 2 {
		t.Errorf("rps = %v, want 2", rs.rps)
	}
	if rs.cpuPerReq != 10*time.Millisecond || rs.sysPerReq != 2500*time.Microsecond {
		t.Errorf("cpuPerReq, sysPerReq = %v, %v, want 10ms, 2.5ms", rs.cpuPerReq, rs.sysPerReq)
	}
	if rs.p50 != 2*time.Millisecond || rs.p99 != 4*time.Millisecond {
		t.Errorf("p50, p99 = %v, %v, want 2ms, 4ms", rs.p50, rs.p99)
	}

	runs := []runStats{
		{rps: 100, p50: time.Millisecond, rss: 30, requests: 10, cpuPerReq: 50, sysPerReq: 10},
		{rps: 300, p50: 3 * time.Millisecond, rss: 10, requests: 10, errors: 1, exhausted: true, cpuPerReq: 60, sysPerReq: 45},
		{rps: 200, p50: 2 * time.Millisecond, rss: 20, requests: 10, cpuPerReq: 40, sysPerReq: 20},
	}
	s := summarize(runs)
	// The user parts are 40, 15, 20: each part is the median of its own, not
	// the difference of the medians (50 - 20).
	if s.cpuPerReq != 50 || s.userPerReq != 20 || s.sysPerReq != 20 {
		t.Errorf("CPU medians: total %d user %d sys %d, want 50, 20, 20", s.cpuPerReq, s.userPerReq, s.sysPerReq)
	}
	if s.rps != 200 || s.p50 != 2*time.Millisecond || s.rss != 20 {
		t.Errorf("medians: rps %v p50 %v rss %v, want 200, 2ms, 20", s.rps, s.p50, s.rss)
	}
	if s.maxRSS != 30 || s.minRPS != 100 || s.maxRPS != 300 {
		t.Errorf("extremes: maxRSS %v minRPS %v maxRPS %v, want 30, 100, 300", s.maxRSS, s.minRPS, s.maxRPS)
	}
	if s.requests != 30 || s.errors != 1 || s.exhausted != 1 || s.runs != 3 {
		t.Errorf("counts: %+v", s)
	}
}

func TestPairedRatios(t *testing.T) {
	t.Parallel()
	got := pairedRatios([]float64{2, 3, 1}, []float64{1, 4, 0})
	if len(got) != 3 || got[0] != 2 || got[1] != 0.75 || !math.IsNaN(got[2]) {
		t.Errorf("pairedRatios = %v, want [2 0.75 NaN]", got)
	}
	for _, c := range [][2][]float64{{nil, nil}, {{1, 2}, {1}}} {
		if got := pairedRatios(c[0], c[1]); got != nil {
			t.Errorf("pairedRatios(%v, %v) = %v, want nil", c[0], c[1], got)
		}
	}
	if got := medianDuration([]time.Duration{3, 1, 2}); got != 2 {
		t.Errorf("medianDuration = %v, want 2", got)
	}
}
